//! Key Vault as the Azure SDKs meet it: the challenge's tenant checked against the
//! credential's, retries on the SDKs' statuses and on connection errors, and secrets
//! outside their `nbf`..`exp` window served (flagged) unless `SECRET_EXPIRY=enforce`.

use serde_json::json;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::vault_error;
use vaultgate_tests::fake_identity::CLIENT_SECRET;
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault, TENANT};
use vaultgate_tests::http::{client, metric};
use vaultgate_tests::tokens::now;
use vaultgate_tests::{TestApp, logs, send};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const OTHER_TENANT: &str = "0d6f0f0e-1c43-4a4b-9f8c-5b3c2a1d0e9f";

/// The kit's fake vault and identity endpoints, holding `api-key`.
fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("api-key", FakeSecret::new(V1, "api-key-value-1177"));
    azure
}

/// vaultgate reading the fake vault through the App Service managed identity (the kit's
/// `Azure::app`), with room for a retry or two within the budget.
async fn app(azure: &Azure, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("KEY_VAULT_RETRY_BUDGET_SECS", "5")];
    vars.extend_from_slice(extra);
    azure.app(&vars).await
}

/// vaultgate reading the fake vault with a client secret in `TENANT`.
async fn client_secret_app(azure: &Azure, extra: &[(&str, &str)]) -> TestApp {
    let authority = azure.identity.base_url.clone();
    let mut vars = vec![
        ("IDENTITY_ENDPOINT", ""),
        ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ("AZURE_AUTHORITY_HOST", authority.as_str()),
    ];
    vars.extend_from_slice(extra);
    app(azure, &vars).await
}

// ---- 3. The challenge's tenant is checked ----

#[actix_web::test]
async fn a_challenge_from_another_tenant_gets_no_token() {
    let azure = azure();
    azure.vault.challenge_tenant(OTHER_TENANT);
    let app = client_secret_app(&azure, &[]).await;
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());
    assert_eq!(azure.identity.token_requests(), 0, "no token is asked for a foreign tenant");
    assert!(
        logs::lines().iter().any(|l| l.contains(OTHER_TENANT) && l.contains(TENANT)),
        "a log line names both tenants: {:#?}",
        logs::lines()
    );
}

