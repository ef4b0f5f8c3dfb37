//! vaultgate serving its own TLS in tests: a test CA and a `localhost`/`127.0.0.1` pair it
//! issued, mounted in a folder the way Kubernetes mounts a secret (`tls.crt` and `tls.key`
//! linked through `..data`, replaced by renaming that link); the server started with them;
//! and clients trusting that CA, for HTTP/1.1 or HTTP/2.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tempfile::TempDir;
use time::OffsetDateTime;

use crate::fake_tls::{PemPair, TestCa};

/// The names the test server's certificates carry.
pub const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// A test CA and the files vaultgate serves, in a folder of the test's own.
pub struct TlsFiles {
    pub ca: TestCa,
    /// The CA certificate as a PEM file, for `SSL_CERT_FILE` and the like.
    pub ca_file: PathBuf,
    /// `TLS_CERT_FILE`: `<dir>/tls.crt`, a link through `..data`.
    pub cert_file: PathBuf,
    /// `TLS_KEY_FILE`: `<dir>/tls.key`, a link through `..data`.
    pub key_file: PathBuf,
    /// The pair written first.
    pub first: PemPair,
    dir: TempDir,
}

impl TlsFiles {
    /// A new CA and a pair it issued for `SERVER_NAMES`, valid from an hour ago for 30 days.
    pub fn new() -> TlsFiles {
        let ca = TestCa::new("vaultgate test CA");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let ca_file = ca.write_pem(dir.path(), "ca.pem");
        let first = ca.issue_pem(SERVER_NAMES, valid_now());
        let files = TlsFiles {
            cert_file: dir.path().join("tls.crt"),
            key_file: dir.path().join("tls.key"),
            ca_file,
            ca,
            first: first.clone(),
            dir,
        };
        files.mount(&first.cert_pem, &first.key_pem);
        std::os::unix::fs::symlink("..data/tls.crt", &files.cert_file).expect("the certificate link");
        std::os::unix::fs::symlink("..data/tls.key", &files.key_file).expect("the key link");
        files
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn ca_pem(&self) -> &str {
        self.ca.pem()
    }

    /// Another pair from the same CA, valid now.
    pub fn issue(&self) -> PemPair {
        self.ca.issue_pem(SERVER_NAMES, valid_now())
    }

    /// Another pair from the same CA, valid `validity`.
    pub fn issue_valid(&self, validity: Range<OffsetDateTime>) -> PemPair {
        self.ca.issue_pem(SERVER_NAMES, validity)
    }

    /// Replaces both files at once, as the kubelet updates a mounted secret: a new folder with
    /// both, a new `..data` link to it, renamed over the old link.
    pub fn mount(&self, cert_pem: &str, key_pem: &str) {
        let version = self.dir.path().join(format!("..{}", unique()));
        std::fs::create_dir(&version).expect("a version folder");
        std::fs::write(version.join("tls.crt"), cert_pem).expect("the certificate is written");
        std::fs::write(version.join("tls.key"), key_pem).expect("the key is written");
        let next_link = self.dir.path().join("..data_tmp");
        let _ = std::fs::remove_file(&next_link);
        std::os::unix::fs::symlink(version.file_name().unwrap(), &next_link).expect("the next ..data link");
        std::fs::rename(&next_link, self.dir.path().join("..data")).expect("..data is swapped");
    }

    /// The variables that make vaultgate serve these files, looking at them every second.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TLS_CERT_FILE", self.cert_file.display().to_string()),
            ("TLS_KEY_FILE", self.key_file.display().to_string()),
            ("TLS_RELOAD_INTERVAL_SECS", "1".to_owned()),
        ]
    }
}

impl Default for TlsFiles {
    fn default() -> Self {
        TlsFiles::new()
    }
}

/// From an hour ago for 30 days.
pub fn valid_now() -> Range<OffsetDateTime> {
    let now = OffsetDateTime::now_utc();
    (now - time::Duration::hours(1))..(now + time::Duration::days(30))
}

fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!("{}_{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

/// Which protocols a client offers by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    Http1,
    /// `h2`, then `http/1.1`.
    Http2,
}

/// A rustls client configuration trusting `ca_pem` alone, offering `alpn`.
pub fn client_config(ca_pem: &str, alpn: Alpn) -> rustls::ClientConfig {
    client_config_for(ca_pem, alpn, rustls::DEFAULT_VERSIONS)
}

/// `client_config` speaking only `versions` of TLS.
pub fn client_config_for(
    ca_pem: &str,
    alpn: Alpn,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(certificate.expect("a PEM certificate")).expect("a usable root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match alpn {
        Alpn::Http1 => vec![b"http/1.1".to_vec()],
        Alpn::Http2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    config
}

/// An HTTP client trusting `ca_pem` alone, offering `alpn`.
pub fn https_client(ca_pem: &str, alpn: Alpn) -> awc::Client {
    let connector = awc::Connector::new().rustls_0_23(Arc::new(client_config(ca_pem, alpn)));
    awc::Client::builder().connector(connector).timeout(Duration::from_secs(30)).finish()
}

/// What one new TLS connection to `port` on 127.0.0.1 saw.
#[derive(Debug)]
pub struct Handshake {
    /// The server's certificate (DER).
    pub certificate: Vec<u8>,
    pub alpn: Option<Vec<u8>>,
    pub version: Option<rustls::ProtocolVersion>,
}

/// Opens a new connection trusting `ca_pem` and completes the handshake; the error when the
/// client refused (or the server aborted) it.
pub async fn handshake(port: u16, ca_pem: &str, alpn: Alpn) -> Result<Handshake, std::io::Error> {
    handshake_with(port, client_config(ca_pem, alpn)).await
}

/// `handshake` with a client configuration of the test's own (a TLS version, say).
pub async fn handshake_with(port: u16, config: rustls::ClientConfig) -> Result<Handshake, std::io::Error> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let server_name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let tls = connector.connect(server_name, tcp).await?;
    let (_, connection) = tls.get_ref();
    Ok(Handshake {
        certificate: connection.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default(),
        alpn: connection.alpn_protocol().map(<[u8]>::to_vec),
        version: connection.protocol_version(),
    })
}

/// Opens new connections until one is given `certificate`, for at most `deadline`; false if
/// none was.
pub async fn wait_for_certificate(port: u16, ca_pem: &str, certificate: &[u8], deadline: Duration) -> bool {
    let until = std::time::Instant::now() + deadline;
    while std::time::Instant::now() < until {
        if handshake(port, ca_pem, Alpn::Http1).await.is_ok_and(|h| h.certificate == certificate) {
            return true;
        }
        // Not a synchronisation: the next look at a condition the test waits on.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
