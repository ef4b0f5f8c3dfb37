//! Sends this replica's invalidations: the events path queues a name and returns at once; one
//! task appends the queued names to the stream (`XADD <stream> MAXLEN ~ 10000 * name <name>
//! origin <replica>`), a batch per round trip. A failure is counted and the names stay local
//! (the other replicas' TTL still bounds how long they serve the old value).

use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use super::error::{FleetError, Operation};
use super::link::{Link, bounded};
use super::status::FleetStatus;
use crate::secrets::SecretName;

/// Roughly how many entries the stream keeps: minutes of invalidations at any real rate, so a
/// replica back from a short outage finds its place.
pub const STREAM_MAX_LEN: usize = 10_000;

/// Names waiting to be sent; Event Grid delivers at most 5,000 events at once.
const QUEUE: usize = 10_000;

/// Names sent in one round trip at most.
const BATCH: usize = 500;

/// What the events path hands its names to.
#[derive(Clone)]
pub struct FleetSender {
    queue: mpsc::Sender<SecretName>,
    status: Arc<FleetStatus>,
}

impl FleetSender {
    /// Queues `name` for the other replicas; never waits.
    pub fn announce(&self, name: &SecretName) {
        if self.queue.try_send(name.clone()).is_err() {
            self.status.failed(&FleetError::QueueFull);
        }
    }
}

pub(super) fn start(link: Link, stream: String, origin: String, status: Arc<FleetStatus>) -> FleetSender {
    let (queue, names) = mpsc::channel(QUEUE);
    let publisher = Publisher { link, stream, origin, status: status.clone(), connection: None };
    actix_web::rt::spawn(publisher.run(names));
    FleetSender { queue, status }
}

struct Publisher {
    link: Link,
    stream: String,
    origin: String,
    status: Arc<FleetStatus>,
    connection: Option<MultiplexedConnection>,
}

impl Publisher {
    async fn run(mut self, mut names: mpsc::Receiver<SecretName>) {
        let mut batch = Vec::with_capacity(BATCH);
        while names.recv_many(&mut batch, BATCH).await > 0 {
            match self.send(&batch).await {
                Ok(()) => {
                    self.status.reachable();
                    self.status.sent.inc_by(batch.len() as u64);
                }
                Err(error) => self.status.failed(&error),
            }
            batch.clear();
        }
    }

    /// On the connection held, else (none yet, or it broke: Redis restarted) on a fresh one.
    async fn send(&mut self, names: &[SecretName]) -> Result<(), FleetError> {
        if let Some(mut held) = self.connection.take()
            && self.append(&mut held, names).await.is_ok()
        {
            self.connection = Some(held);
            return Ok(());
        }
        let mut fresh = self.link.connect().await?;
        self.append(&mut fresh, names).await?;
        self.connection = Some(fresh);
        Ok(())
    }

    async fn append(&self, connection: &mut MultiplexedConnection, names: &[SecretName]) -> Result<(), FleetError> {
        let mut pipeline = redis::pipe();
        for name in names {
            pipeline
                .cmd("XADD")
                .arg(&self.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(STREAM_MAX_LEN)
                .arg("*")
                .arg("name")
                .arg(name.as_str())
                .arg("origin")
                .arg(&self.origin)
                .ignore();
        }
        bounded(Operation::Xadd, self.link.timeout, pipeline.query_async::<()>(connection)).await
    }
}
