//! The command line: `vaultgate [serve]`, `vaultgate token ...`, `check`, `dev-cert`.

use crate::auth::dev_key::MintRequest;

pub const USAGE: &str = "\
usage:
  vaultgate [serve]                     serve (local mode when TENANT_ID is unset)
  vaultgate token [--role R]... [--scope S]... [--ttl SECS] [--count N]
                                        print development tokens, one a line (local mode only)
  vaultgate check [--secret NAME]       prove the configuration: keys, credential, vault
  vaultgate dev-cert                    create a local CA and a localhost certificate in DEV_KEY_DIR
                                        for TLS=dev, and print how to trust it (local mode only)
  vaultgate help                        this text

Configuration comes from the environment; see docs/CONFIGURATION.md.";

/// The default lifetime of a development token: an hour, like Entra's.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve,
    Token { request: MintRequest, count: usize },
    Check { secret: Option<String> },
    DevCert,
    Help,
}

/// Why the command line was refused; the text is printed above `USAGE`.
#[derive(Debug, Clone, PartialEq, Eq, derive_more::Display)]
pub enum UsageError {
    #[display("unknown command or argument {_0:?}")]
    UnknownCommand(String),
    #[display("dev-cert takes no arguments")]
    DevCertArguments,
    #[display("check takes only --secret NAME")]
    CheckArguments,
    #[display("unknown token option {_0:?}")]
    UnknownTokenOption(String),
    #[display("{_0} needs a value")]
    MissingValue(String),
    #[display("--ttl takes whole seconds from 1 to 86400")]
    TokenTtl,
    #[display("--count takes a whole number from 1 to 1000000")]
    TokenCount,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some((command, rest)) = args.split_first() else { return Ok(Command::Serve) };
    match command.as_str() {
        "serve" if rest.is_empty() => Ok(Command::Serve),
        "help" | "--help" | "-h" => Ok(Command::Help),
        "token" => parse_token(rest),
        "dev-cert" if rest.is_empty() => Ok(Command::DevCert),
        "dev-cert" => Err(UsageError::DevCertArguments),
        "check" => match rest {
            [] => Ok(Command::Check { secret: None }),
            [flag, name] if flag == "--secret" => Ok(Command::Check { secret: Some(name.clone()) }),
            _ => Err(UsageError::CheckArguments),
        },
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
}

fn parse_token(args: &[String]) -> Result<Command, UsageError> {
    let mut request = MintRequest { roles: Vec::new(), scopes: Vec::new(), ttl_secs: DEFAULT_TOKEN_TTL_SECS };
    let mut count = 1;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value =
            || args.next().filter(|v| !v.trim().is_empty()).ok_or_else(|| UsageError::MissingValue(flag.clone()));
        match flag.as_str() {
            "--role" => request.roles.push(value()?.clone()),
            "--scope" => request.scopes.push(value()?.clone()),
            "--ttl" => {
                request.ttl_secs = value()?
                    .parse::<u64>()
                    .ok()
                    .filter(|ttl| (1..=86_400).contains(ttl))
                    .ok_or(UsageError::TokenTtl)?;
            }
            "--count" => {
                count = value()?
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or(UsageError::TokenCount)?;
            }
            other => return Err(UsageError::UnknownTokenOption(other.to_owned())),
        }
    }
    Ok(Command::Token { request, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn commands() {
        assert_eq!(parse(&[]), Ok(Command::Serve));
        assert_eq!(parse(&args("serve")), Ok(Command::Serve));
        assert_eq!(
            parse(&args("token --role GetSecret --scope a --scope b --ttl 60")),
            Ok(Command::Token {
                request: MintRequest {
                    roles: vec!["GetSecret".into()],
                    scopes: vec!["a".into(), "b".into()],
                    ttl_secs: 60
                },
                count: 1
            })
        );
        assert_eq!(parse(&args("token --role")), Err(UsageError::MissingValue("--role".into())));
        assert_eq!(parse(&args("token --ttl 0")), Err(UsageError::TokenTtl));
        assert_eq!(
            parse(&args("token --count 0")).unwrap_err().to_string(),
            "--count takes a whole number from 1 to 1000000"
        );
        assert!(matches!(parse(&args("token --count 3")), Ok(Command::Token { count: 3, .. })));
        assert_eq!(parse(&args("bogus")).unwrap_err().to_string(), r#"unknown command or argument "bogus""#);
        assert_eq!(parse(&args("check")), Ok(Command::Check { secret: None }));
        assert_eq!(parse(&args("check --secret db")), Ok(Command::Check { secret: Some("db".into()) }));
        assert_eq!(parse(&args("check --secret")), Err(UsageError::CheckArguments));
        assert_eq!(parse(&args("dev-cert")), Ok(Command::DevCert));
        assert_eq!(parse(&args("dev-cert --force")), Err(UsageError::DevCertArguments));
    }
}
