//! The secret cache's entries, found by key or by name. Beside quick_cache (keyed by name and
//! version) it keeps, per name, which versions have an entry, so that an event drops a name's
//! entries without scanning the cache, and a generation that each event for the name bumps.
//! A read takes a ticket (the name's generation) before it asks the store, and caches its
//! answer only if no event for that name came meanwhile: the check and the insert happen under
//! the lock the event takes, so an event is either seen by the check or drops what was inserted.
//! Events for other names never touch it.
//!
//! Per-name state lives only while the name has an entry or a read under way, so it is
//! bounded by the cache's size and the reads in flight.

use std::collections::HashMap;
use std::sync::Mutex;

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use super::{SecretName, SecretVersion};

pub(super) type Key = (SecretName, Option<SecretVersion>);

pub(super) struct CacheEntries<V: Clone> {
    entries: Cache<Key, V, UnitWeighter, DefaultHashBuilder, CollectEvicted>,
    /// Locked before any quick_cache shard, never the other way round.
    names: Mutex<HashMap<SecretName, NameState>>,
}

#[derive(Default)]
struct NameState {
    /// Versions with an entry in the cache (`None`: the current version).
    cached: Vec<Option<SecretVersion>>,
    /// The version each read under way asks for (one item per read).
    reading: Vec<Option<SecretVersion>>,
    /// Bumped by every event naming this secret.
    generation: u64,
}

impl NameState {
    fn is_idle(&self) -> bool {
        self.cached.is_empty() && self.reading.is_empty()
    }
}

/// What an event did to a name.
pub(super) struct Invalidated {
    /// Entries dropped.
    pub dropped: usize,
    /// Keys being read from the store right now (their single flights must not be joined).
    pub in_flight: Vec<Key>,
}

impl<V: Clone> CacheEntries<V> {
    pub fn new(max_entries: usize) -> Self {
        let entries =
            Cache::with(max_entries, max_entries as u64, UnitWeighter, DefaultHashBuilder::default(), CollectEvicted);
        CacheEntries { entries, names: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &Key) -> Option<V> {
        self.entries.get(key)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// A read of `key` from the store begins: its ticket decides whether its answer may be cached.
    pub fn begin_read(&self, key: &Key) -> ReadTicket<'_, V> {
        let mut names = crate::sync::lock(&self.names);
        let state = names.entry(key.0.clone()).or_default();
        state.reading.push(key.1.clone());
        ReadTicket { entries: self, key: key.clone(), generation: state.generation }
    }

    /// Drops `key`'s entry (a refusal: what was cached must not come back).
    pub fn remove(&self, key: &Key) {
        let mut names = crate::sync::lock(&self.names);
        self.entries.remove(key);
        if let Some(state) = names.get_mut(&key.0) {
            state.cached.retain(|version| *version != key.1);
            forget_if_idle(&mut names, &key.0);
        }
    }

    /// An event for `name`: bumps its generation and drops its entries, every version.
    pub fn invalidate(&self, name: &SecretName) -> Invalidated {
        let mut names = crate::sync::lock(&self.names);
        let Some(state) = names.get_mut(name) else { return Invalidated { dropped: 0, in_flight: Vec::new() } };
        state.generation += 1;
        let mut dropped = 0;
        for version in state.cached.drain(..) {
            if self.entries.remove(&(name.clone(), version)).is_some() {
                dropped += 1;
            }
        }
        let mut in_flight: Vec<Key> = Vec::new();
        for version in &state.reading {
            let key = (name.clone(), version.clone());
            if !in_flight.contains(&key) {
                in_flight.push(key);
            }
        }
        forget_if_idle(&mut names, name);
        Invalidated { dropped, in_flight }
    }

    /// Drops every entry, as if an event had come for every name: reads under way are not
    /// cached either. Returns what it did, all names together.
    pub fn clear(&self) -> Invalidated {
        let mut names = crate::sync::lock(&self.names);
        let dropped = self.entries.len();
        self.entries.clear();
        let mut in_flight: Vec<Key> = Vec::new();
        for (name, state) in names.iter_mut() {
            state.generation += 1;
            state.cached.clear();
            for version in &state.reading {
                let key = (name.clone(), version.clone());
                if !in_flight.contains(&key) {
                    in_flight.push(key);
                }
            }
        }
        names.retain(|_, state| !state.is_idle());
        Invalidated { dropped, in_flight }
    }

    /// Forgets the versions quick_cache evicted, unless they were cached again meanwhile.
    fn evicted(&self, keys: Vec<Key>) {
        if keys.is_empty() {
            return;
        }
        let mut names = crate::sync::lock(&self.names);
        for key in keys {
            if self.entries.contains_key(&key) {
                continue;
            }
            if let Some(state) = names.get_mut(&key.0) {
                state.cached.retain(|version| *version != key.1);
                forget_if_idle(&mut names, &key.0);
            }
        }
    }
}

fn forget_if_idle(names: &mut HashMap<SecretName, NameState>, name: &SecretName) {
    if names.get(name).is_some_and(NameState::is_idle) {
        names.remove(name);
    }
}

/// One read of a key from the store, from before it asks until its answer is recorded.
pub(super) struct ReadTicket<'a, V: Clone> {
    entries: &'a CacheEntries<V>,
    key: Key,
    generation: u64,
}

