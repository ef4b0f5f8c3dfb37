//! The roots upstream TLS trusts: the system's store as rustls-native-certs finds it (or, as
//! OpenSSL reads them instead, the files `SSL_CERT_FILE` and `SSL_CERT_DIR` name, as
//! `Settings` read them), plus the webpki roots compiled in, so a company's
//! TLS-inspection CA works and an image without a certificate store (distroless, scratch)
//! still reaches Azure. The crypto is aws-lc-rs, named here rather than taken from whatever
//! provider the process installed.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use vaultgate_config::NetworkSettings;

use super::roots_problem::RootsProblem;

/// Trusted roots and where they came from.
pub struct TrustedRoots {
    store: RootCertStore,
    /// e.g. "2 certificates from SSL_CERT_FILE /etc/corp/ca.pem and 146 built-in roots".
    summary: String,
    /// Files that could not be read while the variables still gave usable certificates.
    pub warnings: Vec<String>,
    /// True when `SSL_CERT_FILE` or `SSL_CERT_DIR` chose the roots.
    pub from_variables: bool,
}

impl TrustedRoots {
    /// Loads the roots `SSL_CERT_FILE`/`SSL_CERT_DIR` name, else the system's. A variable
    /// that yields no usable certificate is an error: the operator meant to trust something,
    /// and would otherwise meet it only as failed calls.
    pub fn load(settings: &NetworkSettings) -> Result<TrustedRoots, Vec<RootsProblem>> {
        let (file, dirs) = (&settings.cert_file, &settings.cert_dirs);
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let mut certificates = Vec::new();
        let mut sources = Vec::new();

        if let Some(file) = &file {
            let loaded = rustls_native_certs::load_certs_from_paths(Some(file), None);
            if let Some(error) = loaded.errors.into_iter().next() {
                problems.push(RootsProblem::FileUnreadable { file: file.clone(), error });
            } else if loaded.certs.is_empty() {
                problems.push(RootsProblem::FileWithoutCertificate(file.clone()));
            }
            certificates.extend(loaded.certs);
            sources.push(format!("SSL_CERT_FILE {}", file.display()));
        }
        if !dirs.is_empty() {
            let before = certificates.len();
            for dir in dirs {
                let loaded = rustls_native_certs::load_certs_from_paths(None, Some(dir));
                warnings.extend(loaded.errors.iter().map(|e| format!("SSL_CERT_DIR: {e}")));
                certificates.extend(loaded.certs);
            }
            let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            if certificates.len() == before {
                problems.push(RootsProblem::DirsWithoutCertificate(dirs.clone()));
            }
            sources.push(format!("SSL_CERT_DIR {}", shown.join(":")));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let from_variables = settings.roots_from_variables();
        if !from_variables {
            let loaded = rustls_native_certs::load_native_certs();
            warnings.extend(loaded.errors.iter().map(|e| format!("system certificate store: {e}")));
            certificates.extend(loaded.certs);
            sources.push("the system store".to_owned());
        }

        let mut store = RootCertStore::empty();
        let (added, unusable) = store.add_parsable_certificates(certificates);
        if from_variables && added == 0 {
            return Err(vec![RootsProblem::NoUsableRoot { sources: sources.join(" and ") }]);
        }
        if unusable > 0 {
            warnings.push(format!("{unusable} certificates from {} are not usable as roots", sources.join(" and ")));
        }
        let built_in = webpki_roots::TLS_SERVER_ROOTS.len();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let summary = format!("{added} certificates from {} and {built_in} built-in roots", sources.join(" and "));
        Ok(TrustedRoots { store, summary, warnings, from_variables })
    }

    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The client configuration awc uses for `https://` calls: these roots, aws-lc-rs,
    /// TLS 1.2 and 1.3, HTTP/2 or HTTP/1.1 by ALPN (as awc's own default offers).
    pub fn client_config(&self) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports TLS 1.2 and 1.3")
            .with_root_certificates(self.store.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// Trusts one certificate, named by the SHA-1 thumbprint of its DER encoding, and nothing
/// else: Service Fabric's identity endpoint serves a self-signed certificate that no root
/// vouches for, and hands its thumbprint to the workload in `IDENTITY_SERVER_THUMBPRINT`
/// (MSAL .NET compares `X509Certificate2.GetCertHashString()`, the SHA-1 thumbprint, with
/// it, ignoring case). The name and the dates are not checked: the pin is stronger than
/// either. The handshake signature still is, so only the key's holder passes.
#[derive(Debug)]
pub struct ThumbprintVerifier {
    /// 40 lower-case hexadecimal digits.
    thumbprint: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ThumbprintVerifier {
    pub fn new(thumbprint: &str) -> Self {
        let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        ThumbprintVerifier { thumbprint: thumbprint.to_ascii_lowercase(), algorithms }
    }
}

/// The SHA-1 thumbprint of a DER certificate, in lower-case hexadecimal.
pub fn sha1_thumbprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl ServerCertVerifier for ThumbprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if sha1_thumbprint(end_entity) == self.thumbprint {
            Ok(ServerCertVerified::assertion())
        } else {
            log::warn!(
                "the identity endpoint's certificate does not have the thumbprint in IDENTITY_SERVER_THUMBPRINT"
            );
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client configuration that trusts only the certificate with this SHA-1 thumbprint.
pub fn pinned_client_config(thumbprint: &str) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ThumbprintVerifier::new(thumbprint)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use vaultgate_config::Settings;

    use super::*;

    /// The roots the variables give, read as `Settings` reads them (in local mode).
    fn load(vars: &[(&str, &str)]) -> Result<TrustedRoots, Vec<String>> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let settings = Settings::from_lookup(|name| map.get(name).cloned()).expect("local mode's settings");
        TrustedRoots::load(&settings.network).map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_built_in_roots_are_always_there() {
        let dir = tempfile::tempdir().unwrap();
        let empty_dir = dir.path().to_str().unwrap();
        // An SSL_CERT_DIR with nothing in it is refused ...
        let problems = load(&[("SSL_CERT_DIR", empty_dir)]).err().unwrap();
        assert_eq!(problems, [format!("SSL_CERT_DIR: no readable PEM certificate in {empty_dir}")]);
        // ... and without variables the built-in roots come on top of whatever the system has.
        let roots = load(&[]).unwrap();
        assert!(roots.store.len() >= webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(roots.summary().ends_with(&format!("and {} built-in roots", webpki_roots::TLS_SERVER_ROOTS.len())));
        assert!(!roots.from_variables);
    }

    #[test]
    fn an_ssl_cert_file_that_gives_nothing_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let problems = load(&[("SSL_CERT_FILE", missing.to_str().unwrap())]).err().unwrap();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with(&format!("SSL_CERT_FILE: {}: ", missing.display())), "{problems:?}");

        let not_pem = dir.path().join("notes.txt");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let problems = load(&[("SSL_CERT_FILE", not_pem.to_str().unwrap())]).err().unwrap();
        assert_eq!(problems, [format!("SSL_CERT_FILE: {} holds no PEM certificate", not_pem.display())]);
    }

    #[test]
    fn a_company_ca_in_ssl_cert_file_replaces_the_system_store_and_keeps_the_built_in_roots() {
        let dir = tempfile::tempdir().unwrap();
        let ca = vaultgate_tests::fake_tls::TestCa::new("Contoso Root");
        let file = ca.write_pem(dir.path(), "contoso.pem");
        let roots = load(&[("SSL_CERT_FILE", file.to_str().unwrap())]).unwrap();
        assert!(roots.from_variables);
        assert_eq!(roots.store.len(), 1 + webpki_roots::TLS_SERVER_ROOTS.len());
        assert_eq!(
            roots.summary(),
            format!(
                "1 certificates from SSL_CERT_FILE {} and {} built-in roots",
                file.display(),
                webpki_roots::TLS_SERVER_ROOTS.len()
            )
        );
        // SSL_CERT_DIR reads every PEM file of the folder, as OpenSSL's rehashed folders hold.
        let roots = load(&[("SSL_CERT_DIR", dir.path().to_str().unwrap())]).unwrap();
        assert_eq!(roots.store.len(), 1 + webpki_roots::TLS_SERVER_ROOTS.len());
    }
}