#[actix_web::test]
async fn additionally_allowed_tenants_are_asked_in_the_challenges_tenant() {
    for allowed in [OTHER_TENANT, "*", "aaaaaaaa-0000-0000-0000-000000000000, 0D6F0F0E-1C43-4A4B-9F8C-5B3C2A1D0E9F"] {
        let azure = azure();
        azure.vault.challenge_tenant(OTHER_TENANT);
        let app = client_secret_app(&azure, &[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", allowed)]).await;
        assert_eq!(app.get_secret("/vault/api-key").await.status, 200, "{allowed}");
        let issued = azure.identity.issued();
        assert_eq!(issued.lock().unwrap().tenants, [OTHER_TENANT], "{allowed}");
    }
}

#[actix_web::test]
async fn a_challenge_tenant_that_is_not_a_guid_is_refused_even_with_a_wildcard() {
    for tenant in ["contoso.onmicrosoft.com", "..%2f..%2fevil", "72f988bf-86f1-41af-91ab-2d7cd011db4"] {
        let azure = azure();
        azure.vault.challenge_tenant(tenant);
        let app = client_secret_app(&azure, &[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*")]).await;
        assert_eq!(app.get_secret("/vault/api-key").await.status, 502, "{tenant}");
        assert_eq!(azure.identity.token_requests(), 0, "{tenant}");
    }
}

#[actix_web::test]
async fn managed_identity_has_no_tenant_to_compare_and_ignores_the_challenges() {
    let azure = azure();
    azure.vault.challenge_tenant(OTHER_TENANT);
    let app = app(&azure, &[]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert_eq!(azure.identity.token_requests(), 1);
}

#[actix_web::test]
async fn an_unconfigured_allowed_tenant_list_is_refused_at_start() {
    let azure = azure();
    let started = std::panic::AssertUnwindSafe(client_secret_app(
        &azure,
        &[("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "not a tenant")],
    ));
    let outcome = futures_util::FutureExt::catch_unwind(started).await;
    assert!(outcome.is_err(), "a malformed AZURE_ADDITIONALLY_ALLOWED_TENANTS is a start-up error");
}

// ---- 5. Key Vault retries as the SDKs do ----

#[actix_web::test]
async fn the_sdks_transient_statuses_are_retried() {
    let azure = azure();
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "30")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let before = azure.vault.gets();
    azure.vault.fail_next([
        Fault::Status(408),
        Fault::ServerError,
        Fault::Status(502),
        Fault::Status(504),
        Fault::Unavailable(vec![("retry-after-ms", "10".into())]),
    ]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["value"], "api-key-value-1177");
    assert_eq!(azure.vault.gets() - before, 6);
}

#[actix_web::test]
async fn other_statuses_are_not_retried() {
    let azure = azure();
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0"), ("SECRET_MAX_STALE", "0")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let before = azure.vault.gets();
    azure.vault.fail_next([Fault::Status(501)]);
    assert_eq!(app.get_secret("/vault/api-key").await.status, 502);
    assert_eq!(azure.vault.gets() - before, 1);
}

#[actix_web::test]
async fn server_errors_past_the_budget_are_a_502() {
    let azure = azure();
    let app =
        app(&azure, &[("SECRET_CACHE_TTL", "0"), ("SECRET_MAX_STALE", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "1")])
            .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let before = azure.vault.gets();
    azure.vault.fail_next([Fault::ServerError, Fault::ServerError, Fault::ServerError, Fault::ServerError]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());
    let sent = azure.vault.gets() - before;
    assert!((2..=3).contains(&sent), "retried within one second of backoff, then gave up: {sent}");
}

#[actix_web::test]
async fn connection_errors_are_retried() {
    let azure = azure();
    let front = vaultgate_tests::fake_flaky::FlakyFront::start(&azure.vault.url, 2);
    let app = app(&azure, &[("KEY_VAULT_URL", front.url.as_str()), ("KEY_VAULT_RETRY_BUDGET_SECS", "10")]).await;
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(front.dropped(), 2);
}

// ---- 9. Expiry as Key Vault treats it ----

fn put_outside_window(azure: &Azure) {
    azure.vault.put("past-exp", FakeSecret { exp: Some(now() - 60), ..FakeSecret::new(V1, "expired-value") });
    azure.vault.put("early", FakeSecret { nbf: Some(now() + 3600), ..FakeSecret::new(V1, "early-value") });
}

#[actix_web::test]
async fn secrets_outside_their_window_are_served_flagged_by_default() {
    let azure = azure();
    put_outside_window(&azure);
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0")]).await;
    for _ in 0..2 {
        let answer = app.get_secret("/vault/past-exp").await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.json(),
            json!({"name": "past-exp", "value": "expired-value", "version": V1, "contentType": "text/plain"})
        );
        assert_eq!(answer.header("vaultgate-secret-validity"), Some("expired"));
    }
    let answer = app.get_secret("/vault/early").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["value"], "early-value");
    assert_eq!(answer.header("vaultgate-secret-validity"), Some("not-yet-valid"));
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.header("vaultgate-secret-validity"), None, "a valid secret is not flagged");

    let warnings: Vec<String> =
        logs::lines().into_iter().filter(|l| l.starts_with("WARN") && l.contains("secret=past-exp ")).collect();
    assert_eq!(warnings.len(), 1, "one warning per version: {warnings:#?}");
    assert!(warnings[0].contains(V1) && warnings[0].contains("expired"), "{warnings:#?}");

    let metrics = String::from_utf8(send(client().get(app.url("/metrics"))).await.body.to_vec()).unwrap();
    assert_eq!(metric(&metrics, r#"vaultgate_keyvault_secrets_outside_validity_total{validity="expired"}"#), 2.0);
    assert_eq!(metric(&metrics, r#"vaultgate_keyvault_secrets_outside_validity_total{validity="not_yet_valid"}"#), 1.0);
}

#[actix_web::test]
async fn enforce_refuses_them_as_before() {
    let azure = azure();
    put_outside_window(&azure);
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0"), ("SECRET_EXPIRY", "enforce")]).await;
    let disabled = |debug: &str| json!({"code": "SecretDisabled", "description": "Requested secret is disabled or not valid at this time.", "debug": debug});
    for (name, debug) in [("past-exp", "Secret has expired"), ("early", "Secret is not yet valid")] {
        let answer = app.get_secret(&format!("/vault/{name}")).await;
        assert_eq!(answer.status, 403, "{name}");
        assert_eq!(answer.json(), disabled(debug), "{name}");
    }
}

#[actix_web::test]
async fn an_unknown_expiry_policy_is_refused_at_start() {
    let azure = azure();
    let started = std::panic::AssertUnwindSafe(app(&azure, &[("SECRET_EXPIRY", "lenient")]));
    assert!(futures_util::FutureExt::catch_unwind(started).await.is_err());
}

#[actix_web::test]
async fn the_cache_never_serves_past_exp_when_enforcing() {
    let azure = azure();
    azure.vault.put("short", FakeSecret { exp: Some(now() + 2), ..FakeSecret::new(V1, "short-value") });
    let app = app(&azure, &[("SECRET_CACHE_TTL", "600"), ("SECRET_EXPIRY", "enforce")]).await;
    assert_eq!(app.get_secret("/vault/short").await.status, 200);
    // Waits for the secret's own clock, not for another task.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3100)).await;
    let answer = app.get_secret("/vault/short").await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["debug"], "Secret has expired");
}
