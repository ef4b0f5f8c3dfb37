//! The managed identity sources the Azure SDKs detect besides App Service and IMDS, each
//! against a loopback fake answering in its documented wire shape (tests/wire/).

use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_identity::{IDENTITY_HEADER, MSI_SECRET};
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::fake_tls::{TlsFront, addr_of, self_signed_server_config, sha1_thumbprint};
use vaultgate_tests::{TestApp, logs};

const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";

fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("api-key", FakeSecret::new(VERSION, "api-key-value-3390"));
    azure
}

/// vaultgate reading the fake vault with these identity variables (local mode for callers:
/// an identity endpoint is a hosting environment).
async fn spawn(azure: &Azure, identity: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("VAULTGATE_MODE", "local"),
        ("SECRET_CACHE_TTL", "0"),
        ("KEY_VAULT_RETRY_BUDGET_SECS", "2"),
        ("UPSTREAM_TIMEOUT_SECS", "5"),
    ];
    vars.extend_from_slice(identity);
    TestApp::spawn_with(&vars).await
}

/// Service Fabric sets App Service's two variables plus its server's thumbprint; its endpoint
/// is HTTPS with a self-signed certificate that only the thumbprint vouches for.
#[actix_web::test]
async fn service_fabric_is_told_from_app_service_by_its_thumbprint_and_pinned_to_it() {
    let azure = azure();
    let (config, der) = self_signed_server_config(&["localhost"]);
    let front = TlsFront::start_with(config, addr_of(&azure.identity.base_url));
    let endpoint = format!("{}/metadata/identity/oauth2/token", front.url);
    // Windows shows thumbprints upper-case, with spaces between the bytes.
    let thumbprint = sha1_thumbprint(&der);
    let spaced: Vec<&str> = (0..20).map(|i| &thumbprint[2 * i..2 * i + 2]).collect();
    let spaced = spaced.join(" ");
    let app = spawn(
        &azure,
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
            ("IDENTITY_SERVER_THUMBPRINT", spaced.as_str()),
        ],
    )
    .await;
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 200, "{:?}", logs::lines());
    assert_eq!(azure.identity.token_requests(), 1);

    // Another thumbprint: the TLS handshake fails, so the `Secret` header never leaves.
    let handshakes = front.handshakes();
    let other = "0000000000000000000000000000000000000000";
    let app = spawn(
        &azure,
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
            ("IDENTITY_SERVER_THUMBPRINT", other),
        ],
    )
    .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 502);
    assert_eq!(front.handshakes(), handshakes, "no handshake completed with a certificate of another thumbprint");
    assert_eq!(azure.identity.token_requests(), 1, "no token was asked for");
    let lines = logs::lines();
    assert!(
        lines.iter().any(|l| l.contains("does not have the thumbprint in IDENTITY_SERVER_THUMBPRINT")),
        "{lines:#?}"
    );
}

/// `MSI_ENDPOINT` alone is Cloud Shell: a POST with the resource in a form.
#[actix_web::test]
async fn cloud_shell_posts_the_resource_as_a_form() {
    let azure = azure();
    let endpoint = format!("{}/cloudshell/token", azure.identity.base_url);
    let app = spawn(&azure, &[("MSI_ENDPOINT", endpoint.as_str())]).await;
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 200, "{:?}", logs::lines());
    assert_eq!(azure.identity.token_requests(), 1);
}

/// `MSI_ENDPOINT` + `MSI_SECRET` is Azure Machine Learning: a GET with `secret` and the
/// compute's identity in `clientid`.
#[actix_web::test]
async fn azure_ml_sends_its_secret_and_the_computes_client_id() {
    let azure = azure();
    let endpoint = format!("{}/azureml/token", azure.identity.base_url);
    let compute_identity = "7e9a4ab6-0000-0000-0000-00000000c1d1";
    let app = spawn(
        &azure,
        &[
            ("MSI_ENDPOINT", endpoint.as_str()),
            ("MSI_SECRET", MSI_SECRET),
            ("DEFAULT_IDENTITY_CLIENT_ID", compute_identity),
        ],
    )
    .await;
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 200, "{:?}", logs::lines());
    assert_eq!(azure.identity.ml_client_ids(), [compute_identity]);
    assert!(!logs::lines().iter().any(|l| l.contains(MSI_SECRET)), "the secret is never logged");
}

