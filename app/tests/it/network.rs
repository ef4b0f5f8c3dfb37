//! Corporate networks: the binary reaches Entra ID, the identity endpoint and Key Vault
//! through an HTTP proxy (`HTTPS_PROXY`/`HTTP_PROXY`, minus `NO_PROXY`) and trusts the roots
//! `SSL_CERT_FILE`/`SSL_CERT_DIR` name. Each test runs the binary with an environment of its
//! own; the proxy, the TLS fronts and the Azure fakes all listen on 127.0.0.1. Loopback is
//! never proxied, so the fakes are reached through the proxy by name (the proxy routes each
//! name to its loopback front), and a name reached directly resolves to 127.0.0.1 through an
//! `/etc/hosts` of the binary's own (`with_hosts`): no test asks DNS.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Server, vaultgate};
use base64::Engine;
use serde_json::{Value, json};
use vaultgate::auth::dev_key::{DevKey, MintRequest};
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret};
use vaultgate_tests::fake_proxy::{FakeProxy, ProxyBehaviour};
use vaultgate_tests::fake_tls::{TestCa, TlsFront, addr_of};
use vaultgate_tests::http::client;
use vaultgate_tests::{Reply, send};

const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";
const VALUE: &str = "api-key-value-6203";
/// A public-cloud vault name: only the proxy knows where it is (its route to the TLS front).
const VAULT_HOST: &str = "contoso.vault.azure.net";
/// The identity endpoint by name: the proxy's route, or the binary's own `/etc/hosts`, says where.
const IDENTITY_HOST: &str = "identity.corp.test";

struct Azure {
    identity: FakeIdentity,
    vault: FakeKeyVault,
}

/// A fake vault holding `api-key`; `public_cloud` makes it accept tokens for
/// `https://vault.azure.net`, as a vault behind `VAULT_HOST` would.
fn azure(public_cloud: bool) -> Azure {
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), public_cloud);
    vault.put("api-key", FakeSecret::new(VERSION, VALUE));
    vault.put("db-password", FakeSecret::new(VERSION, "db-value-1432"));
    Azure { identity, vault }
}

/// vaultgate in local mode reading `vault_url` as the fake App Service managed identity.
fn with_vault(mut command: Command, azure: &Azure, vault_url: &str) -> Command {
    command
        .env("KEY_VAULT_URL", vault_url)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", azure.identity.base_url))
        // The identity endpoint is a hosting environment: local mode only when asked for.
        .env("VAULTGATE_MODE", "local")
        .env("IDENTITY_HEADER", IDENTITY_HEADER)
        .env("UPSTREAM_TIMEOUT_SECS", "2")
        .env("KEY_VAULT_RETRY_BUDGET_SECS", "1");
    command
}

/// HTTPS fronts of the fake vault and identity endpoint, by name, with a certificate from a CA
/// written for `SSL_CERT_FILE`.
struct Fronts {
    vault: TlsFront,
    identity: TlsFront,
    ca_file: PathBuf,
    _files: tempfile::TempDir,
}

impl Fronts {
    fn start(azure: &Azure) -> Fronts {
        let ca = TestCa::new("Contoso TLS Inspection CA");
        let vault = TlsFront::start(&ca, &[VAULT_HOST], addr_of(&azure.vault.url));
        let identity = TlsFront::start(&ca, &[IDENTITY_HOST], addr_of(&azure.identity.base_url));
        let files = tempfile::tempdir().unwrap();
        let ca_file = ca.write_pem(files.path(), "contoso-ca.pem");
        Fronts { vault, identity, ca_file, _files: files }
    }

    /// `command` reading the vault as `https://contoso.vault.azure.net` and the identity
    /// endpoint as `https://identity.corp.test:<its front's port>`, trusting the fronts' CA.
    fn by_name(&self, mut command: Command) -> Command {
        command
            .env("KEY_VAULT_URL", format!("https://{VAULT_HOST}"))
            .env("IDENTITY_ENDPOINT", format!("https://{}/msi/token", self.identity_authority()))
            .env("SSL_CERT_FILE", &self.ca_file);
        command
    }

    fn identity_authority(&self) -> String {
        format!("{IDENTITY_HOST}:{}", self.identity.addr.port())
    }

    /// The proxy's tunnels to the two names end at the fronts.
    fn route(&self, proxy: &FakeProxy) {
        proxy.route(&format!("{VAULT_HOST}:443"), self.vault.addr);
        proxy.route(&self.identity_authority(), self.identity.addr);
    }
}

