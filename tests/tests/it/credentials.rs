//! vaultgate's own credential against Azure's hiccups: tokens renewed ahead of expiry in the
//! background, a valid token kept in use while renewal fails, managed identity endpoints
//! retried as MSAL documents, and refusals logged with what the endpoint said.

use serde_json::{Value, json};
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_identity::{CLIENT_SECRET, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeSecret, TENANT};
use vaultgate_tests::{TestApp, logs};

const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";
const WIRE_AADSTS: &str = include_str!("../../wire/token-endpoint-error-aadsts.json");

/// The kit's fake vault and identity endpoints, holding `api-key`.
fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("api-key", FakeSecret::new(VERSION, "api-key-value-3390"));
    azure
}

/// vaultgate reading the fake vault with a client secret credential, no secret cache (every
/// read asks the vault, so every read needs a token).
async fn client_secret_app(azure: &Azure) -> TestApp {
    let authority = azure.identity.base_url.clone();
    TestApp::spawn_with(&[
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ("AZURE_AUTHORITY_HOST", authority.as_str()),
        ("SECRET_CACHE_TTL", "0"),
        ("UPSTREAM_TIMEOUT_SECS", "5"),
    ])
    .await
}

fn aadsts_refusal() -> (u16, Value) {
    let body: Value = serde_json::from_str(WIRE_AADSTS).unwrap();
    (401, body)
}

#[actix_web::test]
async fn a_due_token_is_renewed_in_the_background_while_reads_go_on() {
    let azure = azure();
    azure.identity.refresh_in(Some(0));
    let app = client_secret_app(&azure).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let issued = azure.identity.token_requests();

    // The renewal now due hangs at the identity endpoint; reads still get their secret at once.
    azure.identity.stall(true);
    for _ in 0..3 {
        assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    }
    azure.identity.stall(false);
    azure.identity.wait_for_requests(issued + 1).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert!(azure.identity.token_requests() > issued, "the token was renewed");
}

#[actix_web::test]
async fn a_valid_token_stays_in_use_while_its_renewal_fails() {
    let azure = azure();
    azure.identity.refresh_in(Some(0));
    let app = client_secret_app(&azure).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let seen = azure.identity.token_requests();
    azure.identity.script([aadsts_refusal()]);
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200, "read with the current token");
    azure.identity.wait_for_requests(seen + 1).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200, "the failed renewal changed nothing");
    let lines = logs::lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("renewing the token failed, the current one stays in use")
                && l.contains("AADSTS7000215")),
        "{lines:#?}"
    );
}

#[actix_web::test]
async fn refusals_are_logged_with_their_aadsts_codes_and_never_the_secret() {
    let azure = azure();
    let app = client_secret_app(&azure).await;
    azure.identity.script([aadsts_refusal()]);
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 502);
    let lines = logs::lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("invalid_client [AADSTS7000215] AADSTS7000215: Invalid client secret provided")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains(CLIENT_SECRET)), "the client secret is never logged");
}

#[actix_web::test]
async fn managed_identity_endpoints_are_retried_as_msal_documents() {
    let azure = azure();
    let endpoint = format!("{}/msi/token", azure.identity.base_url);
    let app = TestApp::spawn_with(&[
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
        // The identity endpoint is a hosting environment: local mode only when asked for.
        ("VAULTGATE_MODE", "local"),
        ("UPSTREAM_TIMEOUT_SECS", "5"),
    ])
    .await;
    // The identity is not assigned yet (404), then the host has a hiccup (503).
    azure.identity.script([
        (404, json!({"statusCode": 404, "message": "No managed identity assigned yet"})),
        (503, json!({"statusCode": 503, "message": "Service unavailable"})),
    ]);
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert_eq!(
        azure.identity.token_requests(),
        1,
        "one token, for the challenge's scope, after two retries (the first GET goes without)"
    );

    let imds = azure.identity.base_url.clone();
    let app = TestApp::spawn_with(&[
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.as_str()),
        ("UPSTREAM_TIMEOUT_SECS", "5"),
    ])
    .await;
    azure.identity.script([(429, json!({"error": "too_many_requests", "error_description": "slow down"}))]);
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
}
