//! `AZURE_CLIENT_CERTIFICATE_PATH`: vaultgate signs a client assertion with the certificate's
//! key and posts it to the (fake) Entra token endpoint as MSAL does.

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_RSA_SHA256};
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
