//! A developer's own sign-in, through the Azure CLI (`az account get-access-token`) or the
//! Azure Developer CLI (`azd auth token`), as the Azure SDKs' `AzureCliCredential` and
//! `AzureDeveloperCliCredential` do. The program is run directly (never through a shell),
//! with arguments checked first, from `/` (so no project file in the working directory
//! steers it), and killed when it outlives the timeout.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use vaultgate_config::secrets_settings::{CredentialSettings, CredentialSource, DeveloperTool, TokenCredentials};

use super::developer_cli_answer_problem::CliAnswerProblem;
use super::{AccessToken, CredentialError, TenantRule, TokenRequest};

/// The longest stretch of a tool's error output put in a log line.
const MAX_STDERR_CHARS: usize = 400;

pub const CHOSEN_BECAUSE: &str = "a developer's own sign-in: AZURE_TOKEN_CREDENTIALS names it, or no credential \
                                  variable and no hosting environment is in sight and the tool is on PATH";

/// Chosen before everything else when `AZURE_TOKEN_CREDENTIALS` names the tools (`dev`, or
/// one tool's credential).
pub fn named(settings: &CredentialSettings) -> Option<CredentialSource> {
    let tools = match settings.token_credentials {
        TokenCredentials::Dev => vec![DeveloperTool::AzureCli, DeveloperTool::AzureDeveloperCli],
        TokenCredentials::Tool(tool) => vec![tool],
        _ => return None,
    };
    Some(CredentialSource::DeveloperCli { tools, tenant_id: settings.tenant_id.clone() })
}

/// Managed identity cannot be detected on a VM (IMDS has no variable), so without a narrowing
/// the tools are chosen, before IMDS, only when no hosting environment is in sight and `az` or
/// `azd` is on `PATH`.
pub fn found(settings: &CredentialSettings) -> Option<CredentialSource> {
    let found = settings.token_credentials == TokenCredentials::All
        && !settings.hosting_in_sight
        && !settings.developer_tools_on_path.is_empty();
    found.then(|| CredentialSource::DeveloperCli {
        tools: settings.developer_tools_on_path.clone(),
        tenant_id: settings.tenant_id.clone(),
    })
}

/// With `AZURE_TENANT_ID`, bound to it; without, the sign-in decides which tenants the tool
/// can reach, so the challenge's tenant goes to the tool as asked.
pub fn tenant_rule(tenant_id: Option<&str>) -> TenantRule<'_> {
    match tenant_id {
        Some(tenant_id) => TenantRule::Own(tenant_id),
        None => TenantRule::AsAsked,
    }
}

/// Tries each tool in order (the SDKs' chain order) and returns the first token; when all
/// fail, every tool's reason, each telling what to run. The failure is an outage only when
/// every tool's was (a tool that outlived its timeout).
pub async fn fetch(
    tools: &[DeveloperTool],
    tenant_id: Option<&str>,
    request: &TokenRequest,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let tenant = request.tenant.as_deref().or(tenant_id);
    let scope = request.scope.as_str();
    check_argument("scope", scope, |c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))?;
    if let Some(tenant) = tenant {
        check_argument("tenant", tenant, |c| c.is_ascii_alphanumeric() || "-.".contains(c))?;
    }
    let mut failures = Vec::new();
    for tool in tools {
        match run(*tool, tenant, scope, timeout).await {
            Ok(token) => return Ok(token),
            Err(failure) => failures.push(failure),
        }
    }
    let reasons = failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    Err(if !failures.is_empty() && failures.iter().all(CredentialError::is_transient) {
        CredentialError::Unavailable(reasons)
    } else {
        CredentialError::Refused(reasons)
    })
}

/// Values that reach a command line: only the characters the SDKs allow, and never one that
/// reads as an option.
fn check_argument(what: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), CredentialError> {
    if value.is_empty() || value.starts_with('-') || !value.chars().all(allowed) {
        return Err(CredentialError::Misconfigured(format!(
            "developer sign-in: the {what} {value:?} has characters a command line must not get"
        )));
    }
    Ok(())
}

fn arguments(tool: DeveloperTool, tenant: Option<&str>, scope: &str) -> Vec<String> {
    let (base, tenant_flag): (&[&str], &str) = match tool {
        DeveloperTool::AzureCli => (&["account", "get-access-token", "--output", "json", "--scope"], "--tenant"),
        DeveloperTool::AzureDeveloperCli => {
            (&["auth", "token", "--output", "json", "--no-prompt", "--scope"], "--tenant-id")
        }
    };
    let mut args: Vec<String> = base.iter().map(|a| (*a).to_owned()).collect();
    args.push(scope.to_owned());
    if let Some(tenant) = tenant {
        args.extend([tenant_flag.to_owned(), tenant.to_owned()]);
    }
    args
}

