//! Follows the stream on every replica: `XREAD BLOCK` from this replica's own last id (no
//! consumer group, so every replica sees every entry) and drops the names other replicas
//! appended. It starts at the stream's newest entry. Before each read it asks `XINFO STREAM`
//! whether an entry after its place is gone: some entry was ever removed (`entries-added` above
//! `length`) and the stream's first entry is newer than its place (trimmed by `MAXLEN`), or, the
//! stream being empty, its last id is; or `XDEL` deleted one after it (`max-deleted-entry-id`). It may then have missed
//! invalidations, so it clears the whole cache once and goes on from the newest entry. On a failure it waits (1 s,
//! doubling to 30 s) and connects again, resuming from its last id.

use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;

use super::entry_id::EntryId;
use super::error::{FleetError, Operation};
use super::link::{Link, bounded};
use super::status::FleetStatus;
use crate::secrets::SecretName;
use crate::secrets::cache::SecretCache;

/// How long one `XREAD` waits for entries; an idle replica checks for trims this often.
const BLOCK: Duration = Duration::from_secs(1);
/// Entries read in one round trip at most.
const COUNT: usize = 1_000;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

pub(super) struct Reader {
    link: Link,
    stream: String,
    origin: String,
    cache: Arc<SecretCache>,
    status: Arc<FleetStatus>,
}

/// What `XINFO STREAM` says of the stream's ends.
struct StreamState {
    last_generated: EntryId,
    /// The newest id `XDEL` deleted (Redis 7; `XTRIM` leaves it alone).
    max_deleted: EntryId,
    /// The first entry kept; with none, the last id (every entry up to it is gone).
    oldest_kept: EntryId,
    /// Every entry ever added is still there (`entries-added` = `length`, Redis 7): a place
    /// before the first entry (a stream that did not exist yet) lost nothing.
    nothing_removed: bool,
}

impl StreamState {
    /// Whether an entry after `at` is gone, so that a reader placed at `at` missed it.
    fn lost_after(&self, at: EntryId) -> bool {
        !self.nothing_removed && (self.max_deleted > at || self.oldest_kept > at)
    }
}

impl Reader {
    pub fn new(link: Link, stream: String, origin: String, cache: Arc<SecretCache>, status: Arc<FleetStatus>) -> Self {
        Reader { link, stream, origin, cache, status }
    }

    pub async fn run(self) {
        let mut position = None;
        let mut failures = 0;
        loop {
            let error = self.follow(&mut position, &mut failures).await;
            self.status.failed(&error);
            actix_web::rt::time::sleep(crate::backoff::exponential(FIRST_RETRY, LAST_RETRY, failures)).await;
            failures = failures.saturating_add(1);
        }
    }

    /// Reads until a call fails; `position` is the last id handled (`None`: not yet placed).
    async fn follow(&self, position: &mut Option<EntryId>, failures: &mut u32) -> FleetError {
        let mut connection = match self.link.connect().await {
            Ok(connection) => connection,
            Err(error) => return error,
        };
        loop {
            let state = match self.stream_state(&mut connection).await {
                Ok(state) => state,
                Err(error) => return error,
            };
            self.status.reachable();
            *failures = 0;
            match *position {
                None => *position = Some(state.last_generated),
                Some(at) if state.lost_after(at) => {
                    let dropped = self.cache.clear();
                    self.status.clears.inc();
                    log::warn!(
                        "fleet tier: this replica's place {at} in stream {} was trimmed away; the whole cache was \
                         cleared ({dropped} entries)",
                        self.stream
                    );
                    *position = Some(state.last_generated);
                }
                Some(_) => {}
            }
            let at = position.unwrap_or_default();
            match self.read_after(&mut connection, at).await {
                Ok(last) => *position = Some(last),
                Err(error) => return error,
            }
        }
    }

