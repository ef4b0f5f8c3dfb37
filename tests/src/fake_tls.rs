//! HTTPS on loopback for the other fakes: a test certificate authority (made with rcgen,
//! trusted by nothing until a test names its PEM file in `SSL_CERT_FILE` or `SSL_CERT_DIR`),
//! and a TLS front that terminates TLS with a certificate it issued and forwards the bytes to
//! a plain-HTTP fake (Entra ID, Key Vault), which then answers over HTTPS unchanged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::rt::net::{TcpListener, TcpStream};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority of the test's own, like a company's TLS-inspection CA.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let certificate = params.self_signed(&key).expect("a self-signed CA certificate");
        TestCa { pem: certificate.pem(), issuer: Issuer::new(params, key) }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Writes the CA certificate as `file_name` in `dir`; its path.
    pub fn write_pem(&self, dir: &Path, file_name: &str) -> PathBuf {
        let path = dir.join(file_name);
        std::fs::write(&path, &self.pem).expect("the CA file is written");
        path
    }

    /// A certificate for `names` (DNS names or IP addresses) and its key, as PEM files hold
    /// them: the chain (the certificate, then this CA's) and a PKCS#8 key; valid `validity`.
    pub fn issue_pem(&self, names: &[&str], validity: std::ops::Range<time::OffsetDateTime>) -> PemPair {
        let key = KeyPair::generate().expect("a server key");
        let mut params = certificate_params(names);
        params.not_before = validity.start;
        params.not_after = validity.end;
        let certificate = params.signed_by(&key, &self.issuer).expect("a server certificate");
        PemPair {
            cert_pem: format!("{}{}", certificate.pem(), self.pem),
            key_pem: key.serialize_pem(),
            der: certificate.der().to_vec(),
            not_after: validity.end.unix_timestamp(),
        }
    }

    /// A server configuration presenting a certificate for `names` (DNS names or IP
    /// addresses) issued by this CA.
    pub fn server_config(&self, names: &[&str]) -> rustls::ServerConfig {
        let key = KeyPair::generate().expect("a server key");
        let certificate = certificate_params(names).signed_by(&key, &self.issuer).expect("a server certificate");
        presenting(certificate.der().to_vec(), &key)
    }
}

/// A server certificate as PEM files hold it, and the certificate's DER encoding (what a
/// client sees in the handshake).
#[derive(Clone)]
pub struct PemPair {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
    /// The end of validity, Unix seconds.
    pub not_after: i64,
}

/// A server configuration presenting a self-signed certificate for `names`, as Service
/// Fabric's identity endpoint does, and that certificate's DER encoding (for its thumbprint).
pub fn self_signed_server_config(names: &[&str]) -> (rustls::ServerConfig, Vec<u8>) {
    let key = KeyPair::generate().expect("a server key");
    let certificate = certificate_params(names).self_signed(&key).expect("a self-signed certificate");
    let der = certificate.der().to_vec();
    (presenting(der.clone(), &key), der)
}

/// A server certificate's parameters: `names` as subject alternative names, the first as CN.
fn certificate_params(names: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("names");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params
}

/// A TLS server configuration presenting the certificate `der` with `key`, speaking HTTP/1.1.
fn presenting(der: Vec<u8>, key: &KeyPair) -> rustls::ServerConfig {
    let chain = vec![CertificateDer::from(der)];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a usable certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The SHA-1 thumbprint of a DER certificate, upper-case as Windows shows it.
pub fn sha1_thumbprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// TLS in front of a plain-HTTP fake.
pub struct TlsFront {
    /// `https://127.0.0.1:<port>`
    pub url: String,
    pub addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
}

impl TlsFront {
    /// Serves TLS for `names` with a certificate `ca` issued, forwarding to `backend`, on a
    /// free loopback port and a thread of its own.
    pub fn start(ca: &TestCa, names: &[&str], backend: SocketAddr) -> TlsFront {
        TlsFront::start_with(ca.server_config(names), backend)
    }

    /// Serves TLS with `config`, forwarding to `backend`.
    pub fn start_with(config: rustls::ServerConfig, backend: SocketAddr) -> TlsFront {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        std_listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = std_listener.local_addr().unwrap();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
                while let Ok((client, _)) = listener.accept().await {
                    let (acceptor, counted) = (acceptor.clone(), counted.clone());
                    actix_web::rt::spawn(async move {
                        // A client that distrusts the certificate aborts the handshake here.
                        let Ok(mut tls) = acceptor.accept(client).await else { return };
                        counted.fetch_add(1, Ordering::SeqCst);
                        let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    });
                }
            })
        });
        TlsFront { url: format!("https://{addr}"), addr, handshakes }
    }

    /// TLS handshakes completed (a client that refused the certificate completes none).
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

/// The loopback address of a fake's `http://127.0.0.1:<port>` URL.
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").trim_end_matches('/').parse().expect("an http://ip:port URL")
}
