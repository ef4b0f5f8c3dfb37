//! The command line: `vaultgate [serve]`, `vaultgate token ...`.

use crate::auth::dev_key::MintRequest;

pub const USAGE: &str = "\
usage:
  vaultgate [serve]                     serve (local mode when TENANT_ID is unset)
  vaultgate token [--role R]... [--scope S]... [--ttl SECS] [--count N]
                                        print development tokens, one a line (local mode only)
  vaultgate check [--secret NAME]       prove the configuration: keys, credential, vault
  vaultgate help                        this text

Configuration comes from the environment; see docs/CONFIGURATION.md.";

/// The default lifetime of a development token: an hour, like Entra's.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve,
    Token { request: MintRequest, count: usize },
    Check { secret: Option<String> },
    Help,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((command, rest)) = args.split_first() else { return Ok(Command::Serve) };
    match command.as_str() {
        "serve" if rest.is_empty() => Ok(Command::Serve),
        "help" | "--help" | "-h" => Ok(Command::Help),
        "token" => parse_token(rest),
        "check" => match rest {
            [] => Ok(Command::Check { secret: None }),
            [flag, name] if flag == "--secret" => Ok(Command::Check { secret: Some(name.clone()) }),
            _ => Err("check takes only --secret NAME".into()),
        },
        other => Err(format!("unknown command or argument {other:?}")),
    }
}

fn parse_token(args: &[String]) -> Result<Command, String> {
    let mut request = MintRequest { roles: Vec::new(), scopes: Vec::new(), ttl_secs: DEFAULT_TOKEN_TTL_SECS };
    let mut count = 1;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => request.roles.push(value()?.clone()),
            "--scope" => request.scopes.push(value()?.clone()),
            "--ttl" => {
                request.ttl_secs = value()?
                    .parse::<u64>()
                    .ok()
                    .filter(|ttl| (1..=86_400).contains(ttl))
                    .ok_or("--ttl takes whole seconds from 1 to 86400")?;
            }
            "--count" => {
                count = value()?
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or("--count takes a whole number from 1 to 1000000")?;
            }
            other => return Err(format!("unknown token option {other:?}")),
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
        assert!(parse(&args("token --role")).is_err());
        assert!(parse(&args("token --ttl 0")).is_err());
        assert!(matches!(parse(&args("token --count 3")), Ok(Command::Token { count: 3, .. })));
        assert!(parse(&args("bogus")).is_err());
        assert_eq!(parse(&args("check")), Ok(Command::Check { secret: None }));
        assert_eq!(parse(&args("check --secret db")), Ok(Command::Check { secret: Some("db".into()) }));
        assert!(parse(&args("check --secret")).is_err());
    }
}
