//! `vaultgate check`'s Key Vault steps: the host's verdict, the credential and why it was
//! chosen, the scope and tenant the vault's challenge asked for, the token's lifetime, and
//! the probe's answer code. The probe runs first (it is the request that meets the
//! challenge); the lines follow in the order a request goes through them.

use std::time::SystemTime;

use vaultgate_config::url::key_vault_host_verdict;

use super::{KeyVaultStore, PROBE_SECRET};
use crate::secrets::check_line::CheckLines;
use crate::secrets::{SecretName, SecretStore, StoreError, ThrottledBy};

pub(super) async fn check(vault: &KeyVaultStore) -> CheckLines {
    let mut report = CheckLines::default();
    let url = vault.url();
    match key_vault_host_verdict(vault.host()) {
        Some(verdict) => report.line(true, "key vault host", &format!("{url}: {verdict}")),
        None => report.line(false, "key vault host", &format!("{url}: not a Key Vault host")),
    }
    let source = vault.tokens().source();
    let because = crate::credential::chosen_because(source);
    report.line(true, "credential", &format!("{}, chosen as {because}", source.describe()));

    let name = SecretName::parse(PROBE_SECRET).expect("the probe name is valid");
    let probe = vault.get(&name, None).await;
    match vault.challenge() {
        Some((request, named)) => {
            let tenant = match (&request.tenant, named) {
                (Some(asked), _) => format!("tenant {asked}"),
                (None, Some(named)) => format!("tenant {named} (not passed on: this credential's endpoint takes none)"),
                (None, None) => "no tenant named".to_owned(),
            };
            report.line(true, "challenge", &format!("scope {}, {tenant}", request.scope));
            match &probe {
                // The probe's own attempt failed: its cause, not a second attempt.
                Err(StoreError::Credential(failure)) => report.line(false, "token", &format!("credential: {failure}")),
                _ => match vault.tokens().token(&request).await {
                    Ok(token) => report.line(true, "token", &lifetime(token.expires_at, token.refresh_at)),
                    Err(e) => report.line(false, "token", &e.to_string()),
                },
            }
        }
        None => report.line(false, "challenge", "the vault answered no 401 challenge, so no token was asked for"),
    }
    match probe {
        Err(StoreError::Credential(_)) => report.line(false, "probe", "not sent with a token: the credential failed"),
        Err(StoreError::NotFound) => report.line(
            true,
            "probe",
            &format!("404 SecretNotFound: reachable, and secret reads are permitted ({url})"),
        ),
        Ok(_) => report.line(true, "probe", &format!("200: the probe name {PROBE_SECRET} exists in {url}")),
        Err(StoreError::Disabled(_)) => report.line(true, "probe", "403 SecretDisabled: reachable, reads permitted"),
        Err(StoreError::Throttled { by: ThrottledBy::KeyVault, retry_after_secs }) => report.line(
            true,
            "probe",
            &format!("throttled (429/503, retry after {retry_after_secs}s): reachable; permission not proven"),
        ),
        Err(StoreError::Throttled { by: ThrottledBy::Ceiling, .. }) => {
            report.line(false, "probe", "not sent: KEY_VAULT_MAX_GETS_PER_10S reached")
        }
        Err(StoreError::MissBudgetSpent { .. }) => report.line(false, "probe", "refused by the miss budget"),
        Err(failure @ StoreError::Failed { .. }) => report.line(
            false,
            "probe",
            &format!("{url}: {failure} (the identity needs the Key Vault Secrets User role)"),
        ),
    }
    report
}

/// "expires in 59 min (at unix 1796052935), renewed in the background from 30 min"
fn lifetime(expires_at: SystemTime, refresh_at: SystemTime) -> String {
    let minutes = |at: SystemTime| at.duration_since(SystemTime::now()).unwrap_or_default().as_secs() / 60;
    let unix = expires_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
    format!(
        "acquired; expires in {} min (at unix {unix}), renewed in the background in {} min",
        minutes(expires_at),
        minutes(refresh_at)
    )
}