    /// Drops the names of the entries after `at`; returns the last id read (`at` if none).
    async fn read_after(&self, connection: &mut MultiplexedConnection, at: EntryId) -> Result<EntryId, FleetError> {
        let mut read = redis::cmd("XREAD");
        read.arg("COUNT").arg(COUNT).arg("BLOCK").arg(BLOCK.as_millis() as u64);
        read.arg("STREAMS").arg(&self.stream).arg(at.to_string());
        let reply: Option<StreamReadReply> =
            bounded(Operation::Xread, BLOCK + self.link.timeout, read.query_async(connection)).await?;
        let mut last = at;
        for entry in reply.into_iter().flat_map(|reply| reply.keys).flat_map(|key| key.ids) {
            last = entry
                .id
                .parse()
                .map_err(|()| FleetError::Reply { operation: Operation::Xread, what: "an entry id" })?;
            if as_text(entry.map.get("origin")).as_deref() == Some(self.origin.as_str()) {
                continue;
            }
            match as_text(entry.map.get("name")).as_deref().map(SecretName::parse) {
                Some(Ok(name)) => {
                    self.cache.invalidate(&name);
                    self.status.received.inc();
                }
                _ => log::debug!("fleet tier: entry {last} names no secret; skipped"),
            }
        }
        Ok(last)
    }

    async fn stream_state(&self, connection: &mut MultiplexedConnection) -> Result<StreamState, FleetError> {
        let mut command = redis::cmd("XINFO");
        command.arg("STREAM").arg(&self.stream);
        let info = command.query_async::<Value>(connection);
        let reply = match bounded(Operation::Xinfo, self.link.timeout, info).await {
            // No stream yet: nothing was ever trimmed, everything to come is new.
            Err(FleetError::Redis { source, .. }) if source.to_string().contains("no such key") => {
                return Ok(StreamState {
                    last_generated: EntryId::ZERO,
                    max_deleted: EntryId::ZERO,
                    oldest_kept: EntryId::ZERO,
                    nothing_removed: true,
                });
            }
            reply => reply?,
        };
        let malformed = |what| FleetError::Reply { operation: Operation::Xinfo, what };
        let fields = pairs(&reply);
        let id = |name: &str| fields.iter().find(|(key, _)| key == name).and_then(|(_, value)| as_text(Some(value)));
        let last_generated =
            id("last-generated-id").and_then(|id| id.parse().ok()).ok_or(malformed("last-generated-id"))?;
        let max_deleted = match id("max-deleted-entry-id") {
            Some(max_deleted) => max_deleted.parse().map_err(|()| malformed("max-deleted-entry-id"))?,
            None => EntryId::ZERO,
        };
        let first = fields.iter().find(|(key, _)| key == "first-entry").and_then(|(_, entry)| match entry {
            Value::Array(parts) => as_text(parts.first()).and_then(|id| id.parse::<EntryId>().ok()),
            _ => None,
        });
        let nothing_removed = id("entries-added").is_some() && id("entries-added") == id("length");
        Ok(StreamState { last_generated, max_deleted, oldest_kept: first.unwrap_or(last_generated), nothing_removed })
    }
}

/// A reply's key-value pairs (RESP2 sends them as a flat array, RESP3 as a map).
fn pairs(reply: &Value) -> Vec<(String, Value)> {
    match reply {
        Value::Map(pairs) => {
            pairs.iter().filter_map(|(key, value)| Some((as_text(Some(key))?, value.clone()))).collect()
        }
        Value::Array(items) => {
            items.chunks_exact(2).filter_map(|pair| Some((as_text(Some(&pair[0]))?, pair[1].clone()))).collect()
        }
        _ => Vec::new(),
    }
}

fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        Value::Int(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> EntryId {
        text.parse().unwrap()
    }

    #[test]
    fn a_place_is_lost_only_when_an_entry_after_it_is_gone() {
        let state = |max_deleted, oldest_kept| StreamState {
            last_generated: id("90-0"),
            max_deleted: id(max_deleted),
            oldest_kept: id(oldest_kept),
            nothing_removed: false,
        };
        assert!(!state("0-0", "50-0").lost_after(id("60-0")), "only entries already read were trimmed");
        assert!(!state("0-0", "50-0").lost_after(id("50-0")));
        assert!(state("0-0", "50-0").lost_after(id("40-0")), "entries after 40 were trimmed");
        assert!(state("70-0", "10-0").lost_after(id("60-0")), "XDEL took one after 60");
        assert!(!state("70-0", "10-0").lost_after(id("70-0")));
        assert!(state("0-0", "90-0").lost_after(id("80-0")), "an empty stream whose last id is newer");
        let untouched = StreamState { nothing_removed: true, ..state("0-0", "50-0") };
        assert!(!untouched.lost_after(EntryId::ZERO), "placed before a stream's first entry ever");
    }
}
