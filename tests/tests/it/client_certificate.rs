//! `AZURE_CLIENT_CERTIFICATE_PATH`: vaultgate signs a client assertion with the certificate's
//! key and posts it to the (fake) Entra token endpoint as MSAL does. The file is PEM or
//! PKCS#12 (`AZURE_CLIENT_CERTIFICATE_PASSWORD` opens the latter).

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, PKCS_RSA_SHA256};
use serde_json::Value;
use vaultgate::Settings;
use vaultgate::startup::Application;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_keyvault::{FakeSecret, TENANT};
use vaultgate_tests::{TestApp, logs};

const CLIENT_ID: &str = "11111111-0000-0000-0000-00000000ce27";

/// An RSA key and its self-signed certificate, in one PEM file as the SDKs read it.
struct PemCertificate {
    _dir: tempfile::TempDir,
    path: String,
    der: Vec<u8>,
    public_key: Vec<u8>,
}

fn pem_certificate() -> PemCertificate {
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("an RSA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "vaultgate-client");
    let certificate = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.pem");
    std::fs::write(&path, format!("{}{}", key.serialize_pem(), certificate.pem())).unwrap();
    PemCertificate {
        path: path.to_str().unwrap().to_owned(),
        der: certificate.der().to_vec(),
        public_key: key.public_key_raw().to_vec(),
        _dir: dir,
    }
}

const PFX_PASSWORD: &str = "pfx-Pa55word!";

/// A client certificate issued by a CA, exported with the CA as PKCS#12 (`.pfx`).
struct PfxCertificate {
    _dir: tempfile::TempDir,
    path: String,
    leaf: Vec<u8>,
    ca: Vec<u8>,
    public_key: Vec<u8>,
}

/// How the file is encrypted: PBES2/AES-256 (`openssl pkcs12 -export` since 3.0), or
/// 3DES with a SHA-1 MAC (OpenSSL 1.x, `-legacy`, Windows' certificate export).
#[derive(Clone, Copy, Debug)]
enum PfxEncryption {
    Aes,
    TripleDes,
}

fn pfx_certificate(encryption: PfxEncryption, with_key: bool) -> PfxCertificate {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(DnType::CommonName, "vaultgate test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap()).unwrap();
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("an RSA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "vaultgate-client");
    let leaf = params.signed_by(&key, &ca).unwrap();

    // The CA is written first (a certificate of its own), so the leaf is not simply the first
    // certificate in the file: it is the one whose public key matches the private key.
    let mut store = KeyStore::new();
    store.add_entry("ca", KeyStoreEntry::Certificate(Certificate::from_der(ca.der()).unwrap()));
    if with_key {
        let chain = PrivateKeyChain::new(
            "vaultgate-client",
            PrivateKey::from_der(&key.serialize_der()).unwrap(),
            [Certificate::from_der(leaf.der()).unwrap()],
        );
        store.add_entry("vaultgate-client", KeyStoreEntry::PrivateKeyChain(chain));
    } else {
        store.add_entry("leaf", KeyStoreEntry::Certificate(Certificate::from_der(leaf.der()).unwrap()));
    }
    let writer = store.writer(PFX_PASSWORD);
    let writer = match encryption {
        PfxEncryption::Aes => writer,
        PfxEncryption::TripleDes => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .mac_algorithm(MacAlgorithm::HmacSha1),
    };
    let dir = tempfile::tempdir().unwrap();
    // Recognised by content, not by name: the SDKs take a PKCS#12 file under any name.
    let path = dir.path().join("client-certificate");
    std::fs::write(&path, writer.write().unwrap()).unwrap();
    PfxCertificate {
        path: path.to_str().unwrap().to_owned(),
        leaf: leaf.der().to_vec(),
        ca: ca.der().to_vec(),
        public_key: key.public_key_raw().to_vec(),
        _dir: dir,
    }
}

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn spawn(azure: &Azure, certificate: &str, extra: &[(&str, &str)]) -> TestApp {
    let authority = azure.identity.base_url.clone();
    let mut vars = vec![
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_CERTIFICATE_PATH", certificate),
        ("AZURE_AUTHORITY_HOST", authority.as_str()),
        ("SECRET_CACHE_TTL", "0"),
        ("KEY_VAULT_RETRY_BUDGET_SECS", "2"),
        ("UPSTREAM_TIMEOUT_SECS", "5"),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

#[actix_web::test]
async fn a_client_certificate_signs_the_assertion_entra_checks() {
    let azure = Azure::start();
    azure.vault.put("api-key", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", "api-key-value-3390"));
    let certificate = pem_certificate();
    let app = spawn(&azure, &certificate.path, &[]).await;
    let reply = app.get_secret("/vault/api-key").await;
    assert_eq!(reply.status, 200, "{:?}", logs::lines());

    let assertions = azure.identity.issued().lock().unwrap().assertions.clone();
    assert_eq!(assertions.len(), 1);
    let parts: Vec<&str> = assertions[0].split('.').collect();
    let header = decode(parts[0]);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(digest(&SHA256, &certificate.der)));
    assert_eq!(header["x5t"], URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate.der)));
    assert!(header.get("x5c").is_none(), "the chain is sent only when asked for");
    let claims = decode(parts[1]);
    assert_eq!(claims["aud"], format!("{}/{TENANT}/oauth2/v2.0/token", azure.identity.base_url));
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap(), 600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &certificate.public_key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("signed with the certificate's key");
    assert!(!logs::lines().iter().any(|l| l.contains(&assertions[0])), "the assertion is never logged");

    // Subject name/issuer authentication: the certificate travels in x5c.
    let app = spawn(&azure, &certificate.path, &[("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true")]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    let assertions = azure.identity.issued().lock().unwrap().assertions.clone();
    let header = decode(assertions.last().unwrap().split('.').next().unwrap());
    assert_eq!(header["x5c"], serde_json::json!([STANDARD.encode(&certificate.der)]));
}

#[actix_web::test]
async fn a_file_without_a_key_stops_start_up_naming_the_file() {
    let azure = Azure::start();
    let certificate = pem_certificate();
    let pem = std::fs::read_to_string(&certificate.path).unwrap();
    let only_certificate = pem.split("-----END PRIVATE KEY-----").nth(1).unwrap();
    std::fs::write(&certificate.path, only_certificate).unwrap();
    let vars = HashMap::from([
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_CERTIFICATE_PATH", certificate.path.as_str()),
        ("DEV_KEY_DIR", vaultgate_tests::app::shared_key_dir().to_str().unwrap()),
        ("PORT", "0"),
    ]);
    let settings = Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string())).expect("valid settings");
    let error = Application::build(settings).await.err().expect("start-up stops");
    assert_eq!(
        error.to_string(),
        format!(
            "AZURE_CLIENT_CERTIFICATE_PATH {}: holds no unencrypted PEM private key (PRIVATE KEY or RSA PRIVATE KEY)",
            certificate.path
        )
    );
    assert_eq!(azure.identity.token_requests(), 0);
}

#[actix_web::test]
async fn a_pkcs12_file_signs_with_its_leaf_and_sends_the_chain_on_request() {
    for encryption in [PfxEncryption::Aes, PfxEncryption::TripleDes] {
        let azure = Azure::start();
        azure.vault.put("api-key", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", "api-key-value-3390"));
        let certificate = pfx_certificate(encryption, true);
        let password = [("AZURE_CLIENT_CERTIFICATE_PASSWORD", PFX_PASSWORD)];
        let app = spawn(&azure, &certificate.path, &password).await;
        let reply = app.get_secret("/vault/api-key").await;
        assert_eq!(reply.status, 200, "{encryption:?}: {:?}", logs::lines());

        let assertions = azure.identity.issued().lock().unwrap().assertions.clone();
        assert_eq!(assertions.len(), 1);
        let parts: Vec<&str> = assertions[0].split('.').collect();
        let header = decode(parts[0]);
        assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(digest(&SHA256, &certificate.leaf)));
        assert_eq!(header["x5t"], URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate.leaf)));
        assert!(header.get("x5c").is_none(), "the chain is sent only when asked for");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &certificate.public_key)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("signed with the leaf certificate's key");

        let chain =
            [("AZURE_CLIENT_CERTIFICATE_PASSWORD", PFX_PASSWORD), ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true")];
        let app = spawn(&azure, &certificate.path, &chain).await;
        assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
        let assertions = azure.identity.issued().lock().unwrap().assertions.clone();
        let header = decode(assertions.last().unwrap().split('.').next().unwrap());
        assert_eq!(
            header["x5c"],
            serde_json::json!([STANDARD.encode(&certificate.leaf), STANDARD.encode(&certificate.ca)]),
            "the leaf first, then the rest of the chain"
        );
        assert!(!logs::lines().iter().any(|l| l.contains(PFX_PASSWORD)), "the password is never logged");
    }
}

