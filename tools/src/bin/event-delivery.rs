//! Measures a Key Vault event delivery against a full secret cache: the largest delivery Event
//! Grid sends (5,000 events) read and applied, as `POST /events/keyvault` does after its token
//! check, against 10,000 cached secrets, while another thread keeps reading cached secrets the
//! events do not name and records its slowest read.
//!
//!   cargo run --release -p vaultgate-tools --bin event-delivery
//!
//! In-process and in memory (no HTTP, no vault): it times the cache and the event reader only.

use std::sync::atomic::{AtomicBool, Ordering};
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
        };
        Box::pin(std::future::ready(Ok(Arc::new(secret))))
    }

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), String>> {
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
        let (stop, start) = (Arc::new(AtomicBool::new(false)), Arc::new(Barrier::new(2)));
        // Reads secrets no event names, from another thread, for as long as the delivery runs.
        let reader = std::thread::spawn({
            let (cache, stop, start) = (cache.clone(), stop.clone(), start.clone());
            move || {
                let names: Vec<SecretName> = (MAX_EVENTS_PER_DELIVERY..CACHED).map(name).collect();
                actix_web::rt::System::new().block_on(async {
                    let (mut slowest, mut reads) = (Duration::ZERO, 0usize);
                    start.wait();
                    while !stop.load(Ordering::Relaxed) {
                        let began = Instant::now();
                        cache.get(&names[reads % names.len()], None).await.expect("cached");
                        slowest = slowest.max(began.elapsed());
                        reads += 1;
                    }
                    (slowest, reads)
                })
            }
        });
        start.wait();
        let began = Instant::now();
        let Delivery::Events { invalidate, ignored, .. } =
            events.read(&body, DeliveredBy::HomeTenant).expect("a valid delivery")
        else {
            panic!("not a handshake");
        };
        let read = began.elapsed();
        events.apply(&invalidate, ignored);
        let total = began.elapsed();
        stop.store(true, Ordering::Relaxed);
        let (slowest, reads) = reader.join().expect("the reader ends");
        assert_eq!((invalidate.len(), ignored), (MAX_EVENTS_PER_DELIVERY, 0), "every event is ours");
        let still_cached = cache.stats().hits.get();
        runtime.block_on(async { cache.get(&name(0), None).await.expect("found") });
        assert_eq!(cache.stats().hits.get(), still_cached, "an invalidated secret is read again");
        println!(
            "run {run}: {:.1} ms (parse {:.1} ms, invalidate {:.1} ms); meanwhile {reads} cached reads of other names, slowest {:.3} ms",
            ms(total),
            ms(read),
            ms(total - read),
            ms(slowest)
        );
        totals.push(total);
    }
    totals.sort();
    println!("median {:.1} ms, worst {:.1} ms", ms(totals[RUNS / 2]), ms(totals[RUNS - 1]));
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
