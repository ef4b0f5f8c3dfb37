//! vaultgate serving its own TLS: HTTPS on the port with HTTP/1.1 and HTTP/2, a pair replaced
//! on disk served to new connections, a broken one never served, and start-up refusing a
//! pair it cannot serve.

use std::time::Duration;

use actix_web::http::Version;
use actix_web::http::header::AUTHORIZATION;
use vaultgate_tests::TestApp;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::fake_tls::TestCa;
use vaultgate_tests::http::{metric, read};
use vaultgate_tests::https::{
    Alpn, TlsFiles, client_config_for, handshake, handshake_with, https_client, wait_for_certificate,
};
use vaultgate_tests::logs;
use vaultgate_tests::tokens;

const RELOAD_DEADLINE: Duration = Duration::from_secs(20);
const VERSION: &str = "0f5c3a6e8b1d4e2fa9c7b6d5e4f3a2b1";

#[actix_web::test]
async fn https_answers_health_and_a_secret_over_http1_and_h2() {
    let tls = TlsFiles::new();
    let app = TestApp::spawn_https_with(&tls, &[]).await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    for (alpn, version) in [(Alpn::Http1, Version::HTTP_11), (Alpn::Http2, Version::HTTP_2)] {
        let client = https_client(tls.ca_pem(), alpn);
        let mut health = client.get(app.url("/health")).send().await.expect("HTTPS answers");
        assert_eq!(health.status(), 200, "{alpn:?}");
        assert_eq!(health.version(), version);
        let body = health.body().await.unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["status"], "healthy");

        let secret =
            read(client.get(app.url("/vault/demo")).insert_header((AUTHORIZATION, format!("Bearer {token}"))).send())
                .await;
        assert_eq!(secret.status, 200, "{alpn:?}");
        assert_eq!(secret.json()["value"], "hello from vaultgate");
    }

    let h2 = handshake(app.port, tls.ca_pem(), Alpn::Http2).await.expect("a handshake");
    assert_eq!(h2.certificate, tls.first.der);
    assert_eq!(h2.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(h2.version, Some(rustls::ProtocolVersion::TLSv1_3));
    let h1 = handshake(app.port, tls.ca_pem(), Alpn::Http1).await.expect("a handshake");
    assert_eq!(h1.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let tls12_only = client_config_for(tls.ca_pem(), Alpn::Http2, &[&rustls::version::TLS12]);
    let tls12 = handshake_with(app.port, tls12_only).await.expect("a TLS 1.2 handshake");
    assert_eq!(tls12.version, Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(tls12.alpn.as_deref(), Some(&b"h2"[..]));

    let stranger = TestCa::new("another CA");
    assert!(handshake(app.port, stranger.pem(), Alpn::Http1).await.is_err(), "a client that trusts another CA refuses");

    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_tls_certificate_expiry_seconds"), tls.first.not_after as f64);
}

#[actix_web::test]
async fn a_secret_read_from_key_vault_is_answered_over_https() {
    let azure = Azure::start();
    azure.vault.put("tls-read", FakeSecret::new(VERSION, "value-over-tls-4410"));
    let tls = TlsFiles::new();
    let app = azure.https_app(&tls, &[]).await;
    let reply = app.get_secret("/vault/tls-read").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["value"], "value-over-tls-4410");
}

#[actix_web::test]
async fn a_pair_replaced_by_renaming_the_data_link_is_served_to_new_connections() {
    let tls = TlsFiles::new();
    let app = TestApp::spawn_https_with(&tls, &[]).await;
    let next = tls.issue();
    tls.mount(&next.cert_pem, &next.key_pem);

    assert!(
        wait_for_certificate(app.port, tls.ca_pem(), &next.der, RELOAD_DEADLINE).await,
        "new connections get the new certificate"
    );
    assert_eq!(app.get("/health").await.status, 200);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, r#"vaultgate_tls_reloads_total{outcome="success"}"#), 1.0);
    assert_eq!(metric(&metrics, "vaultgate_tls_certificate_expiry_seconds"), next.not_after as f64);
    let announced = format!("serving the new TLS certificate from {}", tls.cert_file.display());
    assert!(logs::lines().iter().any(|l| l.contains(&announced)), "the reload is logged");
}

#[actix_web::test]
async fn a_broken_new_pair_keeps_the_old_certificate_and_warns_once() {
    let tls = TlsFiles::new();
    let app = TestApp::spawn_https_with(&tls, &[]).await;
    let (next, stranger) = (tls.issue(), tls.issue());
    tls.mount(&next.cert_pem, &stranger.key_pem);

    let refused = r#"vaultgate_tls_reloads_total{outcome="failure"} 1"#;
    assert!(wait_for_metric_line(&app, refused).await, "the mismatched pair is refused");
    let served = handshake(app.port, tls.ca_pem(), Alpn::Http1).await.expect("a handshake");
    assert_eq!(served.certificate, tls.first.der, "the old certificate is still served");
    assert_eq!(app.get("/health").await.status, 200);
    let warning = format!(
        "WARN tls changed TLS files not served, the previous certificate stays: {}: the private key does not match the certificate in {}",
        tls.key_file.display(),
        tls.cert_file.display()
    );

    // A good pair after it is served; the bad one was reported once however often it was seen.
    tls.mount(&next.cert_pem, &next.key_pem);
    assert!(wait_for_certificate(app.port, tls.ca_pem(), &next.der, RELOAD_DEADLINE).await);
    let warnings = logs::lines().iter().filter(|l| l.starts_with(&warning)).count();
    assert_eq!(warnings, 1, "{:#?}", logs::lines());
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, r#"vaultgate_tls_reloads_total{outcome="failure"}"#), 1.0);
    assert!(!logs::lines().iter().any(|l| l.contains("PRIVATE KEY")), "no key material is logged");
}

#[actix_web::test]
async fn start_up_refuses_a_key_that_does_not_match_naming_the_key_file() {
    let tls = TlsFiles::new();
    let other = tls.issue();
    tls.mount(&tls.first.cert_pem, &other.key_pem);
    let refused = start_up_error(&tls).await;
    assert_eq!(
        refused,
        format!(
            "TLS: {}: the private key does not match the certificate in {}",
            tls.key_file.display(),
            tls.cert_file.display()
        )
    );
}

#[actix_web::test]
async fn start_up_refuses_an_expired_certificate_naming_its_file() {
    let tls = TlsFiles::new();
    let now = time::OffsetDateTime::now_utc();
    let expired = tls.issue_valid((now - time::Duration::days(60))..(now - time::Duration::days(1)));
    tls.mount(&expired.cert_pem, &expired.key_pem);
    let refused = start_up_error(&tls).await;
    let expected = format!("TLS: {}: the certificate expired at ", tls.cert_file.display());
    assert!(refused.starts_with(&expected), "{refused}");
}

#[actix_web::test]
async fn start_up_refuses_a_file_that_cannot_be_read_or_holds_no_key() {
    let tls = TlsFiles::new();
    tls.mount(&tls.first.cert_pem, "not a key");
    assert_eq!(
        start_up_error(&tls).await,
        format!(
            "TLS: {}: holds no unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
            tls.key_file.display()
        )
    );
    std::fs::remove_file(&tls.cert_file).unwrap();
    let refused = start_up_error(&tls).await;
    assert!(refused.starts_with(&format!("TLS: {}: cannot be read", tls.cert_file.display())), "{refused}");
}

async fn start_up_error(tls: &TlsFiles) -> String {
    let env = tls.env();
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match TestApp::try_spawn_with(&vars).await {
        Ok(app) => panic!("the server started on {} with a pair it cannot serve", app.base_url),
        Err(error) => error.to_string(),
    }
}

/// Reads `/metrics` until it holds `line`, for at most the reload deadline.
async fn wait_for_metric_line(app: &TestApp, line: &str) -> bool {
    let until = std::time::Instant::now() + RELOAD_DEADLINE;
    while std::time::Instant::now() < until {
        if app.metrics().await.lines().any(|l| l == line) {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
