//! `vaultgate dev-cert` and `TLS=dev`: a certificate authority of the developer's own and a
//! certificate it issues for `localhost`, `127.0.0.1` and `::1`, kept beside the development
//! signing key and as private as it. The CA may sign for those names only (name constraints),
//! so trusting it on a laptop trusts nothing else.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use time::{Duration, OffsetDateTime};

use super::facts::CertificateFacts;
use crate::auth::key_file;

pub const CA_CERT_FILE: &str = "dev-tls-ca.pem";
pub const CA_KEY_FILE: &str = "dev-tls-ca-key.pem";
pub const CERT_FILE: &str = "dev-tls-cert.pem";
pub const KEY_FILE: &str = "dev-tls-key.pem";

const CA_NAME: &str = "vaultgate development CA";
const CA_VALIDITY_DAYS: i64 = 3_650;
const LEAF_VALIDITY_DAYS: i64 = 365;
/// A certificate closer than this to its end is issued again.
const RENEW_WITHIN_DAYS: i64 = 30;
/// The names a developer's clients reach vaultgate by.
const LEAF_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What `ensure` left in the folder.
#[derive(Debug)]
pub struct DevCertificate {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub ca_created: bool,
    pub leaf_issued: bool,
    pub facts: CertificateFacts,
}

#[derive(Debug, derive_more::Display, derive_more::Error)]
pub enum DevCertError {
    #[display("{_0}")]
    Io(io::Error),
    #[display("{}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[display("{}: not a development CA this command wrote; delete {} and {} to create a new one", path.display(), CA_CERT_FILE, CA_KEY_FILE)]
    UnreadableCa { path: PathBuf },
    #[display("cannot issue the certificate: {_0}")]
    Issue(#[error(not(source))] rcgen::Error),
}

impl From<io::Error> for DevCertError {
    fn from(error: io::Error) -> Self {
        DevCertError::Io(error)
    }
}

impl From<rcgen::Error> for DevCertError {
    fn from(error: rcgen::Error) -> Self {
        DevCertError::Issue(error)
    }
}

/// Creates the CA when missing (else reuses it) and issues the `localhost` certificate when it
/// is missing, near its end, broken or from another CA.
pub fn ensure(dir: &Path) -> Result<DevCertificate, DevCertError> {
    key_file::create_private_dir(dir)?;
    let (ca, ca_created) = certificate_authority(dir)?;
    let cert_file = dir.join(CERT_FILE);
    let key_file = dir.join(KEY_FILE);
    let now = crate::clock::unix_now();
    let current = current_leaf(&cert_file, &key_file, &ca.der, now);
    let (facts, leaf_issued) = match current {
        Some(facts) if !ca_created => (facts, false),
        _ => (issue_leaf(&ca, &cert_file, &key_file)?, true),
    };
    Ok(DevCertificate { ca_file: dir.join(CA_CERT_FILE), cert_file, key_file, ca_created, leaf_issued, facts })
}

struct Authority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: Vec<u8>,
}

fn certificate_authority(dir: &Path) -> Result<(Authority, bool), DevCertError> {
    let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
    match key_file::read_private(&key_path) {
        Ok(key_pem) => return Ok((read_authority(&cert_path, &key_path, &key_pem)?, false)),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    let key = KeyPair::generate()?;
    let now = OffsetDateTime::now_utc();
    let mut params = ca_params();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    let certificate = params.self_signed(&key)?;
    // The certificate first: a key file without its certificate would be taken for a CA.
    replace_private(&cert_path, certificate.pem().as_bytes())?;
    key_file::write_new_private(&key_path, key.serialize_pem().as_bytes())?;
    log::info!("created a development certificate authority in {}", cert_path.display());
    let authority =
        Authority { pem: certificate.pem(), der: certificate.der().to_vec(), issuer: Issuer::new(ca_params(), key) };
    Ok((authority, true))
}

fn read_authority(cert_path: &Path, key_path: &Path, key_pem: &[u8]) -> Result<Authority, DevCertError> {
    let unreadable = || DevCertError::UnreadableCa { path: key_path.to_owned() };
    let key = std::str::from_utf8(key_pem).ok().and_then(|pem| KeyPair::from_pem(pem).ok()).ok_or_else(unreadable)?;
    let pem_bytes = key_file::read_private(cert_path)
        .map_err(|source| DevCertError::File { path: cert_path.to_owned(), source })?;
    let pem = String::from_utf8(pem_bytes.to_vec()).map_err(|_| unreadable())?;
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| DevCertError::UnreadableCa { path: cert_path.to_owned() })?
        .to_vec();
    Ok(Authority { issuer: Issuer::new(ca_params(), key), pem, der })
}

