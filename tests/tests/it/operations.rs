//! What operators watch: `/health` with its components, `/health/live`, and `/metrics`.

use actix_web::http::header::AUTHORIZATION;
use serde_json::json;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret, Fault};
use vaultgate_tests::http::{client, metric};
use vaultgate_tests::{TestApp, send, tokens};

#[actix_web::test]
async fn health_lists_its_components() {
    let app = TestApp::spawn().await;
    let answer = send(client().get(app.url("/health"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"status": "healthy", "components": {
            "signing_keys": {"status": "up", "loaded": 1},
            "secret_store": {"status": "up", "kind": "directory", "checked_secs_ago": 0}
        }})
    );
    let live = send(client().get(app.url("/health/live"))).await;
    assert_eq!((live.status.as_u16(), live.json()), (200, json!({"status": "live"})));
}

#[actix_web::test]
async fn an_unusable_store_fails_health_naming_it() {
    let app = TestApp::spawn().await;
    std::fs::remove_dir_all(&app.secrets_dir).unwrap();
    let answer = send(client().get(app.url("/health"))).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.json(),
        json!({"code": "ServiceHealthCheckDown", "description": "Function App health Check failed.", "debug": "secret_store: unreachable"})
    );
    assert_eq!(send(client().get(app.url("/health/live"))).await.status, 200, "liveness does not depend on the store");
}

/// A fake Key Vault holding `api-key`, its identity endpoint, and vaultgate reading it.
struct VaultSetup {
    _identity: FakeIdentity,
    vault: FakeKeyVault,
    endpoint: String,
}

fn vault_setup() -> VaultSetup {
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), false);
    vault.put("api-key", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", "v"));
    let endpoint = format!("{}/msi/token", identity.base_url);
    VaultSetup { _identity: identity, vault, endpoint }
}

impl VaultSetup {
    async fn app(&self, extra: &[(&str, &str)]) -> TestApp {
        let mut vars = vec![
            ("KEY_VAULT_URL", self.vault.url.as_str()),
            ("IDENTITY_ENDPOINT", self.endpoint.as_str()),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
            ("VAULTGATE_MODE", "local"), // IDENTITY_ENDPOINT alone would refuse local mode
        ];
        vars.extend_from_slice(extra);
        TestApp::spawn_with(&vars).await
    }
}

#[actix_web::test]
async fn the_vault_probe_is_cached_between_health_checks() {
    let setup = vault_setup();
    let vault = &setup.vault;
    let app = setup.app(&[("HEALTH_PROBE_INTERVAL_SECS", "600")]).await;
    for _ in 0..10 {
        assert_eq!(send(client().get(app.url("/health"))).await.status, 200);
    }
    assert_eq!(vault.gets_of("vaultgate-probe-not-a-secret"), 2, "one challenged and one answered probe");

    // A vault that refuses vaultgate (RBAC) fails the next probe (a fresh app's first one:
    // intervals below a second are refused, so a cached probe cannot be skipped).
    let strict = setup.app(&[]).await;
    vault.fail_next([Fault::ForbiddenByRbac]);
    let answer = send(client().get(strict.url("/health"))).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["debug"], "secret_store: unreachable");
}

#[actix_web::test]
async fn metrics_count_requests_auth_failures_and_the_cache() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    for _ in 0..3 {
        send(client().get(app.url("/vault/demo")).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await;
    }
    send(client().get(app.url("/vault/demo"))).await;
    send(client().get(app.url("/vault/demo")).insert_header((AUTHORIZATION, "Bearer x.y.z"))).await;
    send(client().get(app.url("/no/such/route"))).await;

    let answer = send(client().get(app.url("/metrics"))).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert_eq!(metric(&text, r#"vaultgate_http_requests_total{route="/vault/{name}",status="200"}"#), 3.0);
    assert_eq!(metric(&text, r#"vaultgate_http_requests_total{route="/vault/{name}",status="401"}"#), 2.0);
    assert_eq!(metric(&text, r#"vaultgate_http_requests_total{route="unmatched",status="404"}"#), 1.0);
    assert_eq!(metric(&text, r#"vaultgate_auth_failures_total{code="authorization_header_missing"}"#), 1.0);
    assert_eq!(metric(&text, r#"vaultgate_auth_failures_total{code="invalid_auth_header"}"#), 1.0);
    assert_eq!(metric(&text, "vaultgate_secret_cache_misses_total"), 1.0);
    assert_eq!(metric(&text, "vaultgate_secret_cache_hits_total"), 2.0);
    assert_eq!(metric(&text, "vaultgate_secret_cache_stale_served_total"), 0.0);
    assert!(!text.contains(&token));
}

#[actix_web::test]
async fn key_vault_and_key_metrics_appear_with_their_stores() {
    let setup = vault_setup();
    let app = setup.app(&[]).await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    send(client().get(app.url("/vault/api-key")).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await;
    let text = String::from_utf8(send(client().get(app.url("/metrics"))).await.body).unwrap();
    assert_eq!(metric(&text, r#"vaultgate_keyvault_calls_total{outcome="unauthorized"}"#), 1.0);
    assert_eq!(metric(&text, r#"vaultgate_keyvault_calls_total{outcome="ok"}"#), 1.0);
    assert_eq!(metric(&text, "vaultgate_keyvault_call_duration_seconds_count"), 2.0);
}

#[actix_web::test]
async fn metrics_can_be_turned_off() {
    let app = TestApp::spawn_with(&[("METRICS", "off")]).await;
    let answer = send(client().get(app.url("/metrics"))).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["code"], "RouteNotFound");
}
