//! Secrets hygiene: every error path, in both log formats and at the most verbose level,
//! and no caller token, credential token, identity header or secret value in any output,
//! nor any token in an error body.

use crate::common::{Server, vaultgate};
use serde_json::json;
use vaultgate::auth::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};
use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret, Fault};
use vaultgate_tests::http::client;
use vaultgate_tests::send;
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::now;

const VALUE: &str = "hygiene-secret-value-6601";
const DISABLED_VALUE: &str = "hygiene-disabled-value-2290";

async fn drive_every_path(log_format: &str) {
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), false);
    vault.put("db-password", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", VALUE));
    vault.put(
        "off",
        FakeSecret { enabled: false, ..FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", DISABLED_VALUE) },
    );
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = vaultgate(key_dir.path());
    command
        .env("LOG_FORMAT", log_format)
        .env("RUST_LOG", "trace")
        .env("KEY_VAULT_URL", &vault.url)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.base_url))
        .env("IDENTITY_HEADER", IDENTITY_HEADER)
        .env("VAULTGATE_MODE", "local") // IDENTITY_ENDPOINT alone would refuse local mode
        .env("SECRET_CACHE_TTL", "0")
        .env("SECRET_MAX_STALE", "0")
        .env("KEY_VAULT_RETRY_BUDGET_SECS", "0");
    let mut server = Server::start(command);

    vaultgate::crypto::install_providers();
    let key = TestKey::load_or_create(key_dir.path());
    let claims = |roles: &[&str], exp: i64, aud: &str| json!({"iss": LOCAL_ISSUER, "aud": aud, "exp": exp, "roles": roles, "oid": "o", "tid": "t", "azp": "c"});
    let good = key.sign(&claims(&["GetSecret"], now() + 600, LOCAL_AUDIENCE));
    let tokens = [
        good.clone(),
        key.sign(&claims(&["GetSecret"], now() - 600, LOCAL_AUDIENCE)),
        key.sign(&claims(&["GetSecret"], now() + 600, "api://other")),
        key.sign(&claims(&["Reader"], now() + 600, LOCAL_AUDIENCE)),
        key.sign(&json!({"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "exp": now() + 600, "azp": "c"})),
        format!("{}tampered", &good[..good.len() - 8]),
    ];
    let paths = [
        "/vault/db-password",
        "/vault/db-password/41cce6796d81438f9dad0d96bf85d50d",
        "/vault/off",
        "/vault/missing",
        "/vault/bad_name",
        "/vault/db-password/latest",
        "/vault?secret=db-password",
        "/vault",
        "/nope",
    ];
    let mut bodies = Vec::new();
    for token in &tokens {
        for path in paths {
            let answer = send(
                client()
                    .get(format!("{}{path}", server.url))
                    .insert_header(("Authorization", format!("Bearer {token}"))),
            )
            .await;
            bodies.push((token.clone(), answer.body));
        }
    }
    for header in [format!("Basic {good}"), format!("Bearer {good} extra"), "Bearer".into(), format!("bearer  {good}")]
    {
        let answer =
            send(client().get(format!("{}/vault/db-password", server.url)).insert_header(("Authorization", header)))
                .await;
        bodies.push((good.clone(), answer.body));
    }
    for fault in [Fault::ServerError, Fault::ForbiddenByRbac, Fault::BadJson, Fault::Throttled(vec![])] {
        vault.fail_next([fault]);
        let answer = send(
            client()
                .get(format!("{}/vault/db-password", server.url))
                .insert_header(("Authorization", format!("Bearer {good}"))),
        )
        .await;
        bodies.push((good.clone(), answer.body));
    }
    let oversized = send(
        client()
            .get(format!("{}/vault/db-password", server.url))
            .insert_header(("Authorization", format!("Bearer {good}")))
            .insert_header(("X-Pad", "p".repeat(40_000))),
    )
    .await;
    bodies.push((good.clone(), oversized.body));
    send(
        client()
            .post(format!("{}/vault/db-password", server.url))
            .insert_header(("Authorization", format!("Bearer {good}"))),
    )
    .await;
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(), Some(0));

    for (token, body) in &bodies {
        let text = String::from_utf8_lossy(body);
        assert!(!text.contains(token.as_str()), "an error body echoes the token: {text}");
    }
    let output = server.lines().join("\n");
    assert!(output.contains("secret access"), "the run logged (audit lines at trace level)");
    let mut forbidden: Vec<String> = tokens.to_vec();
    forbidden.extend([IDENTITY_HEADER.to_owned(), DISABLED_VALUE.to_owned()]);
    forbidden.extend(identity.tokens());
    for secret in &forbidden {
        assert!(!output.contains(secret.as_str()), "{log_format} output leaks {secret:?}");
    }
    // A secret value is printed nowhere but in the 200 bodies.
    assert!(!output.contains(VALUE), "{log_format} output leaks the secret value");
}

#[actix_web::test]
async fn nothing_secret_reaches_text_logs() {
    drive_every_path("text").await;
}

#[actix_web::test]
async fn nothing_secret_reaches_json_logs() {
    drive_every_path("json").await;
}
