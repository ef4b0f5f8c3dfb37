//! The Key Vault store over HTTP: a fake Key Vault and fake token endpoints on loopback,
//! the real server in between, and every answer checked as a caller sees it.

use actix_web::http::header::AUTHORIZATION;
use serde_json::json;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, vault_error};
use vaultgate_tests::fake_identity::{CLIENT_SECRET, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault, TENANT};
use vaultgate_tests::http::client;
use vaultgate_tests::tokens::{self, now};
use vaultgate_tests::{TestApp, logs, send};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";

/// The kit's fake Key Vault holding `db-password` (two versions) and `api-key`, and its
/// identity endpoints. The vault challenges tokens issued for the public cloud's resource.
fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("db-password", FakeSecret::new(V1, "old-db-value-5521"));
    azure.vault.put("db-password", FakeSecret::new(V2, "db-value-8830-current"));
    azure.vault.put("api-key", FakeSecret { content_type: None, ..FakeSecret::new(V1, "api-key-value-1177") });
    azure
}

/// vaultgate in local mode (development caller tokens) reading the fake vault through the
/// App Service managed identity (the kit's `Azure::app`), plus `extra` variables.
async fn app(azure: &Azure, extra: &[(&str, &str)]) -> TestApp {
    azure.app(extra).await
}

fn caller(roles: &[&str]) -> String {
    tokens::valid(shared_key(), roles)
}

#[actix_web::test]
async fn a_secret_is_read_through_the_challenge_flow() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(
        answer.json(),
        json!({"name": "db-password", "value": "db-value-8830-current", "version": V2, "contentType": "text/plain"})
    );
    // As the SDKs do: the first GET carries no token and meets the wire challenge; only then
    // is a token asked, for the challenge's scope, and it works.
    assert_eq!(azure.vault.unauthenticated(), 1);
    assert_eq!(azure.vault.challenges(), 1);
    assert_eq!(azure.vault.gets(), 2);
    assert_eq!(azure.identity.token_requests(), 1);
    let issued = azure.identity.issued();
    assert_eq!(issued.lock().unwrap().tokens.values().collect::<Vec<_>>(), [&azure.vault.url]);

    let answer = app.get_secret(&format!("/vault/db-password/{V1}")).await;
    assert_eq!(answer.json()["value"], "old-db-value-5521");
    assert_eq!(answer.json()["version"], V1);
    let answer = app.get_secret("/vault?secret=api-key").await;
    assert_eq!(answer.json(), json!({"name": "api-key", "value": "api-key-value-1177", "version": V1}));
}

#[actix_web::test]
async fn one_credential_token_serves_a_hundred_reads() {
    let azure = azure();
    for i in 0..100 {
        azure.vault.put(&format!("s{i}"), FakeSecret::new(V1, &format!("value-{i}")));
    }
    let app = app(&azure, &[]).await;
    for i in 0..100 {
        let answer = app.get_secret(&format!("/vault/s{i}")).await;
        assert_eq!(answer.json()["value"], format!("value-{i}"));
    }
    assert_eq!(azure.identity.token_requests(), 1, "one token, for the challenge's scope");
    assert_eq!(azure.vault.gets(), 101);
    assert_eq!(azure.vault.unauthenticated(), 1, "later reads reuse the token");
}

#[actix_web::test]
async fn a_token_key_vault_keeps_refusing_is_a_502() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    azure.vault.fail_next([Fault::Unauthorized, Fault::Unauthorized]);
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());
}