/// What `Application::build` says when the certificate file cannot be used.
async fn start_up_error(azure: &Azure, path: &str, password: Option<&str>) -> String {
    let mut vars = HashMap::from([
        ("KEY_VAULT_URL", azure.vault.url.as_str()),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_CERTIFICATE_PATH", path),
        ("DEV_KEY_DIR", vaultgate_tests::app::shared_key_dir().to_str().unwrap()),
        ("PORT", "0"),
    ]);
    if let Some(password) = password {
        vars.insert("AZURE_CLIENT_CERTIFICATE_PASSWORD", password);
    }
    let settings = Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string())).expect("valid settings");
    Application::build(settings).await.err().expect("start-up stops").to_string()
}

#[actix_web::test]
async fn a_wrong_pkcs12_password_stops_start_up_naming_the_file_never_the_password() {
    let azure = Azure::start();
    let certificate = pfx_certificate(PfxEncryption::Aes, true);
    let wrong = "not-the-Pa55word";
    let expected = format!(
        "AZURE_CLIENT_CERTIFICATE_PATH {}: the PKCS#12 file does not open with AZURE_CLIENT_CERTIFICATE_PASSWORD (wrong password, or the file needs one)",
        certificate.path
    );
    assert_eq!(start_up_error(&azure, &certificate.path, Some(wrong)).await, expected);
    assert_eq!(
        start_up_error(&azure, &certificate.path, None).await,
        expected,
        "a password-protected file without one"
    );
    assert!(!logs::lines().iter().any(|l| l.contains(wrong) || l.contains(PFX_PASSWORD)), "no password in the logs");
    assert_eq!(azure.identity.token_requests(), 0);
}