/// `command` run in a user and mount namespace of its own whose `/etc/hosts` maps `names` to
/// 127.0.0.1 (as `azure_arc_answers_its_challenge_with_the_key_files_content` hides
/// `/var/opt`): a name reached directly resolves to a loopback fake without a DNS query, and
/// nothing outside the binary sees the file.
fn with_hosts(command: &Command, names: &[&str], dir: &Path) -> Command {
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, names.iter().map(|name| format!("127.0.0.1 {name}\n")).collect::<String>()).unwrap();
    let mut wrapped = Command::new("unshare");
    wrapped
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", r#"mount --bind "$0" /etc/hosts && exec "$@""#])
        .arg(&hosts)
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(name, value);
        }
    }
    wrapped
}

fn token(key_dir: &std::path::Path) -> String {
    vaultgate::crypto::install_providers();
    let key = DevKey::load_or_create(key_dir).unwrap();
    key.mint(&MintRequest { roles: vec!["GetSecret".into()], scopes: vec![], ttl_secs: 600 })
}

async fn read(server: &Server, key_dir: &std::path::Path, name: &str) -> Reply {
    let bearer = format!("Bearer {}", token(key_dir));
    send(client().get(format!("{}/vault/{name}", server.url)).insert_header(("Authorization", bearer))).await
}

/// `command` with every upstream call through `proxy`, except the identity endpoint on
/// loopback, which is never proxied.
fn through(mut command: Command, proxy: &FakeProxy) -> Command {
    command.env("HTTPS_PROXY", &proxy.url).env("HTTP_PROXY", &proxy.url);
    command
}

fn vault_error() -> Value {
    json!({"code": "AzureKeyVaultFatalError", "description": "Error getting response from Azure Key Vault."})
}

async fn output(mut command: Command) -> std::process::Output {
    actix_web::rt::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// A vault and an identity endpoint reached by name through a proxy that routes each name to
/// its loopback front, and the binary's command to read from them (no proxy variable set yet).
struct ThroughProxy {
    azure: Azure,
    fronts: Fronts,
    proxy: FakeProxy,
    key_dir: tempfile::TempDir,
    command: Command,
}

fn through_proxy() -> ThroughProxy {
    let azure = azure(true);
    let fronts = Fronts::start(&azure);
    let proxy = FakeProxy::start();
    fronts.route(&proxy);
    let key_dir = tempfile::tempdir().unwrap();
    let command = fronts.by_name(with_vault(vaultgate(key_dir.path()), &azure, &azure.vault.url));
    ThroughProxy { azure, fronts, proxy, key_dir, command }
}

#[actix_web::test]
async fn the_identity_endpoint_and_key_vault_are_reached_through_the_proxy() {
    let ThroughProxy { azure: _azure, fronts, proxy, key_dir, mut command } = through_proxy();
    command.env("HTTPS_PROXY", &proxy.url);
    let server = Server::start(command);

    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    assert_eq!(answer.json()["value"], VALUE);
    // The vault first (a token-less request, for its challenge), then the token; each through a
    // tunnel of its own (the vault's tunnel is kept alive for the read that follows).
    assert_eq!(proxy.targets(), [format!("{VAULT_HOST}:443"), fronts.identity_authority()]);
    assert!(proxy.tunnels() >= 2, "{} tunnels", proxy.tunnels());
    assert!(proxy.requests().iter().all(|r| r.proxy_authorization.is_none()));
}

/// Loopback is this host: a proxy would reach its own, and the identity endpoint's secret
/// header and token would cross it. As in Go and .NET, no `NO_PROXY` entry is needed.
#[actix_web::test]
async fn loopback_endpoints_are_reached_directly_whatever_no_proxy_says() {
    let azure = azure(false);
    let proxy = FakeProxy::start();
    let key_dir = tempfile::tempdir().unwrap();
    for no_proxy in [None, Some("login.example")] {
        let mut command = with_vault(vaultgate(key_dir.path()), &azure, &azure.vault.url);
        command.env("HTTP_PROXY", &proxy.url).env("HTTPS_PROXY", &proxy.url);
        if let Some(no_proxy) = no_proxy {
            command.env("NO_PROXY", no_proxy);
        }
        let server = Server::start(command);

        let answer = read(&server, key_dir.path(), "api-key").await;
        assert_eq!(answer.status, 200, "{no_proxy:?}: {:#?}", server.lines());
        assert_eq!(answer.json()["value"], VALUE);
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    assert_eq!(proxy.tunnels(), 0);
    assert!(azure.identity.token_requests() >= 2, "each server fetched its token directly");
}

/// The identity endpoint by a name `NO_PROXY` covers (a domain and its subdomains) goes
/// direct; the vault on loopback goes direct in any case.
#[actix_web::test]
async fn no_proxy_hosts_are_reached_directly() {
    let azure = azure(false);
    let fronts = Fronts::start(&azure);
    let proxy = FakeProxy::start();
    fronts.route(&proxy);
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = with_vault(vaultgate(key_dir.path()), &azure, &azure.vault.url);
    command
        .env("IDENTITY_ENDPOINT", format!("https://{}/msi/token", fronts.identity_authority()))
        .env("SSL_CERT_FILE", &fronts.ca_file)
        .env("HTTPS_PROXY", &proxy.url)
        .env("HTTP_PROXY", &proxy.url)
        .env("NO_PROXY", "login.example, corp.test");
    let server = Server::start(with_hosts(&command, &[IDENTITY_HOST], key_dir.path()));

    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    assert_eq!(answer.json()["value"], VALUE);
    assert!(fronts.identity.handshakes() >= 1, "the token came from the identity endpoint by name");
    assert_eq!(proxy.tunnels(), 0);
    assert!(proxy.requests().is_empty());
}

/// curl reads a `NO_PROXY` entry with a port as a name no host has: both calls still go
/// through the proxy, and start-up says the entry is ignored.
#[actix_web::test]
async fn a_no_proxy_entry_with_a_port_matches_nothing_as_in_curl() {
    let ThroughProxy { azure: _azure, fronts, proxy, key_dir, mut command } = through_proxy();
    // Lowercase, as curl prefers it.
    let no_proxy = format!("{},{VAULT_HOST}:443", fronts.identity_authority());
    command.env("https_proxy", &proxy.url).env("no_proxy", no_proxy);
    let server = Server::start(command);

    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    assert_eq!(proxy.targets(), [format!("{VAULT_HOST}:443"), fronts.identity_authority()]);
    let warning = format!("NO_PROXY: {:?} matches no host; ignored", fronts.identity_authority());
    let lines = server.lines();
    assert!(lines.iter().any(|l| l.contains(&warning)), "{lines:#?}");
}

#[actix_web::test]
async fn proxy_credentials_in_the_url_are_sent_as_basic_auth_and_never_logged() {
    let ThroughProxy { azure: _azure, fronts: _fronts, proxy, key_dir, mut command } = through_proxy();
    let with_credentials = proxy.url.replace("http://", "http://svc-vaultgate%40corp:Pr0xy%21pass@");
    command.env("HTTPS_PROXY", &with_credentials).env("RUST_LOG", "debug");
    let server = Server::start(command);

    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("svc-vaultgate@corp:Pr0xy!pass"));
    let requests = proxy.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.proxy_authorization.as_deref() == Some(expected.as_str())), "{requests:?}");
    let lines = server.lines();
    assert!(lines.iter().any(|l| l.contains(&proxy.url)), "the proxy is named at start-up: {lines:#?}");
    for line in &lines {
        assert!(!line.contains("Pr0xy") && !line.contains(&expected[6..]), "credentials leaked: {line}");
    }
}