/// Azure Arc: the agent's 401 names a key file; a file outside the agent's token directory is
/// never read, and its content never sent.
#[actix_web::test]
async fn azure_arc_never_reads_a_key_file_outside_the_agents_directory() {
    let azure = azure();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("stolen.key");
    std::fs::write(&elsewhere, "not-for-the-agent").unwrap();
    azure.identity.arc_key_file(elsewhere.to_str().unwrap(), "not-for-the-agent");
    let endpoint = format!("{}/metadata/identity/oauth2/token", azure.identity.base_url);
    let app =
        spawn(&azure, &[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IMDS_ENDPOINT", azure.identity.base_url.as_str())])
            .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 502);
    assert_eq!(azure.identity.token_requests(), 0);
    let lines = logs::lines();
    assert!(lines.iter().any(|l| l.contains("not a .key file in /var/opt/azcmagent/tokens; not read")), "{lines:#?}");
}

/// Where the agent's key files live; the inner test below writes one there.
const ARC_TOKENS: &str = "/var/opt/azcmagent/tokens";
/// Set (by the outer test) when the inner test runs in a namespace of its own.
const IN_NAMESPACE: &str = "VAULTGATE_TEST_PRIVATE_VAR_OPT";

/// Azure Arc end to end, with the key file in the agent's real directory. The production
/// code reads only from there, so this test runs the one below in a user and mount namespace
/// of its own (`unshare`), where an empty tmpfs hides the machine's `/var/opt`: nothing
/// outside the test sees the file, and no setting moves the directory.
#[test]
fn azure_arc_answers_its_challenge_with_the_key_files_content() {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs tmpfs /var/opt && exec "$@""#)
        .arg("sh")
        .arg(&exe)
        .args([
            "--exact",
            "managed_identity_sources::azure_arc_in_a_private_var_opt",
            "--include-ignored",
            "--nocapture",
        ])
        .env(IN_NAMESPACE, "1")
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stdout.contains("1 passed"), "{stdout}\n{stderr}");
}

#[actix_web::test]
#[ignore = "run by azure_arc_answers_its_challenge_with_the_key_files_content, in a namespace"]
async fn azure_arc_in_a_private_var_opt() {
    assert!(std::env::var_os(IN_NAMESPACE).is_some(), "runs only in the outer test's namespace");
    std::fs::create_dir_all(ARC_TOKENS).unwrap();
    let key_file = format!("{ARC_TOKENS}/8f2d1c3b.key");
    let key = "9c2a7e4f0b1d6a83c5e7f9a1b3d5c7e9";
    std::fs::write(&key_file, key).unwrap();
    let azure = azure();
    azure.identity.arc_key_file(&key_file, key);
    let endpoint = format!("{}/metadata/identity/oauth2/token", azure.identity.base_url);
    let app =
        spawn(&azure, &[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IMDS_ENDPOINT", azure.identity.base_url.as_str())])
            .await;
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 200, "{:?}", logs::lines());
    assert_eq!(azure.identity.token_requests(), 1);
    assert!(!logs::lines().iter().any(|l| l.contains(key)), "the key is never logged");

    // A key file whose size the file system does not tell (procfs says 0 bytes) is read no
    // further than the limit through the handle opened, and refused: nothing is sent.
    let unbounded = format!("{ARC_TOKENS}/unbounded.key");
    std::os::unix::fs::symlink("/proc/self/smaps", &unbounded).unwrap();
    azure.identity.arc_key_file(&unbounded, key);
    let app =
        spawn(&azure, &[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IMDS_ENDPOINT", azure.identity.base_url.as_str())])
            .await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 502);
    assert_eq!(azure.identity.token_requests(), 1, "no token was issued");
    let refusal = format!("Azure Arc: {unbounded} holds more than a key's 4096 bytes");
    assert!(logs::lines().iter().any(|l| l.contains(&refusal)), "{:#?}", logs::lines());
}

/// A user-assigned identity by object id or resource id: App Service and IMDS spell the
/// parameters differently (`principal_id`/`mi_res_id` against `object_id`/`msi_res_id`).
#[actix_web::test]
async fn a_user_assigned_identity_by_object_or_resource_id_uses_each_endpoints_names() {
    let object_id = "2f2b8b3c-0000-4000-8000-0000000000aa";
    let resource_id = "/subscriptions/9b5b8b3c-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vaultgate";
    let azure = azure();
    let app_service = format!("{}/msi/token", azure.identity.base_url);
    let imds = azure.identity.base_url.clone();
    let by_object = [("MANAGED_IDENTITY_OBJECT_ID", object_id)];
    let by_resource = [("MANAGED_IDENTITY_RESOURCE_ID", resource_id)];
    for (selector, expected) in
        [(&by_object, ["principal_id", "object_id"]), (&by_resource, ["mi_res_id", "msi_res_id"])]
    {
        let before = azure.identity.selectors().len();
        let mut vars = vec![("IDENTITY_ENDPOINT", app_service.as_str()), ("IDENTITY_HEADER", IDENTITY_HEADER)];
        vars.extend_from_slice(selector);
        let on_app_service = spawn(&azure, &vars).await;
        assert_eq!(on_app_service.get_secret("/vault/api-key").await.status, 200, "{:?}", logs::lines());
        let mut vars = vec![("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.as_str())];
        vars.extend_from_slice(selector);
        let on_imds = spawn(&azure, &vars).await;
        assert_eq!(on_imds.get_secret("/vault/api-key").await.status, 200, "{:?}", logs::lines());
        let value = selector[0].1.to_owned();
        assert_eq!(
            azure.identity.selectors()[before..],
            [(expected[0].to_owned(), value.clone()), (expected[1].to_owned(), value)]
        );
    }
}
