//! A PKCS#12 (`.pfx`/`.p12`) client certificate file: its private key and certificates, opened
//! with `AZURE_CLIENT_CERTIFICATE_PASSWORD`. Errors name the file, never the password.

use p12_keystore::Pkcs12Archive;
use p12_keystore::error::Error;

/// What a PKCS#12 file holds, in file order: the private keys (PKCS#8 DER) and certificates (DER).
pub struct Pkcs12Contents {
    pub keys: Vec<Vec<u8>>,
    pub certificates: Vec<Vec<u8>>,
}

/// Opens a PKCS#12 file; no password is the empty one, as the SDKs and `openssl` take it.
pub fn open(path: &str, der: &[u8], password: Option<&str>) -> Result<Pkcs12Contents, String> {
    let archive = Pkcs12Archive::from_pkcs12(der, password.unwrap_or("")).map_err(|error| {
        let why = match error {
            // The MAC fails first with a wrong password; without a MAC, the decryption does.
            Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_) => {
                "the PKCS#12 file does not open with AZURE_CLIENT_CERTIFICATE_PASSWORD (wrong password, or the file needs one)"
                    .to_owned()
            }
            Error::UnsupportedEncryptionScheme | Error::UnsupportedMacAlgorithm => {
                format!("the PKCS#12 file's encryption is not supported ({error})")
            }
            // der/x509 errors say what and where in the file, never the password.
            other => format!("not a readable PKCS#12 file ({other})"),
        };
        format!("AZURE_CLIENT_CERTIFICATE_PATH {path}: {why}")
    })?;
    Ok(Pkcs12Contents {
        keys: archive.keys.into_iter().map(|bag| bag.key.as_der().to_vec()).collect(),
        certificates: archive.certs.into_iter().map(|bag| bag.cert.as_der().to_vec()).collect(),
    })
}