#[actix_web::test]
async fn a_proxy_refusing_the_tunnel_is_a_502_at_once() {
    let azure = azure(false);
    let proxy = FakeProxy::start();
    let key_dir = tempfile::tempdir().unwrap();
    let command = with_vault(vaultgate(key_dir.path()), &azure, &format!("https://{VAULT_HOST}"));
    let server = Server::start(through(command, &proxy));

    for (status, name) in [(407, "api-key"), (403, "db-password")] {
        proxy.behave(ProxyBehaviour::Refuse(status));
        let answer = read(&server, key_dir.path(), name).await;
        assert_eq!(answer.status, 502, "{:#?}", server.lines());
        assert_eq!(answer.json(), vault_error());
        // The refusal itself ended the call (the proxy keeps its connection open, so a
        // client waiting for more would have ended on a timeout instead, and said so).
        server.wait_for_line(&format!("answered {status} to CONNECT {VAULT_HOST}:443"));
    }
    assert!(!server.lines().iter().any(|l| l.contains("Timeout") || l.contains("no answer within")));
    assert_eq!(proxy.tunnels(), 0);
    assert_eq!(azure.vault.gets(), 0);
}

#[actix_web::test]
async fn a_proxy_that_never_answers_the_connect_is_bounded_by_the_timeout() {
    let azure = azure(false);
    let proxy = FakeProxy::start();
    proxy.behave(ProxyBehaviour::Stall);
    let key_dir = tempfile::tempdir().unwrap();
    let command = with_vault(vaultgate(key_dir.path()), &azure, &format!("https://{VAULT_HOST}"));
    let server = Server::start(through(command, &proxy));

    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), vault_error());
    assert_eq!(proxy.targets(), [format!("{VAULT_HOST}:443")]);
    server.wait_for_line("secret api-key: secret store failed");
    assert!(
        server.lines().iter().any(|l| l.contains("no answer within 2s") || l.contains("Timeout while")),
        "{:#?}",
        server.lines()
    );
}

