//! Refresh-ahead over HTTP: a secret read in the last fifth of its TTL is read again in the
//! background while readers keep the cached value (even past the TTL, while that read is in
//! flight); a failed refresh leaves the stale-if-error rules in charge; cold secrets expire.
//! The fake Key Vault's hold/release hooks decide when its answers come; the TTL is short, and
//! the only waits let the entry age into the part of its TTL a case is about.

use std::future::Future;
use std::time::{Duration, Instant};

use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault};
use vaultgate_tests::http::metric;
use vaultgate_tests::{Reply, TestApp};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";
/// Long enough that a loaded machine still reads inside the last fifth (a window of 2 s).
const TTL_SECS: u64 = 10;

/// The vault holding `hot` at `V1`, vaultgate caching it for `TTL_SECS` (no retries, so a
/// fault is one failed read), and when the first read ended (the entry is at least this old).
async fn warmed(extra: &[(&str, &str)]) -> (Azure, TestApp, Instant) {
    warmed_secret("hot", extra).await
}

/// `warmed`, for a secret named `name` (a name of its own keeps a case's log lines apart).
async fn warmed_secret(name: &str, extra: &[(&str, &str)]) -> (Azure, TestApp, Instant) {
    let azure = Azure::start();
    azure.vault.put(name, FakeSecret::new(V1, "value-one"));
    let ttl = TTL_SECS.to_string();
    // A held refresh must outlive the whole case, not time out half-way.
    let mut vars =
        vec![("SECRET_CACHE_TTL", ttl.as_str()), ("KEY_VAULT_RETRY_BUDGET_SECS", "0"), ("UPSTREAM_TIMEOUT_SECS", "30")];
    vars.extend_from_slice(extra);
    let app = azure.app(&vars).await;
    assert_eq!(value(&app.get_secret(&format!("/vault/{name}")).await), "value-one");
    let read_at = Instant::now();
    assert_eq!(azure.vault.gets_of(name), 2, "the challenge and the read");
    azure.vault.put(name, FakeSecret::new(V2, "value-two"));
    (azure, app, read_at)
}

fn value(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["value"].as_str().unwrap().to_owned()
}

/// Lets the cached entry age until `secs` after `since` (time passing, not synchronisation).
async fn age_until(since: Instant, secs: f64) {
    let until = since + Duration::from_secs_f64(secs);
    actix_web::rt::time::sleep(until.saturating_duration_since(Instant::now())).await;
}

/// `read` must answer without waiting on Key Vault (it is held): 2 s is far beyond a cache hit.
async fn at_once<F: Future<Output = Reply>>(read: F) -> Reply {
    actix_web::rt::time::timeout(Duration::from_secs(2), read).await.expect("answered from the cache, not Key Vault")
}

/// Reads until `hot` reads `expected` (the background refresh has landed), at most 10 s.
async fn read_until(app: &TestApp, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while value(&app.get_secret("/vault/hot").await) != expected {
        assert!(Instant::now() < deadline, "{expected} never arrived");
        actix_web::rt::task::yield_now().await;
    }
}

/// Polls `/metrics` until `name` reaches `at_least`, at most 10 s.
async fn metric_reaches(app: &TestApp, name: &str, at_least: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&app.metrics().await, name) < at_least {
        assert!(Instant::now() < deadline, "{name} stayed below {at_least}");
        actix_web::rt::task::yield_now().await;
    }
}

#[actix_web::test]
async fn a_hot_secret_is_refreshed_in_the_background_once_while_readers_keep_its_value() {
    let (azure, app, read_at) = warmed(&[]).await;
    azure.vault.hold();
    // The last fifth of the TTL: served at once, and one refresh goes to Key Vault.
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    azure.vault.holding(1).await;
    let reads = futures_util::future::join_all((0..20).map(|_| at_once(app.get_secret("/vault/hot")))).await;
    assert!(reads.iter().all(|reply| value(reply) == "value-one"));
    assert_eq!(azure.vault.gets_of("hot"), 3, "a single refresh for all those readers");

    // Past the TTL, the refresh still in flight: readers still get the value at once.
    age_until(read_at, TTL_SECS as f64 + 0.5).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    assert_eq!(azure.vault.gets_of("hot"), 3);

    azure.vault.release();
    read_until(&app, "value-two").await;
    assert_eq!(azure.vault.gets_of("hot"), 3, "the refresh's read is the only one");
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_refresh_ahead_runs_total"), 1.0);
    assert_eq!(metric(&metrics, "vaultgate_secret_refresh_ahead_failures_total"), 0.0);
}

#[actix_web::test]
async fn a_failed_refresh_keeps_the_value_under_the_stale_if_error_rules() {
    let (azure, app, read_at) = warmed(&[]).await;
    // Key Vault is unwell from now on: every read gets a 503.
    azure.vault.fail_next((0..50).map(|_| Fault::Unavailable(Vec::new())));
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    metric_reaches(&app, "vaultgate_secret_refresh_ahead_failures_total", 1.0).await;
    // Past the TTL: the read goes to Key Vault, fails, and the last good value covers it.
    age_until(read_at, TTL_SECS as f64 + 0.5).await;
    assert_eq!(value(&app.get_secret("/vault/hot").await), "value-one");
    assert!(metric(&app.metrics().await, "vaultgate_secret_cache_stale_served_total") >= 1.0);
}