async fn run(
    tool: DeveloperTool,
    tenant: Option<&str>,
    scope: &str,
    timeout: Duration,
) -> Result<AccessToken, CredentialError> {
    let program = tool.program();
    let login = tool.login_command();
    let child = tokio::process::Command::new(program)
        .args(arguments(tool, tenant, scope))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            CredentialError::Misconfigured(match e.kind() {
                std::io::ErrorKind::NotFound => format!("`{program}` is not on PATH: install it, then run `{login}`"),
                _ => format!("`{program}` could not be started: {e}"),
            })
        })?;
    // On timeout the future is dropped, and with it the child, which `kill_on_drop` kills.
    let output = match actix_web::rt::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| CredentialError::Unavailable(format!("`{program}`: {e}")))?,
        Err(_) => {
            return Err(CredentialError::Unavailable(format!(
                "`{program}` gave no token within {}s and was stopped; check that `{login}` works in a terminal",
                timeout.as_secs()
            )));
        }
    };
    if !output.status.success() {
        let stderr = one_line(&String::from_utf8_lossy(&output.stderr));
        let signed_out = match tool {
            DeveloperTool::AzureCli => stderr.contains("az login") || stderr.contains("az account set"),
            DeveloperTool::AzureDeveloperCli => stderr.contains("azd auth login"),
        };
        return Err(CredentialError::Refused(if signed_out {
            format!("`{program}` is not signed in: run `{login}` ({stderr})")
        } else {
            format!("`{program}` failed ({}): {stderr}; run `{login}` if you are not signed in", output.status)
        }));
    }
    read(tool, &output.stdout)
        .map_err(|e| CredentialError::Unusable(format!("`{program}` answered without a usable token: {e}")))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_STDERR_CHARS).collect()
}

/// `az account get-access-token -o json`: `expires_on` in epoch seconds (CLI 2.54 and later);
/// the older `expiresOn` is local time without a zone, which is not guessed at.
#[derive(Deserialize)]
struct AzAnswer {
    #[serde(rename = "accessToken")]
    access_token: String,
    expires_on: Option<u64>,
}

/// `azd auth token -o json`: `expiresOn` in RFC 3339 UTC (`2023-10-04T21:01:15Z`).
#[derive(Deserialize)]
struct AzdAnswer {
    token: String,
    #[serde(rename = "expiresOn")]
    expires_on: String,
}

fn read(tool: DeveloperTool, stdout: &[u8]) -> Result<AccessToken, CliAnswerProblem> {
    let (token, expires_at) = match tool {
        DeveloperTool::AzureCli => {
            let answer: AzAnswer = serde_json::from_slice(stdout).map_err(CliAnswerProblem::NotJson)?;
            let epoch = answer.expires_on.ok_or(CliAnswerProblem::NoEpochExpiry)?;
            (answer.access_token, UNIX_EPOCH + Duration::from_secs(epoch))
        }
        DeveloperTool::AzureDeveloperCli => {
            let answer: AzdAnswer = serde_json::from_slice(stdout).map_err(CliAnswerProblem::NotJson)?;
            let expires_at = crate::clock::rfc3339_utc(&answer.expires_on).ok_or(CliAnswerProblem::ExpiryNotUtc)?;
            (answer.token, expires_at)
        }
    };
    if token.is_empty() {
        return Err(CliAnswerProblem::EmptyToken);
    }
    if expires_at <= SystemTime::now() {
        return Err(CliAnswerProblem::Expired);
    }
    Ok(AccessToken::new(token, expires_at, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AZ: &str = include_str!("../../../tests/wire/az-account-get-access-token.json");
    const AZD: &str = include_str!("../../../tests/wire/azd-auth-token.json");

    #[test]
    fn the_wire_samples_parse_and_their_past_expiry_is_refused() {
        // The samples' expiries (2023) are in the past: parsed, then refused as expired.
        assert_eq!(
            read(DeveloperTool::AzureCli, AZ.as_bytes()).unwrap_err().to_string(),
            "the token has already expired"
        );
        assert_eq!(
            read(DeveloperTool::AzureDeveloperCli, AZD.as_bytes()).unwrap_err().to_string(),
            "the token has already expired"
        );
        let old_cli = AZ.replace("\"expires_on\": 1698789550,", "");
        assert_eq!(
            read(DeveloperTool::AzureCli, old_cli.as_bytes()).unwrap_err().to_string(),
            "no expires_on (Azure CLI 2.54 or later is needed)"
        );
    }

    #[test]
    fn arguments_are_the_documented_ones() {
        assert_eq!(
            arguments(DeveloperTool::AzureCli, Some("t1"), "https://vault.azure.net/.default"),
            [
                "account",
                "get-access-token",
                "--output",
                "json",
                "--scope",
                "https://vault.azure.net/.default",
                "--tenant",
                "t1"
            ]
        );
        assert_eq!(
            arguments(DeveloperTool::AzureDeveloperCli, None, "s"),
            ["auth", "token", "--output", "json", "--no-prompt", "--scope", "s"]
        );
    }

    #[actix_web::test]
    async fn values_that_could_read_as_options_never_reach_a_command() {
        let tools = [DeveloperTool::AzureCli];
        let second = Duration::from_secs(1);
        let scoped = |scope: &str| TokenRequest { scope: scope.to_owned(), tenant: None };
        let bad_scope = fetch(&tools, None, &scoped("--help"), second).await.unwrap_err().to_string();
        assert!(bad_scope.contains("the scope \"--help\""), "{bad_scope}");
        let bad_tenant =
            fetch(&tools, Some("a b;c"), &TokenRequest::key_vault(), second).await.unwrap_err().to_string();
        assert!(bad_tenant.contains("the tenant \"a b;c\""), "{bad_tenant}");
    }
}
