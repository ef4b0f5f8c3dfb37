//! Measures a Key Vault event delivery against a full secret cache: the largest delivery Event
//! Grid sends (5,000 events) read and applied, as `POST /events/keyvault` does after its token
//! check, against 10,000 cached secrets, while another thread keeps reading cached secrets the
//! events do not name and records its slowest read, beside its slowest read in the 50 ms
//! before the delivery (the machine's own noise).
//!
//!   cargo run --release -p vaultgate-tools --bin event-delivery
//!
//! In-process and in memory (no HTTP, no vault): it times the event reader and the cache, with
//! the log lines a delivery writes formatted at `info` as the server would, then discarded.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use vaultgate::secrets::cache::SecretCache;
use vaultgate::secrets::events::{DeliveredBy, Delivery, KeyVaultEvents, MAX_EVENTS_PER_DELIVERY};
use vaultgate::secrets::{Secret, SecretName, SecretStore, SecretValue, SecretVersion, StoreError};
use vaultgate_config::Settings;

const CACHED: usize = 10_000;
const RUNS: usize = 5;
/// The reader's phases.
const BEFORE: u8 = 0;
const DURING: u8 = 1;
const DONE: u8 = 2;
const VAULT: &str = "https://sample-kv.vault.azure.net";
/// Event Grid's own sample, its vault `sample-kv`.
const SAMPLE: &str = include_str!("../../../tests/wire/eventgrid-keyvault-secret-new-version-created.json");

/// Every name is a secret; the answer is immediate.
struct Everything;

impl SecretStore for Everything {
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        _: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
        let secret = Secret {
            name: name.to_string(),
            value: SecretValue::new(format!("value of {name}")),
            version: "0123456789abcdef0123456789abcdef".into(),
            content_type: None,
            expires_at: None,
            validity: None,
            properties: Default::default(),
        };
        Box::pin(std::future::ready(Ok(Arc::new(secret))))
    }

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn kind(&self) -> &'static str {
        "in-memory"
    }
}

fn name(n: usize) -> SecretName {
    SecretName::parse(&format!("secret-{n}")).expect("a secret name")
}

/// A delivery of `count` SecretNewVersionCreated events, for secret-0 onwards.
fn delivery(count: usize) -> Vec<u8> {
    let sample: Vec<Value> = serde_json::from_str(SAMPLE).expect("the sample is JSON");
    let events: Vec<Value> = (0..count)
        .map(|n| {
            let text = sample[0].to_string().replace("newsecret", &format!("secret-{n}"));
            serde_json::from_str(&text).expect("still JSON")
        })
        .collect();
    serde_json::to_vec(&events).expect("serialisable")
}

fn main() {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Info)
        .target(env_logger::Target::Pipe(Box::new(std::io::sink())))
        .init();
    let vars = [("KEY_VAULT_URL", VAULT), ("SECRET_CACHE_MAX_ENTRIES", "20000"), ("SECRET_REFRESH_AHEAD", "off")];
    let settings = Settings::from_lookup(|key| vars.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()))
        .expect("settings");
    let body = delivery(MAX_EVENTS_PER_DELIVERY);
    println!(
        "{} events ({} KiB) against {CACHED} cached secrets, {RUNS} runs",
        MAX_EVENTS_PER_DELIVERY,
        body.len() / 1024
    );
    let mut totals = Vec::new();
    for run in 1..=RUNS {
        let cache = Arc::new(SecretCache::new(Arc::new(Everything), settings.secret_cache.clone()));
        let events = KeyVaultEvents::new(&settings, cache.clone());
        let runtime = actix_web::rt::System::new();
        runtime.block_on(async {
            for n in 0..CACHED {
                cache.get(&name(n), None).await.expect("found");
            }
        });
        let (phase, start) = (Arc::new(AtomicU8::new(BEFORE)), Arc::new(Barrier::new(2)));
        // Reads secrets no event names, from another thread, before and while the delivery runs.
        let reader = std::thread::spawn({
            let (cache, phase, start) = (cache.clone(), phase.clone(), start.clone());
            move || {
                let names: Vec<SecretName> = (MAX_EVENTS_PER_DELIVERY..CACHED).map(name).collect();
                actix_web::rt::System::new().block_on(async {
                    let (mut slowest, mut reads) = ([Duration::ZERO; 2], [0usize; 2]);
                    start.wait();
                    for next in names.iter().cycle() {
                        let at = match phase.load(Ordering::Relaxed) {
                            DONE => break,
                            now => usize::from(now),
                        };
                        let began = Instant::now();
                        cache.get(next, None).await.expect("cached");
                        slowest[at] = slowest[at].max(began.elapsed());
                        reads[at] += 1;
                    }
                    (slowest, reads)
                })
            }
        });
        start.wait();
        std::thread::sleep(Duration::from_millis(50));
        phase.store(DURING, Ordering::Relaxed);
        let began = Instant::now();
        let Delivery::Events { invalidate, ignored, .. } =
            events.read(&body, DeliveredBy::HomeTenant).expect("a valid delivery")
        else {
            panic!("not a handshake");
        };
        let read = began.elapsed();
        events.apply(&invalidate, ignored);
        let total = began.elapsed();
        phase.store(DONE, Ordering::Relaxed);
        let (slowest, reads) = reader.join().expect("the reader ends");
        assert_eq!((invalidate.len(), ignored), (MAX_EVENTS_PER_DELIVERY, 0), "every event is ours");
        let still_cached = cache.stats().hits.get();
        runtime.block_on(async { cache.get(&name(0), None).await.expect("found") });
        assert_eq!(cache.stats().hits.get(), still_cached, "an invalidated secret is read again");
        println!(
            "run {run}: {:.1} ms (parse {:.1} ms, invalidate {:.1} ms); meanwhile {} cached reads of other names, slowest {:.3} ms (in the 50 ms before: {} reads, slowest {:.3} ms)",
            ms(total),
            ms(read),
            ms(total - read),
            reads[1],
            ms(slowest[1]),
            reads[0],
            ms(slowest[0])
        );
        totals.push(total);
    }
    totals.sort();
    println!("median {:.1} ms, worst {:.1} ms", ms(totals[RUNS / 2]), ms(totals[RUNS - 1]));
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
