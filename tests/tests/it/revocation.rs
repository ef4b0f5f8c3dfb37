//! Revocation is seen within the TTL: explicit versions are cached no longer than
//! `SECRET_CACHE_TTL`, and a vault that refuses (401, 403) is never papered over with a
//! stale value; stale-if-error covers only 5xx, 429, timeouts and connection errors, of the
//! vault and of vaultgate's own identity endpoint (a refused credential is never covered).

use std::time::{Duration, Instant};

use serde_json::json;
use vaultgate_tests::TestApp;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, error_with_debug, vault_error};
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";

fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("db-password", FakeSecret::new(V1, "old-value"));
    azure.vault.put("db-password", FakeSecret::new(V2, "current-value"));
    azure
}

#[actix_web::test]
async fn a_version_disabled_in_the_vault_is_refused_within_the_ttl() {
    let azure = azure();
    let app = azure.app(&[("SECRET_CACHE_TTL", "1")]).await;
    let path = format!("/vault/db-password/{V1}");
    assert_eq!(app.get_secret(&path).await.json()["value"], "old-value");
    azure.vault.disable("db-password", V1);

    // The cached answer may serve for the TTL (1 s), not longer: poll until the refusal shows.
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let answer = app.get_secret(&path).await;
        if answer.status != 200 || Instant::now() > deadline {
            break answer;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refused.status, 403, "still served 5 s after the version was disabled (TTL 1 s)");
    assert_eq!(
        refused.json(),
        error_with_debug(
            "SecretDisabled",
            "Requested secret is disabled or not valid at this time.",
            "Secret is disabled"
        )
    );
}

/// vaultgate asking the vault on every read (no TTL), after one good read of the current version.
async fn app_with_a_cached_value(azure: &Azure, extra: &[(&str, &str)]) -> TestApp {
    let mut vars =
        vec![("SECRET_CACHE_TTL", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0"), ("UPSTREAM_TIMEOUT_SECS", "1")];
    vars.extend_from_slice(extra);
    let app = azure.app(&vars).await;
    assert_eq!(app.get_secret("/vault/db-password").await.json()["value"], "current-value");
    app
}

#[actix_web::test]
async fn a_vault_refusal_is_never_covered_by_a_stale_value() {
    let azure = azure();
    let app = app_with_a_cached_value(&azure, &[]).await;
    for (faults, case) in [
        (vec![Fault::ForbiddenByRbac], "403: role assignment removed or firewall"),
        (vec![Fault::Unauthorized, Fault::Unauthorized], "401 even after a fresh token"),
    ] {
        azure.vault.fail_next(faults);
        let answer = app.get_secret("/vault/db-password").await;
        assert_eq!(answer.status, 502, "{case}: {:?}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.json(), vault_error(), "{case}");
    }
    azure.vault.disable("db-password", V2);
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 403, "a disabled secret is never served stale");
}

#[actix_web::test]
async fn transient_failures_are_covered_by_the_last_good_value() {
    let azure = azure();
    let app = app_with_a_cached_value(&azure, &[]).await;
    for fault in [
        Fault::ServerError,
        Fault::Unavailable(vec![]),
        Fault::Throttled(vec![("retry-after", "1".into())]),
        Fault::Stall,
    ] {
        azure.vault.fail_next([fault.clone()]);
        let answer = app.get_secret("/vault/db-password").await;
        assert_eq!(answer.status, 200, "{fault:?}: {:?}", String::from_utf8_lossy(&answer.body));
        assert_eq!(answer.json()["value"], "current-value", "{fault:?}");
    }
}

#[actix_web::test]
async fn an_unusable_answer_is_not_covered() {
    let azure = azure();
    let app = app_with_a_cached_value(&azure, &[]).await;
    azure.vault.fail_next([Fault::BadJson]);
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 502, "a 200 that cannot be read is not a transient failure");
    assert_eq!(answer.json(), error("AzureKeyVaultFatalError", "Error getting response from Azure Key Vault."));
}

#[actix_web::test]
async fn an_identity_endpoint_that_is_down_is_covered_by_the_last_good_value() {
    let azure = azure();
    // Tokens shorter-lived than the margin they are used within: every read asks for one.
    azure.identity.token_lifetime(10);
    let app = app_with_a_cached_value(&azure, &[]).await;
    let gets = azure.vault.gets();
    azure.identity.stop().await;
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["value"], "current-value");
    assert_eq!(azure.vault.gets(), gets, "no GET went to the vault without a token");
}

#[actix_web::test]
async fn a_refused_credential_is_never_covered_by_a_stale_value() {
    let azure = azure();
    azure.identity.token_lifetime(10);
    let app = app_with_a_cached_value(&azure, &[]).await;
    azure.identity.script([(400, json!({"error": "invalid_request", "error_description": "Identity not found"}))]);
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(
        answer.status,
        502,
        "an identity the endpoint does not know: {:?}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json(), vault_error());
}
