//! The `vaultgate` binary as a newcomer runs it: `serve` in local mode, `token` beside it.

use crate::common::{Server, vaultgate};

fn mint(key_dir: &std::path::Path, args: &[&str]) -> String {
    let output = vaultgate(key_dir).arg("token").args(args).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.matches('\n').count(), 1, "one line: {token:?}");
    token.trim().to_owned()
}

#[actix_web::test]
async fn a_token_from_the_cli_reads_the_demo_secret_from_the_served_binary() {
    let key_dir = tempfile::tempdir().unwrap();
    // The token command runs first here, so it generates the key the server then reuses.
    let token = mint(key_dir.path(), &["--role", "GetSecret"]);
    let server = Server::start(vaultgate(key_dir.path()));
    let url = server.url.clone();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let client = awc::Client::default();
    let mut response = client
        .get(format!("{url}/vault/demo"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["name"], "demo");
    assert_eq!(body["value"], "hello from vaultgate");

    // A token without the role is refused by the same server.
    let no_role = mint(key_dir.path(), &["--scope", "User.Read", "--ttl", "60"]);
    let response = client
        .get(format!("{url}/vault/demo"))
        .insert_header(("Authorization", format!("Bearer {no_role}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[test]
fn a_public_bind_in_local_mode_stops_start_up_with_a_clear_message() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path()).env("BIND", "0.0.0.0").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BIND: local mode (TENANT_ID unset) serves on loopback only"), "{stderr}");
}

#[test]
fn the_token_command_refuses_azure_mode() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path())
        .args(["token", "--role", "GetSecret"])
        .env("TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .env("AD_SERVER_APP_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("az account get-access-token"));
}

#[test]
fn unknown_arguments_print_usage() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path()).arg("--frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
}

#[test]
fn bad_azure_configuration_names_every_variable_and_exits_before_binding() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path())
        .env("TENANT_ID", "contoso.onmicrosoft.com")
        .env("AUTHORITY_HOST", "http://login.example.com")
        .env("PORT", "7071")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].starts_with("vaultgate: configuration: AUTHORITY_HOST: must start with https://"), "{stderr}");
    assert!(lines[1].starts_with("vaultgate: configuration: TENANT_ID: must be a GUID"), "{stderr}");
    assert!(lines[2].starts_with("vaultgate: configuration: AD_SERVER_APP_ID: required"), "{stderr}");
}

#[test]
fn a_blank_tenant_id_stops_start_up_with_one_line() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path()).env("TENANT_ID", "").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("vaultgate: configuration: TENANT_ID: set but blank"), "{stderr}");
}

#[test]
fn a_hosting_environment_refuses_local_mode_before_binding() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path()).env("KUBERNETES_SERVICE_HOST", "10.0.0.1").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("vaultgate: configuration: TENANT_ID: "), "{stderr}");
    assert!(lines[0].contains("KUBERNETES_SERVICE_HOST"), "{stderr}");
    assert!(lines[0].contains("set TENANT_ID and AD_SERVER_APP_ID"), "{stderr}");
}

#[test]
fn an_explicit_local_mode_in_a_hosting_environment_is_a_warning_at_start() {
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = vaultgate(key_dir.path());
    command.env("KUBERNETES_SERVICE_HOST", "10.0.0.1").env("VAULTGATE_MODE", "local");
    let server = Server::start(command);
    server.wait_for_line("VAULTGATE_MODE=local overrides the hosting environment (KUBERNETES_SERVICE_HOST)");
    let lines = server.lines();
    let warning = lines.iter().find(|l| l.contains("VAULTGATE_MODE=local overrides")).unwrap();
    assert!(warning.contains("WARN"), "{warning}");
    assert!(lines.iter().any(|l| l.contains("local mode: VAULTGATE_MODE=local, overriding")), "{lines:#?}");
}