#[actix_web::test]
async fn a_tls_inspecting_proxy_is_trusted_only_when_ssl_cert_file_names_its_ca() {
    let azure = azure(true);
    let ca = TestCa::new("Contoso TLS Inspection CA");
    let front = TlsFront::start(&ca, &[VAULT_HOST], addr_of(&azure.vault.url));
    let proxy = FakeProxy::start();
    proxy.route(&format!("{VAULT_HOST}:443"), front.addr);
    let files = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(files.path(), "contoso-ca.pem");
    let key_dir = tempfile::tempdir().unwrap();
    let command = || {
        let mut command = with_vault(vaultgate(key_dir.path()), &azure, &format!("https://{VAULT_HOST}"));
        command.env("https_proxy", &proxy.url);
        command
    };

    // The system store and the built-in roots do not know the company's CA.
    let server = Server::start(command());
    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 502, "{:#?}", server.lines());
    assert_eq!(answer.json(), vault_error());
    assert_eq!(front.handshakes(), 0, "the certificate was refused");
    // The name went to the proxy unresolved; the identity endpoint (loopback) did not use it.
    assert_eq!(proxy.targets(), [format!("{VAULT_HOST}:443")]);
    drop(server);

    let mut trusting = command();
    trusting.env("SSL_CERT_FILE", &ca_file);
    let server = Server::start(trusting);
    let answer = read(&server, key_dir.path(), "api-key").await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    assert_eq!(answer.json()["value"], VALUE);
    assert!(front.handshakes() >= 1);
}

#[actix_web::test]
async fn check_trusts_an_https_authority_only_with_its_ca() {
    let entra = FakeEntra::start(&[vaultgate_tests::app::extra_key(0)]);
    let ca = TestCa::new("Test Root CA");
    let front = TlsFront::start(&ca, &["127.0.0.1"], addr_of(&entra.base_url));
    let files = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(files.path(), "test-root.pem");
    let key_dir = tempfile::tempdir().unwrap();
    let check = |trust: Option<(&str, &std::path::Path)>| {
        let mut command = vaultgate(key_dir.path());
        command.env("TENANT_ID", TENANT).env("AD_SERVER_APP_ID", APP_ID).env("AUTHORITY_HOST", &front.url);
        if let Some((name, path)) = trust {
            command.env(name, path);
        }
        command.arg("check");
        command
    };

    let refused = output(check(None)).await;
    let stdout = String::from_utf8(refused.stdout).unwrap();
    assert_eq!(refused.status.code(), Some(1), "{stdout}");
    let keys = stdout.lines().find(|l| l.contains("signing keys")).unwrap_or_default();
    assert!(keys.starts_with("FAIL signing keys: discovery:") && keys.contains("certificate"), "{stdout}");
    assert_eq!(front.handshakes(), 0);

    for trust in [("SSL_CERT_FILE", ca_file.as_path()), ("SSL_CERT_DIR", files.path())] {
        let trusted = output(check(Some(trust))).await;
        let stdout = String::from_utf8(trusted.stdout).unwrap();
        assert_eq!(trusted.status.code(), Some(0), "{trust:?}: {stdout}");
        assert!(stdout.lines().any(|l| l.starts_with("ok   signing keys: 1 loaded")), "{stdout}");
        let network = stdout.lines().find(|l| l.starts_with("ok   network: ")).unwrap_or_default();
        assert!(network.contains(&format!("TLS trusts 1 certificates from {}", trust.0)), "{stdout}");
    }
    assert!(entra.discovery_fetches() >= 2);
}

#[test]
fn a_proxy_vaultgate_cannot_use_stops_start_up_without_echoing_credentials() {
    let key_dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),
        ("https_proxy", "http://user:hunter2@proxy.corp:notaport"),
        ("HTTP_PROXY", "http://user:hunter2@/"),
    ] {
        let output = vaultgate(key_dir.path()).env(name, value).output().unwrap();
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

#[test]
fn an_unreadable_ssl_cert_file_stops_start_up() {
    let key_dir = tempfile::tempdir().unwrap();
    let missing = key_dir.path().join("no-such-ca.pem");
    let output = vaultgate(key_dir.path()).env("SSL_CERT_FILE", &missing).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SSL_CERT_FILE") && stderr.contains("no-such-ca.pem"), "{stderr}");
}