#[actix_web::test]
async fn key_vault_answers_map_to_the_catalog() {
    let azure = azure();
    azure.vault.put("off", FakeSecret { enabled: false, ..FakeSecret::new(V1, "off-value") });
    azure.vault.put("expired", FakeSecret { exp: Some(now() - 60), ..FakeSecret::new(V1, "expired-value") });
    azure.vault.put("early", FakeSecret { nbf: Some(now() + 3600), ..FakeSecret::new(V1, "early-value") });
    // Refused as before only when enforced; one attempt each (500 is otherwise retried).
    let app =
        app(&azure, &[("SECRET_CACHE_TTL", "0"), ("SECRET_EXPIRY", "enforce"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")])
            .await;

    let answer = app.get_secret("/vault/missing").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json(), error("SecretNotFound", "Requested secret not found in Key Vault."));

    let disabled = |debug: &str| json!({"code": "SecretDisabled", "description": "Requested secret is disabled or not valid at this time.", "debug": debug});
    for (name, debug) in
        [("off", "Secret is disabled"), ("expired", "Secret has expired"), ("early", "Secret is not yet valid")]
    {
        let answer = app.get_secret(&format!("/vault/{name}")).await;
        assert_eq!(answer.status, 403, "{name}");
        assert_eq!(answer.json(), disabled(debug), "{name}");
        assert_eq!(answer.header("www-authenticate"), None, "{name}: not an authentication failure");
    }

    for fault in [Fault::ForbiddenByRbac, Fault::ServerError, Fault::BadJson] {
        azure.vault.fail_next([fault.clone()]);
        let answer = app.get_secret("/vault/api-key").await;
        assert_eq!(answer.status, 502, "{fault:?}");
        assert_eq!(answer.json(), vault_error(), "{fault:?}");
    }
}

#[actix_web::test]
async fn a_stalled_or_unreachable_vault_is_a_502_within_the_timeout() {
    let azure = azure();
    // No retry budget: a timeout is otherwise retried, as the SDKs do.
    let app = app(&azure, &[("UPSTREAM_TIMEOUT_SECS", "1"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    azure.vault.fail_next([Fault::Stall]);
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());

    // Nothing listens at this address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}");
    let app = self::app(&azure, &[("KEY_VAULT_URL", url.as_str()), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")]).await;
    let answer = app.get_secret("/vault/db-password").await;
    assert_eq!(answer.status, 502);
}

#[actix_web::test]
async fn throttling_is_retried_with_the_answers_delay() {
    let azure = azure();
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let before = azure.vault.gets();
    azure.vault.fail_next([
        Fault::Throttled(vec![("retry-after-ms", "30".into())]),
        Fault::Unavailable(vec![("x-ms-retry-after-ms", "20".into())]),
        Fault::Throttled(vec![("retry-after", "0".into())]),
    ]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 200);
    assert_eq!(azure.vault.gets() - before, 4);
}

#[actix_web::test]
async fn throttling_past_the_budget_is_a_503_with_retry_after() {
    let azure = azure();
    let app = app(&azure, &[("KEY_VAULT_RETRY_BUDGET_SECS", "1")]).await;
    azure.vault.fail_next([Fault::Throttled(vec![])]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("2"), "the wire sample's Retry-After");
    assert_eq!(
        answer.json(),
        error("AzureKeyVaultThrottled", "Azure Key Vault is throttling requests; try again later.")
    );
}

#[actix_web::test]
async fn a_hundred_concurrent_reads_of_an_uncached_secret_make_one_get() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200, "warms the credential");
    let before = azure.vault.gets_of("db-password");
    azure.vault.hold();
    let token = caller(&["GetSecret"]);
    let client = client();
    let reads = (0..100).map(|_| {
        send(client.get(app.url("/vault/db-password")).insert_header((AUTHORIZATION, format!("Bearer {token}"))))
    });
    let releaser = async {
        azure.vault.holding(1).await;
        azure.vault.release();
    };
    let (answers, ()) = futures_util::future::join(futures_util::future::join_all(reads), releaser).await;
    assert!(answers.iter().all(|a| a.status == 200 && a.json()["value"] == "db-value-8830-current"));
    assert_eq!(azure.vault.gets_of("db-password") - before, 1);
}

#[actix_web::test]
async fn not_found_answers_are_remembered_briefly() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    for _ in 0..20 {
        assert_eq!(app.get_secret("/vault/no-such-secret").await.status, 404);
    }
    assert_eq!(azure.vault.gets_of("no-such-secret"), 2, "the challenged GET and one answered GET");
}

#[actix_web::test]
async fn a_failing_vault_is_covered_by_the_last_good_value() {
    let azure = azure();
    // No retry budget: the 500 would otherwise be retried away.
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.json()["value"], "api-key-value-1177");
    azure.vault.fail_next([Fault::ServerError]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["value"], "api-key-value-1177");
    assert!(logs::lines().iter().any(|l| l.contains("api-key served from cache")));

    // Without any stale allowance the failure shows.
    let strict = self::app(
        &azure,
        &[("SECRET_CACHE_TTL", "0"), ("SECRET_MAX_STALE", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")],
    )
    .await;
    assert_eq!(strict.get_secret("/vault/api-key").await.status, 200);
    azure.vault.fail_next([Fault::ServerError]);
    assert_eq!(strict.get_secret("/vault/api-key").await.status, 502);
}

#[actix_web::test]
async fn exposure_policy_hides_names_without_calling_the_vault() {
    let azure = azure();
    let app = app(&azure, &[("EXPOSED_SECRETS", "db-*")]).await;
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json(), error("SecretNotFound", "Requested secret not found in Key Vault."));
    assert_eq!(azure.vault.gets(), 0);
    assert_eq!(app.get_secret("/vault/db-password").await.status, 200);
}

#[actix_web::test]
async fn secret_roles_require_the_mapped_role() {
    let azure = azure();
    let app = app(&azure, &[("SECRET_ROLES", "db-*=DbReader,*=GetSecret")]).await;
    let answer = app.get_as("/vault/db-password", &caller(&["GetSecret"])).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        json!({"code": "MissingRequiredRole", "description": "Access token missing required roles.", "debug": "Missing required role for accessing path /vault/db-password"})
    );
    assert_eq!(answer.header("www-authenticate"), Some(r#"Bearer error="insufficient_scope", scope="DbReader""#));
    assert_eq!(azure.vault.gets(), 0, "refused before the vault");
    assert_eq!(app.get_as("/vault/db-password", &caller(&["GetSecret", "DbReader"])).await.status, 200);
    assert_eq!(app.get_as("/vault/api-key", &caller(&["GetSecret"])).await.status, 200);
}

#[actix_web::test]
async fn workload_identity_rereads_its_token_file() {
    let azure = azure();
    azure.identity.token_lifetime(120); // under the 5-minute renewal margin: every read fetches a token
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated-assertion-one").unwrap();
    let file_path = file.display().to_string();
    let authority = azure.identity.base_url.clone();
    let app = app(
        &azure,
        &[
            ("IDENTITY_ENDPOINT", ""),
            ("AZURE_FEDERATED_TOKEN_FILE", file_path.as_str()),
            ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000001"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_AUTHORITY_HOST", authority.as_str()),
            ("SECRET_CACHE_TTL", "0"),
        ],
    )
    .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    std::fs::write(&file, "federated-assertion-two").unwrap();
    // The held token is due for renewal: the next read is served with it and renews it in the
    // background, which reads the file again. Wait (bounded) for that renewal's request.
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let issued = azure.identity.issued();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sent = issued.lock().unwrap().assertions.clone();
        if sent.iter().any(|a| a == "federated-assertion-two") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the file was not read again: {sent:?}");
        actix_web::rt::task::yield_now().await;
    }
    let issued = issued.lock().unwrap();
    assert_eq!(issued.assertions.first().map(String::as_str), Some("federated-assertion-one"));
    assert!(issued.tenants.iter().all(|t| t == TENANT), "{:?}", issued.tenants);
}

#[actix_web::test]
async fn a_client_secret_credential_reads_secrets() {
    let azure = azure();
    let authority = azure.identity.base_url.clone();
    let app = app(
        &azure,
        &[
            ("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
            ("AZURE_AUTHORITY_HOST", authority.as_str()),
        ],
    )
    .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert_eq!(azure.identity.token_requests(), 1);
}

#[actix_web::test]
async fn imds_is_the_last_resort() {
    let azure = azure();
    let imds = azure.identity.base_url.clone();
    let app = app(&azure, &[("IDENTITY_ENDPOINT", ""), ("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.as_str())]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert_eq!(azure.identity.token_requests(), 1);
}

#[actix_web::test]
async fn logs_never_hold_a_secret_value_or_a_token() {
    let azure = azure();
    let app = app(&azure, &[("SECRET_CACHE_TTL", "0"), ("KEY_VAULT_RETRY_BUDGET_SECS", "0")]).await;
    let token = caller(&["GetSecret"]);
    app.get_as("/vault/db-password", &token).await;
    app.get_as(&format!("/vault/db-password/{V1}"), &token).await;
    azure.vault.fail_next([Fault::ServerError, Fault::BadJson, Fault::ForbiddenByRbac]);
    for _ in 0..3 {
        app.get_as("/vault/api-key", &token).await;
    }
    app.get_as("/vault/api-key", &token).await;
    app.get_as("/vault/missing", &caller(&["Reader"])).await;
    send(
        client()
            .get(app.url("/vault/api-key?secret=query-canary-4471"))
            .insert_header((AUTHORIZATION, "Bearer not.a.token")),
    )
    .await;

    let lines = logs::lines();
    let mut forbidden = vec![
        token.clone(),
        "db-value-8830-current".into(),
        "old-db-value-5521".into(),
        "api-key-value-1177".into(),
        IDENTITY_HEADER.into(),
    ];
    forbidden.extend(azure.identity.tokens());
    for line in &lines {
        for secret in &forbidden {
            assert!(!line.contains(secret.as_str()), "a log line leaks {secret:?}: {line}");
        }
    }
    let audit: Vec<&String> = lines.iter().filter(|l| l.starts_with("INFO audit ")).collect();
    let expected_ok = format!(
        "INFO audit secret access secret=db-password version={V2} outcome=ok oid=11111111-2222-3333-4444-555555555555 appid=test-client tid=00000000-0000-0000-0000-000000000000 latency_ms="
    );
    assert!(audit.iter().any(|l| l.starts_with(&expected_ok)), "{audit:#?}");
    assert!(
        audit.iter().any(|l| l.contains("secret=api-key ") && l.contains("outcome=AzureKeyVaultFatalError")),
        "{audit:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("query-canary-4471")), "query values are not logged");
}

#[actix_web::test]
async fn health_reports_the_key_vault_store() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    let answer = send(client().get(app.url("/health"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["components"]["secret_store"]["kind"], "key-vault");
}

#[actix_web::test]
async fn the_probe_needs_key_vaults_own_not_found() {
    let azure = azure();
    let app = app(&azure, &[]).await;
    azure.vault.fail_next([Fault::ForeignNotFound]);
    let answer = send(client().get(app.url("/health"))).await;
    assert_eq!(answer.status, 500, "a 404 without SecretNotFound is not the vault");
    assert_eq!(answer.json()["debug"], "secret_store: unreachable");

    // A read meeting such a 404 is not a missing secret either.
    azure.vault.fail_next([Fault::ForeignNotFound]);
    let answer = app.get_secret("/vault/api-key").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());
}