impl<V: Clone> ReadTicket<'_, V> {
    /// Caches `value` unless an event for the name came since the read began (it may be the
    /// value from before the event). Returns whether it was cached.
    pub fn insert(&self, value: V) -> bool {
        let mut evicted = Vec::new();
        {
            let mut names = crate::sync::lock(&self.entries.names);
            let state = names.get_mut(&self.key.0).expect("a read under way keeps its name's state");
            if state.generation != self.generation {
                return false;
            }
            if !state.cached.contains(&self.key.1) {
                state.cached.push(self.key.1.clone());
            }
            self.entries.entries.insert_with_lifecycle(self.key.clone(), value, &mut evicted);
        }
        self.entries.evicted(evicted);
        true
    }
}

impl<V: Clone> Drop for ReadTicket<'_, V> {
    fn drop(&mut self) {
        let mut names = crate::sync::lock(&self.entries.names);
        if let Some(state) = names.get_mut(&self.key.0) {
            if let Some(at) = state.reading.iter().position(|version| *version == self.key.1) {
                state.reading.swap_remove(at);
            }
            forget_if_idle(&mut names, &self.key.0);
        }
    }
}

/// Hands quick_cache's evictions back to the caller of the insert (under the shard lock it may
/// not take the names' lock).
#[derive(Clone)]
struct CollectEvicted;

impl<V> Lifecycle<Key, V> for CollectEvicted {
    type RequestState = Vec<Key>;

    fn on_evict(&self, evicted: &mut Vec<Key>, key: Key, _: V) {
        evicted.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, version: Option<&str>) -> Key {
        (SecretName::parse(name).unwrap(), version.map(|v| SecretVersion::parse(v).unwrap()))
    }

    const VERSION: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn an_event_drops_every_version_of_its_name_only() {
        let entries: CacheEntries<u32> = CacheEntries::new(10);
        for (at, k) in [key("s", None), key("S", Some(VERSION)), key("other", None)].iter().enumerate() {
            assert!(entries.begin_read(k).insert(at as u32));
        }
        assert_eq!(entries.invalidate(&SecretName::parse("s").unwrap()).dropped, 2);
        assert_eq!(entries.get(&key("s", None)), None);
        assert_eq!(entries.get(&key("s", Some(VERSION))), None);
        assert_eq!(entries.get(&key("other", None)), Some(2));
    }

    #[test]
    fn a_read_that_began_before_an_event_for_its_name_is_not_cached() {
        let entries: CacheEntries<u32> = CacheEntries::new(10);
        let before = entries.begin_read(&key("s", None));
        let other = entries.begin_read(&key("other", None));
        let event = entries.invalidate(&SecretName::parse("s").unwrap());
        assert_eq!(event.in_flight, vec![key("s", None)], "its single flight is to be forgotten");
        assert!(!before.insert(1));
        assert!(other.insert(2), "an event for another name changes nothing");
        assert!(entries.begin_read(&key("s", None)).insert(3), "a read begun after the event is cached");
        assert_eq!(entries.get(&key("s", None)), Some(3));
    }

    #[test]
    fn a_clear_drops_every_name_and_voids_the_reads_under_way() {
        let entries: CacheEntries<u32> = CacheEntries::new(10);
        assert!(entries.begin_read(&key("a", None)).insert(1));
        assert!(entries.begin_read(&key("b", Some(VERSION))).insert(2));
        let under_way = entries.begin_read(&key("c", None));
        let cleared = entries.clear();
        assert_eq!(cleared.dropped, 2);
        assert_eq!(cleared.in_flight, vec![key("c", None)]);
        assert_eq!(entries.get(&key("a", None)), None);
        assert_eq!(entries.get(&key("b", Some(VERSION))), None);
        assert!(!under_way.insert(3), "a read begun before the clear may carry an old value");
        drop(under_way);
        assert_eq!(crate::sync::lock(&entries.names).len(), 0, "no name is remembered");
        assert!(entries.begin_read(&key("a", None)).insert(4), "reads after the clear are cached");
        assert_eq!(entries.get(&key("a", None)), Some(4));
    }

    #[test]
    fn names_are_forgotten_once_evicted_or_dropped_and_idle() {
        let entries: CacheEntries<u32> = CacheEntries::new(2);
        for n in 0..50 {
            entries.begin_read(&key(&format!("n{n}"), None)).insert(n);
        }
        let names = crate::sync::lock(&entries.names).len();
        assert_eq!(names, entries.len(), "one name state per cached entry, evicted ones forgotten");
        entries.remove(&key("n49", None));
        entries.invalidate(&SecretName::parse("n48").unwrap());
        assert_eq!(crate::sync::lock(&entries.names).len(), entries.len());
    }
}
