//! `vaultgate dev-cert` and `TLS=dev`: a private CA and a `localhost` certificate beside the
//! development key, reused on the next run, and local mode serving HTTPS with them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use vaultgate::tls::dev_cert::{CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE};
use vaultgate_tests::https::{Alpn, https_client};

use crate::common::{Server, vaultgate};

const FILES: [&str; 4] = [CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE];

fn dev_cert(key_dir: &Path) -> String {
    let output = vaultgate(key_dir).arg("dev-cert").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn read(key_dir: &Path, file: &str) -> String {
    std::fs::read_to_string(key_dir.join(file)).unwrap()
}

#[test]
fn dev_cert_writes_private_files_prints_how_to_trust_them_and_reuses_the_ca() {
    let home = tempfile::tempdir().unwrap();
    let key_dir = home.path().join(".vaultgate");
    let printed = dev_cert(&key_dir);
    let ca_file = key_dir.join(CA_CERT_FILE);
    for variable in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
        assert!(printed.contains(&format!("export {variable}={}", ca_file.display())), "{printed}");
    }
    assert!(printed.contains("(created)") && printed.contains("(issued)"), "{printed}");
    assert_eq!(std::fs::metadata(&key_dir).unwrap().permissions().mode() & 0o777, 0o700);
    for file in FILES {
        let mode = std::fs::metadata(key_dir.join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let (ca, ca_key, leaf) = (read(&key_dir, CA_CERT_FILE), read(&key_dir, CA_KEY_FILE), read(&key_dir, CERT_FILE));
    assert!(leaf.ends_with(&ca), "the certificate file carries the chain");

    let again = dev_cert(&key_dir);
    assert!(again.contains("(reused)") && again.contains("(still valid, reused)"), "{again}");
    assert_eq!(read(&key_dir, CA_CERT_FILE), ca);
    assert_eq!(read(&key_dir, CA_KEY_FILE), ca_key);
    assert_eq!(read(&key_dir, CERT_FILE), leaf, "a certificate far from its end is kept");

    // A missing certificate is issued again by the same CA.
    std::fs::remove_file(key_dir.join(CERT_FILE)).unwrap();
    let reissued = dev_cert(&key_dir);
    assert!(reissued.contains("(reused)") && reissued.contains("(issued)"), "{reissued}");
    assert_eq!(read(&key_dir, CA_CERT_FILE), ca);
    assert!(read(&key_dir, CERT_FILE).ends_with(&ca));
}

#[test]
fn dev_cert_refuses_azure_mode() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path())
        .arg("dev-cert")
        .env("TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .env("AD_SERVER_APP_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3")
        .env("SECRETS_DIR", "/nonexistent")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("dev-cert issues a development certificate for local mode"), "{stderr}");
    assert!(std::fs::read_dir(key_dir.path()).unwrap().next().is_none(), "nothing is written");
}

#[actix_web::test]
async fn tls_dev_serves_https_with_the_development_certificate() {
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = vaultgate(key_dir.path());
    command.env("TLS", "dev");
    let server = Server::start(command);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let ca = read(key_dir.path(), CA_CERT_FILE);
    for alpn in [Alpn::Http1, Alpn::Http2] {
        let response = https_client(&ca, alpn).get(format!("{}/health", server.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{alpn:?}");
    }
    let localhost = server.url.replace("127.0.0.1", "localhost");
    let response = https_client(&ca, Alpn::Http1).get(format!("{localhost}/health/live")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the certificate names localhost too");
}

#[test]
fn tls_dev_outside_local_mode_stops_start_up() {
    let key_dir = tempfile::tempdir().unwrap();
    let output = vaultgate(key_dir.path())
        .env("TLS", "dev")
        .env("TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .env("AD_SERVER_APP_ID", "6e74172b-be56-4843-9ff4-e66a39bb12e3")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TLS: dev serves the development certificate in local mode only"), "{stderr}");
}

#[test]
fn a_pair_that_does_not_match_stops_the_binary_naming_the_key_file() {
    let home = tempfile::tempdir().unwrap();
    let first = home.path().join("first");
    let second = home.path().join("second");
    dev_cert(&first);
    dev_cert(&second);
    let (cert, key) = (first.join(CERT_FILE), second.join(KEY_FILE));
    let output =
        vaultgate(home.path()).env("PORT", "0").env("TLS_CERT_FILE", &cert).env("TLS_KEY_FILE", &key).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected =
        format!("TLS: {}: the private key does not match the certificate in {}", key.display(), cert.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn check_shows_the_served_certificate_and_its_days_left_or_why_it_cannot_be_served() {
    let home = tempfile::tempdir().unwrap();
    let key_dir = home.path().join("keys");
    let output = vaultgate(&key_dir).args(["check"]).env("TLS", "dev").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let expected =
        format!("ok   tls: TLS=dev: start-up will issue a development certificate in {} (", key_dir.display());
    assert!(stdout.lines().any(|l| l.starts_with(&expected)), "{stdout}");
    assert!(!key_dir.join(CERT_FILE).exists(), "check writes no certificate");

    dev_cert(&key_dir);
    let output = vaultgate(&key_dir).args(["check"]).env("TLS", "dev").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let tls = stdout.lines().find(|l| l.contains(" tls: ")).unwrap_or_else(|| panic!("no tls line: {stdout}"));
    let expected =
        format!("ok   tls: {}: CN=localhost (localhost, 127.0.0.1, ::1), expires ", key_dir.join(CERT_FILE).display());
    assert!(tls.starts_with(&expected), "{tls}");
    assert!(tls.ends_with(", in 364 days") || tls.ends_with(", in 365 days"), "{tls}");

    let other = home.path().join("other");
    dev_cert(&other);
    let (cert, key) = (key_dir.join(CERT_FILE), other.join(KEY_FILE));
    let output =
        vaultgate(&key_dir).arg("check").env("TLS_CERT_FILE", &cert).env("TLS_KEY_FILE", &key).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let expected =
        format!("FAIL tls: {}: the private key does not match the certificate in {}", key.display(), cert.display());
    assert!(stdout.lines().any(|l| l == expected), "{stdout}");
}
