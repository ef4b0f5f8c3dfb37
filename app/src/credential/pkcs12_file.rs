//! A PKCS#12 (`.pfx`/`.p12`) client certificate file: its private key and certificates, opened
//! with `AZURE_CLIENT_CERTIFICATE_PASSWORD`. Errors name the file, never the password. A file
//! without a MAC is refused: nothing would prove it is the file that was exported.

use p12_keystore::Pkcs12Archive;
use p12_keystore::error::Error;
use x509_parser::der_parser::ber::parse_ber_sequence;
use zeroize::Zeroizing;

use super::certificate_file_error::CertificateFileProblem;

/// What a PKCS#12 file holds, in file order: the private keys (PKCS#8 DER, wiped when dropped)
/// and certificates (DER).
pub struct Pkcs12Contents {
    pub keys: Vec<Zeroizing<Vec<u8>>>,
    pub certificates: Vec<Vec<u8>>,
}

/// Opens a PKCS#12 file; no password is the empty one, as the SDKs and `openssl` take it.
pub fn open(der: &[u8], password: Option<&str>) -> Result<Pkcs12Contents, CertificateFileProblem> {
    let mac = has_mac(der);
    if mac == Some(false) {
        return Err(CertificateFileProblem::Pkcs12WithoutMac);
    }
    let archive = Pkcs12Archive::from_pkcs12(der, password.unwrap_or("")).map_err(|error| match error {
        // A wrong password fails the MAC (files without one are refused above); the
        // decryption errors say the same, should a MAC of another password ever pass.
        Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_) => CertificateFileProblem::Pkcs12WrongPassword,
        Error::UnsupportedEncryptionScheme | Error::UnsupportedMacAlgorithm => {
            CertificateFileProblem::Pkcs12UnsupportedEncryption(error)
        }
        other => CertificateFileProblem::Pkcs12Unreadable(other),
    })?;
    // The reader took a file whose MAC could not be found: refused rather than taken unchecked.
    if mac.is_none() {
        return Err(CertificateFileProblem::Pkcs12WithoutMac);
    }
    Ok(Pkcs12Contents {
        keys: archive.keys.into_iter().map(|bag| Zeroizing::new(bag.key.as_der().to_vec())).collect(),
        certificates: archive.certs.into_iter().map(|bag| bag.cert.as_der().to_vec()).collect(),
    })
}

/// Whether the PFX (RFC 7292 §4: version, authSafe, macData OPTIONAL) has its macData; `None`
/// when it does not parse, left to the PKCS#12 reader, whose error says more.
fn has_mac(der: &[u8]) -> Option<bool> {
    let (_, pfx) = parse_ber_sequence(der).ok()?;
    pfx.as_sequence().ok().map(|items| items.len() >= 3)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    use zeroize::Zeroizing;

    use super::*;

    const PASSWORD: &str = "p12-Pa55word";

    #[test]
    fn decrypted_keys_are_wiped_when_dropped() {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap();
        let mut store = KeyStore::new();
        let chain = PrivateKeyChain::new("key", PrivateKey::from_der(pkcs8.as_ref()).unwrap(), []);
        store.add_entry("key", KeyStoreEntry::PrivateKeyChain(chain));
        let file = store.writer(PASSWORD).write().unwrap();
        assert_eq!(has_mac(&file), Some(true));
        let keys: Vec<Zeroizing<Vec<u8>>> = open(&file, Some(PASSWORD)).unwrap().keys;
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].as_slice(), pkcs8.as_ref());
    }

    #[test]
    fn a_file_without_a_mac_is_refused_before_anything_is_decrypted() {
        // PFX ::= SEQUENCE { version 3, authSafe ContentInfo, macData OPTIONAL }: here without macData.
        let without_mac = [0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00];
        let refused = open(&without_mac, Some(PASSWORD)).err().unwrap().of("client.pfx");
        assert_eq!(
            refused.to_string(),
            "AZURE_CLIENT_CERTIFICATE_PATH client.pfx: the PKCS#12 file has no MAC, so nothing proves it was not \
             altered; export it with one (openssl pkcs12 -export without -nomac)"
        );
    }
}
