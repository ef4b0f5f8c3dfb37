//! Operating the binary: graceful shutdown, JSON logs, and `vaultgate check` against fake
//! Entra ID and Key Vault servers on loopback.

use std::process::Command;

use crate::common::{Server, vaultgate};
use serde_json::Value;
use vaultgate::auth::dev_key::{DevKey, MintRequest};
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret, Fault, TENANT as KV_TENANT};
use vaultgate_tests::http::client;
use vaultgate_tests::send;

const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";

fn token(key_dir: &std::path::Path) -> String {
    vaultgate::crypto::install_providers();
    let key = DevKey::load_or_create(key_dir).unwrap();
    key.mint(&MintRequest { roles: vec!["GetSecret".into()], scopes: vec![], ttl_secs: 600 })
}

struct Azure {
    identity: FakeIdentity,
    vault: FakeKeyVault,
}

fn azure() -> Azure {
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), false);
    vault.put("api-key", FakeSecret::new(VERSION, "api-key-value-4410"));
    Azure { identity, vault }
}

/// Local mode (development caller tokens) beside the fake's IDENTITY_ENDPOINT, which alone
/// would refuse local mode.
fn local_mode(key_dir: &std::path::Path) -> Command {
    let mut command = vaultgate(key_dir);
    command.env("VAULTGATE_MODE", "local");
    command
}

fn with_vault(mut command: Command, azure: &Azure) -> Command {
    command
        .env("KEY_VAULT_URL", &azure.vault.url)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", azure.identity.base_url))
        .env("IDENTITY_HEADER", IDENTITY_HEADER);
    command
}

#[actix_web::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_zero() {
    let azure = azure();
    let key_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(with_vault(local_mode(key_dir.path()), &azure));
    let url = format!("{}/vault/api-key", server.url);
    let bearer = format!("Bearer {}", token(key_dir.path()));

    azure.vault.hold();
    let in_flight = actix_web::rt::spawn(send(client().get(url.clone()).insert_header(("Authorization", bearer))));
    azure.vault.holding(1).await;
    server.signal(libc::SIGTERM);
    server.wait_for_line("SIGTERM received: finishing requests in flight");
    azure.vault.release();

    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["value"], "api-key-value-4410");
    assert_eq!(server.wait_exit(), Some(0));
    // It no longer accepts connections.
    assert!(client().get(url).send().await.is_err());
}

#[actix_web::test]
async fn sigint_is_graceful_too() {
    let azure = azure();
    let key_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(with_vault(local_mode(key_dir.path()), &azure));
    let bearer = format!("Bearer {}", token(key_dir.path()));
    azure.vault.hold();
    let request = client().get(format!("{}/vault/api-key", server.url)).insert_header(("Authorization", bearer));
    let in_flight = actix_web::rt::spawn(send(request));
    azure.vault.holding(1).await;
    server.signal(libc::SIGINT);
    server.wait_for_line("SIGINT received: finishing requests in flight");
    azure.vault.release();
    assert_eq!(in_flight.await.unwrap().status, 200);
    assert_eq!(server.wait_exit(), Some(0));
}

/// Runs a command to completion off the test's runtime, so the fakes keep answering.
async fn output(mut command: Command) -> std::process::Output {
    actix_web::rt::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

#[actix_web::test]
async fn json_logs_are_json_on_every_line_and_keep_secrets_out() {
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = vaultgate(key_dir.path());
    command.env("LOG_FORMAT", "json");
    let mut server = Server::start(command);
    let token = token(key_dir.path());
    let answer = send(
        client()
            .get(format!("{}/vault/demo?secret=query-value-7781", server.url))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(answer.status, 200);
    send(client().get(format!("{}/health", server.url))).await;
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(), Some(0));

    let lines = server.lines();
    let records: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for record in &records {
        for field in ["time", "level", "target", "message"] {
            assert!(record[field].is_string(), "{field} missing: {record}");
        }
    }
    assert!(records.iter().any(|r| r["message"].as_str().unwrap().starts_with("vaultgate serves in local mode")));
    let access = records
        .iter()
        .find(|r| {
            r["target"] == "actix_web::middleware::logger" && r["message"].as_str().unwrap().contains("/vault/demo")
        })
        .expect("an access line");
    assert!(access["message"].as_str().unwrap().contains("\"GET /vault/demo\" 200"), "{access}");
    let audit = records.iter().find(|r| r["target"] == "audit").expect("an audit line");
    assert_eq!(audit["fields"]["secret"], "demo");
    assert_eq!(audit["fields"]["outcome"], "ok");
    let everything = lines.join("\n");
    for secret in [token.as_str(), "query-value-7781", "hello from vaultgate"] {
        assert!(!everything.contains(secret), "{secret} leaked into the logs");
    }
}

#[actix_web::test]
async fn json_logs_cover_configuration_errors_too() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path()).env("LOG_FORMAT", "json").env("PORT", "http").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let record: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(record["level"], "ERROR");
    assert!(record["message"].as_str().unwrap().starts_with("PORT: must be a port number"));
}