#[actix_web::test]
async fn a_pkcs12_file_without_a_private_key_stops_start_up() {
    let azure = Azure::start();
    let certificate = pfx_certificate(PfxEncryption::Aes, false);
    assert_eq!(
        start_up_error(&azure, &certificate.path, Some(PFX_PASSWORD)).await,
        format!(
            "AZURE_CLIENT_CERTIFICATE_PATH {}: the PKCS#12 file holds no private key with its certificate",
            certificate.path
        )
    );
    assert_eq!(azure.identity.token_requests(), 0);
}

#[actix_web::test]
async fn a_pem_file_with_a_password_stops_start_up() {
    let azure = Azure::start();
    let certificate = pem_certificate();
    let error = start_up_error(&azure, &certificate.path, Some(PFX_PASSWORD)).await;
    assert_eq!(
        error,
        format!(
            "AZURE_CLIENT_CERTIFICATE_PATH {}: a PEM file, but AZURE_CLIENT_CERTIFICATE_PASSWORD is set; vaultgate reads \
             PEM keys unencrypted only (encrypted PEM keys are not supported): decrypt the key (openssl pkey) or use a \
             PKCS#12 file, or unset the password",
            certificate.path
        )
    );
    assert_eq!(azure.identity.token_requests(), 0);
}

