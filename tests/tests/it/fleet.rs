//! The fleet tier: three replicas sharing one fake Key Vault and one real `redis-server`. An
//! event posted to one replica reaches the others within a second; Redis stopped never fails a
//! read or an event, and the fan-out resumes when it returns; a replica whose place in the
//! stream was trimmed away clears its cache once.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::http::{client, metric, send_body};
use vaultgate_tests::redis_server::RedisServer;
use vaultgate_tests::{TestApp, logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "ee059b2bb5bc48398a53b168c6cdcb10";
const V3: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const EVENT_GRID_APP: &str = "4962773b-9cdb-44cf-a8bf-237846a00ab7";
const EVENT_GRID_ROLE: &str = "AzureEventGridSecureWebhookSubscriber";

/// `n` replicas reading `azure`'s vault, caching for an hour, sharing `stream` on `redis`;
/// returned once each follows the stream.
async fn replicas(azure: &Azure, redis: &RedisServer, stream: &str, n: usize) -> Vec<TestApp> {
    let url = redis.url();
    let replicas = unplaced_replicas(azure, &url, stream, n).await;
    for replica in &replicas {
        until(Duration::from_secs(10), "the replica follows the stream", || async {
            fleet_metric(replica, "vaultgate_fleet_connected").await == 1.0
        })
        .await;
    }
    replicas
}

/// `n` replicas on the Redis at `url`, returned at once.
async fn unplaced_replicas(azure: &Azure, url: &str, stream: &str, n: usize) -> Vec<TestApp> {
    let mut replicas = Vec::new();
    for _ in 0..n {
        let vars = [
            ("SECRET_CACHE_TTL", "3600"),
            ("FLEET_REDIS_URL", url),
            ("FLEET_REDIS_STREAM", stream),
            // Loopback answers in well under a millisecond; the margin is for a loaded CI machine.
            ("FLEET_REDIS_TIMEOUT_MS", "250"),
        ];
        replicas.push(azure.app(&vars).await);
    }
    replicas
}

/// Polls `condition` until it holds; panics with `what` past `limit`.
async fn until<F: Future<Output = bool>>(limit: Duration, what: &str, condition: impl Fn() -> F) -> Duration {
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
    start.elapsed()
}

async fn fleet_metric(replica: &TestApp, name: &str) -> f64 {
    metric(&replica.metrics().await, name)
}

async fn value(replica: &TestApp, name: &str) -> String {
    let answer = replica.get_secret(&format!("/vault/{name}")).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    answer.json()["value"].as_str().expect("a value").to_owned()
}

/// Event Grid's delivery of `SecretNewVersionCreated` for `name` at `version` in the fake vault.
async fn post_new_version(replica: &TestApp, vault_url: &str, name: &str, version: &str) -> Value {
    let event = json!([{
        "id": format!("{name}-{version}"),
        "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/127",
        "subject": name,
        "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
        "eventTime": "2026-12-06T01:08:33.1036736Z",
        "data": {"Id": format!("{vault_url}/secrets/{name}/{version}"), "VaultName": "127", "ObjectType": "Secret",
                 "ObjectName": name, "Version": version},
        "dataVersion": "1",
        "metadataVersion": "1"
    }]);
    let token = tokens::valid_for(shared_key(), &[EVENT_GRID_ROLE], None, Some(EVENT_GRID_APP));
    let request = client()
        .post(replica.url("/events/keyvault"))
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .insert_header((CONTENT_TYPE, "application/json"));
    let answer = send_body(request, event.to_string()).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

const ONE_INVALIDATED: fn() -> Value = || json!({"events": 1, "invalidated": 1, "ignored": 0});

#[actix_web::test]
async fn an_event_posted_to_one_replica_reaches_the_other_two_within_a_second() {
    let redis = RedisServer::start();
    let azure = Azure::start();
    azure.vault.put("rotated", FakeSecret::new(V1, "first-value"));
    let replicas = replicas(&azure, &redis, "fleet-fanout", 3).await;
    for replica in &replicas {
        assert_eq!(value(replica, "rotated").await, "first-value");
    }
    azure.vault.put("rotated", FakeSecret::new(V2, "second-value"));
    for replica in &replicas {
        assert_eq!(value(replica, "rotated").await, "first-value", "cached for an hour");
    }

    assert_eq!(post_new_version(&replicas[0], &azure.vault.url, "rotated", V2).await, ONE_INVALIDATED());
    assert_eq!(value(&replicas[0], "rotated").await, "second-value");
    for replica in &replicas[1..] {
        until(Duration::from_secs(1), "another replica serves the new version", || async {
            value(replica, "rotated").await == "second-value"
        })
        .await;
    }
    assert_eq!(fleet_metric(&replicas[0], "vaultgate_fleet_invalidations_sent_total").await, 1.0);
    assert_eq!(fleet_metric(&replicas[0], "vaultgate_fleet_invalidations_received_total").await, 0.0, "not its own");
    for replica in &replicas[1..] {
        assert_eq!(fleet_metric(replica, "vaultgate_fleet_invalidations_received_total").await, 1.0);
        assert_eq!(fleet_metric(replica, "vaultgate_fleet_invalidations_sent_total").await, 0.0);
    }
}

#[actix_web::test]
async fn a_hundred_events_reach_the_other_replicas_with_a_p99_under_a_second() {
    let redis = RedisServer::start();
    let azure = Azure::start();
    let replicas = replicas(&azure, &redis, "fleet-latency", 3).await;
    let mut latencies = Vec::new();
    for n in 1..=100 {
        let name = format!("hot-{n}");
        let posted = Instant::now();
        post_new_version(&replicas[0], &azure.vault.url, &name, V2).await;
        for replica in &replicas[1..] {
            until(Duration::from_secs(5), "the other replica received the invalidation", || async {
                fleet_metric(replica, "vaultgate_fleet_invalidations_received_total").await >= n as f64
            })
            .await;
        }
        latencies.push(posted.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (latencies[49], latencies[98]);
    println!("fleet fan-out over 100 events, post to both other replicas dropping it: p50 {p50:?}, p99 {p99:?}");
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
}

#[actix_web::test]
async fn with_redis_stopped_reads_and_events_go_on_and_the_fan_out_resumes_when_it_returns() {
    let mut redis = RedisServer::start();
    let azure = Azure::start();
    azure.vault.put("kept", FakeSecret::new(V1, "first-value"));
    azure.vault.put("uncached", FakeSecret::new(V1, "uncached-value"));
    let replicas = replicas(&azure, &redis, "fleet-outage", 3).await;
    for replica in &replicas {
        assert_eq!(value(replica, "kept").await, "first-value");
    }

    redis.stop();
    for replica in &replicas {
        until(Duration::from_secs(5), "the replica sees Redis gone", || async {
            fleet_metric(replica, "vaultgate_fleet_connected").await == 0.0
        })
        .await;
        assert_eq!(value(replica, "kept").await, "first-value", "from the cache");
        assert_eq!(value(replica, "uncached").await, "uncached-value", "from the vault");
    }
    azure.vault.put("kept", FakeSecret::new(V2, "second-value"));
    assert_eq!(post_new_version(&replicas[0], &azure.vault.url, "kept", V2).await, ONE_INVALIDATED());
    assert_eq!(value(&replicas[0], "kept").await, "second-value", "the event still invalidates locally");
    until(Duration::from_secs(5), "the failed send is counted", || async {
        let metrics = replicas[0].metrics().await;
        let failed = |operation: &str| {
            let name = format!("vaultgate_fleet_errors_total{{operation=\"{operation}\"}}");
            if metrics.lines().any(|line| line.starts_with(&name)) { metric(&metrics, &name) } else { 0.0 }
        };
        failed("connect") + failed("xadd") >= 1.0
    })
    .await;
    let warnings = || {
        logs::lines()
            .iter()
            .filter(|line| line.contains("Redis unreachable") && line.contains("stream fleet-outage"))
            .count()
    };
    assert_eq!(warnings(), 3, "one warning per replica for the whole outage");

    redis.restart();
    for replica in &replicas {
        until(Duration::from_secs(15), "the replica follows the stream again", || async {
            fleet_metric(replica, "vaultgate_fleet_connected").await == 1.0
        })
        .await;
    }
    azure.vault.put("kept", FakeSecret::new(V3, "third-value"));
    assert_eq!(post_new_version(&replicas[0], &azure.vault.url, "kept", V3).await, ONE_INVALIDATED());
    for replica in &replicas[1..] {
        until(Duration::from_secs(1), "the fan-out resumed", || async {
            value(replica, "kept").await == "third-value"
        })
        .await;
    }
    assert_eq!(warnings(), 3, "no new warning once Redis is back");
}

#[actix_web::test]
async fn a_replica_whose_place_in_the_stream_was_trimmed_clears_its_cache_once() {
    let redis = RedisServer::start();
    let azure = Azure::start();
    azure.vault.put("a", FakeSecret::new(V1, "a-first"));
    azure.vault.put("b", FakeSecret::new(V1, "b-first"));
    let replica = replicas(&azure, &redis, "fleet-trim", 1).await.remove(0);
    assert_eq!(value(&replica, "a").await, "a-first");
    assert_eq!(value(&replica, "b").await, "b-first");
    azure.vault.put("a", FakeSecret::new(V2, "a-second"));
    azure.vault.put("b", FakeSecret::new(V2, "b-second"));

    // Another replica's entry, trimmed away before this one could read it.
    let mut redis_client = redis::Client::open(redis.url())
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let () = redis::pipe()
        .atomic()
        .cmd("XADD")
        .arg("fleet-trim")
        .arg("*")
        .arg("name")
        .arg("unrelated")
        .arg("origin")
        .arg("elsewhere")
        .ignore()
        .cmd("XTRIM")
        .arg("fleet-trim")
        .arg("MAXLEN")
        .arg(0)
        .ignore()
        .query_async(&mut redis_client)
        .await
        .expect("XADD and XTRIM");

    until(Duration::from_secs(5), "the replica clears its cache", || async {
        fleet_metric(&replica, "vaultgate_fleet_cache_clears_total").await == 1.0
    })
    .await;
    assert_eq!(value(&replica, "a").await, "a-second", "every cached secret is read again");
    assert_eq!(value(&replica, "b").await, "b-second");

    // It goes on from the stream's newest entry: the next entry is an invalidation, not a clear.
    let () = redis::cmd("XADD")
        .arg("fleet-trim")
        .arg("*")
        .arg("name")
        .arg("b")
        .arg("origin")
        .arg("elsewhere")
        .query_async::<String>(&mut redis_client)
        .await
        .map(drop)
        .expect("XADD");
    until(Duration::from_secs(5), "the replica reads the next entry", || async {
        fleet_metric(&replica, "vaultgate_fleet_invalidations_received_total").await == 1.0
    })
    .await;
    assert_eq!(fleet_metric(&replica, "vaultgate_fleet_cache_clears_total").await, 1.0, "cleared once");
}

#[actix_web::test]
async fn a_password_in_the_redis_url_authenticates_and_is_never_logged() {
    let redis = RedisServer::start_with_password("fleet-pa55word-7f3e");
    let azure = Azure::start();
    azure.vault.put("plain", FakeSecret::new(V1, "plain-value"));
    let good = format!("redis://:fleet-pa55word-7f3e@127.0.0.1:{}", redis.port);
    let bad = format!("redis://:wrong-pa55word-91c2@127.0.0.1:{}", redis.port);
    let trusted = unplaced_replicas(&azure, &good, "fleet-password", 1).await.remove(0);
    let refused = unplaced_replicas(&azure, &bad, "fleet-wrong-password", 1).await.remove(0);
    until(Duration::from_secs(10), "the replica with the password follows the stream", || async {
        fleet_metric(&trusted, "vaultgate_fleet_connected").await == 1.0
    })
    .await;
    until(Duration::from_secs(10), "the wrong password is warned", || async {
        logs::lines().iter().any(|line| line.contains("Redis unreachable") && line.contains("fleet-wrong-password"))
    })
    .await;
    assert_eq!(fleet_metric(&refused, "vaultgate_fleet_connected").await, 0.0);
    assert_eq!(value(&refused, "plain").await, "plain-value", "reads go on without the fleet tier");
    let leaked: Vec<String> = logs::lines().into_iter().filter(|line| line.contains("pa55word")).collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    let metrics = refused.metrics().await + &trusted.metrics().await;
    assert!(!metrics.contains("pa55word"));
}