/// The CA's name and powers; a leaf is signed under this name with the stored key, so the
/// parameters must stay the same from one run to the next.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".into()),
            GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8)),
            GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix(std::net::Ipv6Addr::LOCALHOST.octets(), 128)),
        ],
        excluded_subtrees: Vec::new(),
    });
    params
}

/// The certificate in the folder, when it is good for a while yet, matches its key and was
/// issued by this CA (the CA's certificate follows it in the file).
fn current_leaf(cert_file: &Path, key_file: &Path, ca_der: &[u8], now: i64) -> Option<CertificateFacts> {
    let pair = super::pair::load(cert_file, key_file).ok()?;
    let from_this_ca = pair.key.cert.get(1).is_some_and(|ca| ca.as_ref() == ca_der);
    (from_this_ca && pair.facts.days_left(now) > RENEW_WITHIN_DAYS).then_some(pair.facts)
}

fn issue_leaf(ca: &Authority, cert_file: &Path, key_file: &Path) -> Result<CertificateFacts, DevCertError> {
    let key = KeyPair::generate()?;
    // rcgen reads an IP address given as a name as an IP address SAN.
    let mut params = CertificateParams::new(LEAF_NAMES.map(str::to_owned).to_vec())?;
    params.distinguished_name.push(DnType::CommonName, LEAF_NAMES[0]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(LEAF_VALIDITY_DAYS);
    let certificate = params.signed_by(&key, &ca.issuer)?;
    let facts = CertificateFacts::of(certificate.der()).expect("rcgen writes X.509");
    // The key first, so that a server watching the files never pairs a new certificate with
    // an old key for longer than one look.
    replace_private(key_file, key.serialize_pem().as_bytes())?;
    replace_private(cert_file, format!("{}{}", certificate.pem(), ca.pem).as_bytes())?;
    log::info!("issued a development TLS certificate in {}", cert_file.display());
    Ok(facts)
}

/// Writes a new private file beside `path`, then renames it over `path`: readers see the old
/// content or the new one, never half of it, and a link at `path` is replaced, not followed.
fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&temporary);
    key_file::write_new_private(&temporary, bytes)?;
    fs::rename(&temporary, path).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

/// What `vaultgate dev-cert` prints: where the files are and how clients come to trust them.
pub fn trust_instructions(certificate: &DevCertificate) -> String {
    let ca = certificate.ca_file.display();
    format!(
        "\
development CA:          {ca}{}
certificate for localhost, 127.0.0.1, ::1: {}{}
  key:                   {}
  expires:               {}

Serve HTTPS with it in local mode:  TLS=dev cargo run

Trust the CA in the shell of the client (these replace the system's roots for that program,
except NODE_EXTRA_CA_CERTS, which adds to them):
  export SSL_CERT_FILE={ca}          # curl, OpenSSL, Go, Rust (rustls-native-certs)
  export REQUESTS_CA_BUNDLE={ca}     # Python requests and the Azure SDK for Python
  export NODE_EXTRA_CA_CERTS={ca}    # Node.js and the Azure SDK for JavaScript
The CA signs for localhost, 127.0.0.0/8 and ::1 only; its key never leaves {}.",
        if certificate.ca_created { " (created)" } else { " (reused)" },
        certificate.cert_file.display(),
        if certificate.leaf_issued { " (issued)" } else { " (still valid, reused)" },
        certificate.key_file.display(),
        super::facts::rfc3339(certificate.facts.not_after),
        certificate.ca_file.parent().unwrap_or(Path::new(".")).display(),
    )
}