#[actix_web::test]
async fn a_certificate_that_is_not_the_keys_or_an_unknown_file_stops_start_up() {
    let azure = Azure::start();
    let certificate = pem_certificate();
    let other = pem_certificate();
    let key = std::fs::read_to_string(&certificate.path).unwrap();
    let key = key.split("-----END PRIVATE KEY-----").next().unwrap();
    let other_certificate = std::fs::read_to_string(&other.path).unwrap();
    let other_certificate = other_certificate.split("-----END PRIVATE KEY-----").nth(1).unwrap();
    std::fs::write(&certificate.path, format!("{key}-----END PRIVATE KEY-----{other_certificate}")).unwrap();
    assert_eq!(
        start_up_error(&azure, &certificate.path, None).await,
        format!(
            "AZURE_CLIENT_CERTIFICATE_PATH {}: no certificate in the file goes with the private key",
            certificate.path
        )
    );
    std::fs::write(&certificate.path, "not a certificate").unwrap();
    assert_eq!(
        start_up_error(&azure, &certificate.path, None).await,
        format!("AZURE_CLIENT_CERTIFICATE_PATH {}: neither a PEM nor a PKCS#12 (DER) file", certificate.path)
    );
    assert_eq!(azure.identity.token_requests(), 0);
}

/// A PKCS#12 file without a MAC: nothing proves it is the file that was exported, so it is
/// refused rather than decrypted (made with `openssl pkcs12 -export -nomac`).
#[actix_web::test]
async fn a_pkcs12_file_without_a_mac_stops_start_up() {
    let azure = Azure::start();
    let certificate = pem_certificate();
    let path = format!("{}.pfx", certificate.path);
    let exported = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-nomac", "-in", &certificate.path, "-out", &path])
        .arg(format!("-passout=pass:{PFX_PASSWORD}"))
        .output()
        .expect("openssl runs");
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert_eq!(
        start_up_error(&azure, &path, Some(PFX_PASSWORD)).await,
        format!(
            "AZURE_CLIENT_CERTIFICATE_PATH {path}: the PKCS#12 file has no MAC, so nothing proves it was not altered; \
             export it with one (openssl pkcs12 -export without -nomac)"
        )
    );
    assert_eq!(azure.identity.token_requests(), 0);
}

/// Kubernetes mounts secrets 0644 unless told otherwise, so a certificate file others may read
/// is used, with one warning at start (not one per token).
#[cfg(unix)]
#[actix_web::test]
async fn a_certificate_file_others_may_read_gets_one_start_up_warning() {
    use std::os::unix::fs::PermissionsExt;

    let azure = Azure::start();
    azure.vault.put("api-key", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", "api-key-value-3390"));
    let warnings = |path: &str| -> Vec<String> {
        logs::lines().into_iter().filter(|l| l.starts_with("WARN") && l.contains(path)).collect()
    };

    let shared = pem_certificate();
    std::fs::set_permissions(&shared.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = spawn(&azure, &shared.path, &[]).await;
    for _ in 0..2 {
        assert_eq!(app.get_secret("/vault/api-key").await.status, 200, "{:?}", logs::lines());
    }
    assert_eq!(
        warnings(&shared.path),
        [format!(
            "WARN vaultgate::credential::client_certificate AZURE_CLIENT_CERTIFICATE_PATH {}: readable by group or \
             others (mode 644), who could sign in as the application with it; used anyway (Kubernetes mounts \
             secrets 0644 by default): chmod 600 it, or give the secret volume defaultMode 0400",
            shared.path
        )]
    );

    let private = pem_certificate();
    std::fs::set_permissions(&private.path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let app = spawn(&azure, &private.path, &[]).await;
    assert_eq!(app.get_secret("/vault/api-key").await.status, 200);
    assert_eq!(warnings(&private.path), Vec::<String>::new());
}