#[actix_web::test]
async fn check_passes_in_local_mode() {
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = vaultgate(key_dir.path());
    command.args(["check", "--secret", "demo"]);
    let output = output(command).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("ok   ")), "{stdout}");
    assert!(lines[3].starts_with("ok   secret: demo: version 174a8dc3ce261ae2dedfcf8be0749efc, 20 bytes"), "{stdout}");
    assert!(!stdout.contains("hello from vaultgate"));
}

#[actix_web::test]
async fn check_proves_an_azure_deployment_step_by_step() {
    let azure = azure();
    let entra = FakeEntra::start(&[vaultgate_tests::app::extra_key(0)]);
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = with_vault(vaultgate(key_dir.path()), &azure);
    command.env("TENANT_ID", TENANT).env("AD_SERVER_APP_ID", APP_ID).env("AUTHORITY_HOST", &entra.base_url);
    command.args(["check", "--secret", "api-key"]);
    let output = output(command).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let steps: Vec<&str> = stdout.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "ok   configuration",
            "ok   signing keys",
            "ok   key vault host",
            "ok   credential",
            "ok   challenge",
            "ok   token",
            "ok   probe",
            "ok   secret"
        ],
        "{stdout}"
    );
    let line = |step: &str| stdout.lines().find(|l| l[5..].starts_with(step)).unwrap().to_owned();
    assert!(line("configuration").contains("Azure mode (TENANT_ID is set)"), "{stdout}");
    assert!(line("key vault host").ends_with("is a loopback host: test doubles only"), "{stdout}");
    assert!(
        line("credential").contains(
            "managed identity via IDENTITY_ENDPOINT, chosen as IDENTITY_ENDPOINT and IDENTITY_HEADER are set"
        ),
        "{stdout}"
    );
    assert!(
        line("challenge").contains(&format!("scope {}/.default, tenant {KV_TENANT} (not passed on", azure.vault.url)),
        "{stdout}"
    );
    assert!(line("token").contains(" expires in "), "{stdout}");
    assert!(line("probe").contains("404 SecretNotFound: reachable, and secret reads are permitted"), "{stdout}");
    assert!(stdout.contains(&format!("api-key: version {VERSION}, 18 bytes")), "{stdout}");
    assert!(!stdout.contains("api-key-value-4410"));
    assert!(azure.vault.gets_of("vaultgate-probe-not-a-secret") >= 1, "the vault was probed with a real request");
}

#[actix_web::test]
async fn check_names_what_fails() {
    let azure = azure();
    azure.vault.fail_next([Fault::ForbiddenByRbac]);
    let entra = FakeEntra::start(&[vaultgate_tests::app::extra_key(0)]);
    entra.behave(vaultgate_tests::fake_entra::Behaviour::Unavailable);
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = with_vault(vaultgate(key_dir.path()), &azure);
    command.env("TENANT_ID", TENANT).env("AD_SERVER_APP_ID", APP_ID).env("AUTHORITY_HOST", &entra.base_url);
    command.arg("check");
    let output = output(command).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[1].starts_with("FAIL signing keys: discovery:") && lines[1].contains("answered 503"), "{stdout}");
    let steps: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        steps[2..],
        ["ok   key vault host", "ok   credential", "ok   challenge", "ok   token", "FAIL probe"],
        "{stdout}"
    );
    assert!(
        lines[6].contains("403 Forbidden/ForbiddenByRbac") && lines[6].contains("Key Vault Secrets User"),
        "{stdout}"
    );
}

#[actix_web::test]
async fn check_prints_the_credentials_refusal_with_its_aadsts_code() {
    let azure = azure();
    let aadsts: Value =
        serde_json::from_str(include_str!("../../../tests/wire/token-endpoint-error-aadsts.json")).unwrap();
    azure.identity.script([(401, aadsts)]);
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = local_mode(key_dir.path());
    command
        .env("KEY_VAULT_URL", &azure.vault.url)
        .env("AZURE_CLIENT_ID", "11111111-0000-0000-0000-000000000002")
        .env("AZURE_TENANT_ID", KV_TENANT)
        .env("AZURE_CLIENT_SECRET", "client-secret-value-0193")
        .env("AZURE_AUTHORITY_HOST", &azure.identity.base_url)
        .arg("check");
    let output = output(command).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let steps: Vec<&str> = lines.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        steps[2..],
        ["ok   key vault host", "ok   credential", "ok   challenge", "FAIL token", "FAIL probe"],
        "{stdout}"
    );
    assert!(lines[3].contains("client secret (client 11111111-0000-0000-0000-000000000002"), "{stdout}");
    assert!(
        lines[3].contains("chosen as AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set"),
        "{stdout}"
    );
    assert!(lines[4].contains(&format!("tenant {KV_TENANT}")), "{stdout}");
    assert!(lines[5].contains("invalid_client") && lines[5].contains("AADSTS7000215"), "{stdout}");
    assert!(lines[6].contains("not sent with a token"), "{stdout}");
    assert!(!stdout.contains("client-secret-value-0193"));
}
