//! The fleet tier: replicas behind one load balancer act as one through Redis. A replica that
//! drops a secret's cached entries appends the name to a stream (`publisher.rs`); every replica
//! follows the stream from its own place and drops the names it reads (`reader.rs`). Redis
//! carries names only, never a value. Redis down or slow never fails a read or an event: every
//! call is bounded (`link.rs`), failures are counted and warned once per outage (`status.rs`),
//! and each replica goes on alone until Redis returns.

mod entry_id;
mod error;
mod link;
mod publisher;
mod reader;
mod status;

use std::sync::Arc;

use prometheus_client::registry::Registry;
use vaultgate_config::fleet_settings::FleetSettings;

pub use entry_id::EntryId;
pub use error::{FleetError, Operation};
pub use publisher::FleetSender;

use crate::secrets::cache::SecretCache;
use link::Link;
use status::FleetStatus;

/// Starts the publisher and the reader as tasks of the current runtime; returns what the
/// events path hands its names to.
pub fn start(
    settings: &FleetSettings,
    cache: Arc<SecretCache>,
    registry: &mut Registry,
) -> Result<FleetSender, FleetError> {
    let link = Link::open(settings)?;
    let origin = replica_id();
    let status = Arc::new(FleetStatus::new(settings.stream.clone(), origin.clone()));
    status.register(registry);
    log::info!(
        "fleet tier: invalidations go through {} on stream {} (this replica: {origin})",
        settings.shown,
        settings.stream
    );
    let reader = reader::Reader::new(link.clone(), settings.stream.clone(), origin.clone(), cache, status.clone());
    actix_web::rt::spawn(reader.run());
    Ok(publisher::start(link, settings.stream.clone(), origin, status))
}

/// A random id per process, so that a replica knows its own entries.
fn replica_id() -> String {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