#[actix_web::test]
async fn a_refresh_that_is_refused_forgets_the_value() {
    let (azure, app, read_at) = warmed(&[]).await;
    azure.vault.fail_next([Fault::ForbiddenByRbac, Fault::ForbiddenByRbac]);
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    metric_reaches(&app, "vaultgate_secret_refresh_ahead_failures_total", 1.0).await;
    // A refusal (a removed role) is never covered by a cached value: the next read asks
    // Key Vault again, and is refused too.
    let refused = app.get_secret("/vault/hot").await;
    assert_eq!(refused.status, 502);
    assert_eq!(azure.vault.gets_of("hot"), 4);
}

#[actix_web::test]
async fn a_cold_secret_expires_and_its_next_read_waits_for_key_vault() {
    let (azure, app, read_at) = warmed(&[]).await;
    // Nobody reads it in the last fifth of its TTL: no refresh happens.
    age_until(read_at, TTL_SECS as f64 + 0.5).await;
    assert_eq!(azure.vault.gets_of("hot"), 2);
    azure.vault.hold();
    let read = actix_web::rt::spawn({
        let url = app.url("/vault/hot");
        async move {
            let token = vaultgate_tests::tokens::valid(vaultgate_tests::app::shared_key(), &["GetSecret"]);
            let request = vaultgate_tests::http::client()
                .get(url)
                .insert_header((actix_web::http::header::AUTHORIZATION, format!("Bearer {token}")));
            vaultgate_tests::send(request).await
        }
    });
    azure.vault.holding(1).await; // the read waits on Key Vault: the entry expired
    azure.vault.release();
    assert_eq!(value(&read.await.unwrap()), "value-two");
    assert_eq!(metric(&app.metrics().await, "vaultgate_secret_refresh_ahead_runs_total"), 0.0);
}

#[actix_web::test]
async fn refresh_ahead_can_be_switched_off() {
    let (azure, app, read_at) = warmed(&[("SECRET_REFRESH_AHEAD", "off")]).await;
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&app.get_secret("/vault/hot").await), "value-one");
    assert_eq!(azure.vault.gets_of("hot"), 2, "no background read");
    age_until(read_at, TTL_SECS as f64 + 0.5).await;
    assert_eq!(value(&app.get_secret("/vault/hot").await), "value-two");
    assert_eq!(metric(&app.metrics().await, "vaultgate_secret_refresh_ahead_runs_total"), 0.0);
}

/// A read of `path` in a task of its own, so the case can go on while it waits on Key Vault.
fn spawn_read(app: &TestApp, path: &str) -> actix_web::rt::task::JoinHandle<Reply> {
    let url = app.url(path);
    actix_web::rt::spawn(async move {
        let token = vaultgate_tests::tokens::valid(vaultgate_tests::app::shared_key(), &["GetSecret"]);
        let request = vaultgate_tests::http::client()
            .get(url)
            .insert_header((actix_web::http::header::AUTHORIZATION, format!("Bearer {token}")));
        vaultgate_tests::send(request).await
    })
}

#[actix_web::test]
async fn a_failing_refresh_is_not_restarted_by_the_next_reads_and_warns_once() {
    let (azure, app, read_at) = warmed_secret("backoff-hot", &[]).await;
    // Key Vault fails at once from now on (as the GET ceiling does when it is full).
    azure.vault.fail_next((0..50).map(|_| Fault::Unavailable(Vec::new())));
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/backoff-hot")).await), "value-one");
    metric_reaches(&app, "vaultgate_secret_refresh_ahead_failures_total", 1.0).await;
    // Still in the last fifth, within the back-off (at least 0.8 s): no read starts another.
    for _ in 0..10 {
        assert_eq!(value(&at_once(app.get_secret("/vault/backoff-hot")).await), "value-one");
    }
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_refresh_ahead_runs_total"), 1.0, "one refresh per back-off");
    assert_eq!(metric(&metrics, "vaultgate_secret_refresh_ahead_failures_total"), 1.0);
    assert_eq!(azure.vault.gets_of("backoff-hot"), 3, "the challenge, the read and one refresh");
    let warnings = vaultgate_tests::logs::lines()
        .into_iter()
        .filter(|line| line.starts_with("WARN") && line.contains("secret backoff-hot: refresh-ahead failed"))
        .count();
    assert_eq!(warnings, 1, "one warning per back-off");
}

#[actix_web::test]
async fn past_the_grace_a_hanging_refresh_no_longer_keeps_the_old_value() {
    let (azure, app, read_at) = warmed(&[("SECRET_REFRESH_GRACE_SECS", "1")]).await;
    azure.vault.hold();
    age_until(read_at, TTL_SECS as f64 * 0.82).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    azure.vault.holding(1).await; // the refresh hangs on Key Vault
    // Within the grace past the TTL, readers still get the value at once.
    age_until(read_at, TTL_SECS as f64 + 0.2).await;
    assert_eq!(value(&at_once(app.get_secret("/vault/hot")).await), "value-one");
    assert_eq!(metric(&app.metrics().await, "vaultgate_secret_cache_misses_total"), 1.0, "the first read only");

    // Past the grace: a read is a miss and waits for Key Vault (sharing the hanging refresh).
    age_until(read_at, TTL_SECS as f64 + 1.5).await;
    let read = spawn_read(&app, "/vault/hot");
    metric_reaches(&app, "vaultgate_secret_cache_misses_total", 2.0).await;
    assert!(!read.is_finished(), "the read waits on Key Vault");
    azure.vault.release();
    assert_eq!(value(&read.await.unwrap()), "value-two");
    assert_eq!(azure.vault.gets_of("hot"), 3, "the refresh's read is the only one");
}
