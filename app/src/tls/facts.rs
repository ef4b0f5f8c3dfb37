//! What an operator needs to know of the certificate served: who it names and until when.

use x509_parser::extensions::GeneralName;

/// The served certificate as `vaultgate check`, the logs and the expiry metric show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    pub subject: String,
    /// DNS names and IP addresses of the subject alternative names.
    pub names: Vec<String>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

impl CertificateFacts {
    /// Reads the server certificate (DER); `None` when it is not X.509.
    pub fn of(der: &[u8]) -> Option<CertificateFacts> {
        let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
        let names = match certificate.subject_alternative_name() {
            Ok(Some(extension)) => extension.value.general_names.iter().filter_map(name_of).collect(),
            _ => Vec::new(),
        };
        Some(CertificateFacts {
            subject: certificate.subject().to_string(),
            names,
            not_before: certificate.validity().not_before.timestamp(),
            not_after: certificate.validity().not_after.timestamp(),
        })
    }

    /// Whole days from `now` to the end of validity (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    /// `CN=localhost (localhost, 127.0.0.1), expires 2027-12-06T03:00:00Z, in 365 days`
    pub fn describe(&self, now: i64) -> String {
        let names = if self.names.is_empty() { String::new() } else { format!(" ({})", self.names.join(", ")) };
        format!("{}{names}, expires {}, in {} days", self.subject, rfc3339(self.not_after), self.days_left(now))
    }
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix} (Unix time)"))
}

fn name_of(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
            16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_counts_whole_days_and_goes_negative_after_expiry() {
        let facts = CertificateFacts { subject: "CN=x".into(), names: vec![], not_before: 0, not_after: 10 * 86_400 };
        assert_eq!(facts.days_left(0), 10);
        assert_eq!(facts.days_left(86_400 + 1), 8);
        assert_eq!(facts.days_left(11 * 86_400), -1);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
