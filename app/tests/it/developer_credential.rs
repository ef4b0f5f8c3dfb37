//! The developer credential: vaultgate on a laptop reads a (fake) Key Vault with the token
//! `az` or `azd` hands out. Fake `az` and `azd` are small scripts the test writes into a
//! folder put first on the binary's `PATH`; they record their arguments and print the wire
//! samples' JSON (or the signed-out error, or nothing for a while).

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::{Server, vaultgate};
use serde_json::Value;
use vaultgate::auth::dev_key::{DevKey, MintRequest};
use vaultgate_tests::fake_identity::Issued;
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret, TENANT};
use vaultgate_tests::http::client;
use vaultgate_tests::{Reply, send};

const WIRE_AZ: &str = include_str!("../../../tests/wire/az-account-get-access-token.json");
const WIRE_AZ_SIGNED_OUT: &str = include_str!("../../../tests/wire/az-account-get-access-token-not-logged-in.txt");
const WIRE_AZD: &str = include_str!("../../../tests/wire/azd-auth-token.json");
const WIRE_AZD_SIGNED_OUT: &str = include_str!("../../../tests/wire/azd-auth-token-not-logged-in.txt");
const VERSION: &str = "41cce6796d81438f9dad0d96bf85d50d";
const VALUE: &str = "api-key-value-5521";
/// The fake tools' tokens, `@SCOPE@` replaced by the scope they were asked for.
const AZ_TOKEN: &str = "fake-az-cli-token-for-@SCOPE@";
const AZD_TOKEN: &str = "fake-azd-token-for-@SCOPE@";

/// What a fake tool does when run.
enum Act {
    /// Prints this JSON on stdout, exits 0.
    Answer(String),
    /// Prints this on stderr, exits 1.
    Refuse(String),
    /// Never answers.
    Hang,
}

/// A folder of fake tools; each records its arguments, one a line, in `<name>.args`.
struct Tools {
    dir: tempfile::TempDir,
}

impl Tools {
    fn new() -> Tools {
        Tools { dir: tempfile::tempdir().unwrap() }
    }

    fn add(&self, name: &str, act: Act) {
        let dir = self.dir.path();
        // Every run appends its arguments, then a blank line; the token names the scope asked
        // for, so the fake vault accepts only a token asked for its own scope.
        let record = format!(
            "printf '%s\\n' \"$@\" '' >> '{dir}/{name}.args'\nscope=\nwhile [ $# -gt 0 ]; do [ \"$1\" = --scope ] && scope=\"$2\"; shift; done\n",
            dir = dir.display()
        );
        let body = match act {
            Act::Answer(json) => {
                std::fs::write(dir.join(format!("{name}.out")), json).unwrap();
                format!("sed \"s|@SCOPE@|$scope|\" '{}/{name}.out'\n", dir.display())
            }
            Act::Refuse(stderr) => {
                std::fs::write(dir.join(format!("{name}.err")), stderr).unwrap();
                format!("cat '{}/{name}.err' >&2\nexit 1\n", dir.display())
            }
            // `exec`: the process vaultgate started is the one that hangs (and gets killed).
            Act::Hang => "exec sleep 300\n".to_owned(),
        };
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{record}{body}")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The arguments of each run of the tool, in order.
    fn runs(&self, name: &str) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.dir.path().join(format!("{name}.args"))).unwrap_or_default();
        text.split_terminator("\n\n").map(|run| run.lines().map(str::to_owned).collect()).collect()
    }

    /// The arguments the tool was last run with (none if it never ran).
    fn args(&self, name: &str) -> Vec<String> {
        self.runs(name).pop().unwrap_or_default()
    }

    /// Ours first, then the system's (the scripts need `sh`, `cat`, `sleep`).
    fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.path().display())
    }
}

fn in_an_hour() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600
}

/// The az wire sample, with `token` and an expiry an hour away.
fn az_answer(token: &str) -> String {
    let mut answer: Value = serde_json::from_str(WIRE_AZ).unwrap();
    answer["accessToken"] = token.into();
    answer["expires_on"] = in_an_hour().into();
    answer.to_string()
}

/// The azd wire sample, with `token` and an expiry an hour away (RFC 3339 UTC).
fn azd_answer(token: &str) -> String {
    let mut answer: Value = serde_json::from_str(WIRE_AZD).unwrap();
    answer["token"] = token.into();
    answer["expiresOn"] = rfc3339(in_an_hour()).into();
    answer.to_string()
}

fn rfc3339(epoch: u64) -> String {
    let output = Command::new("date").args(["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The stderr line of a signed-out sample (its first line describes it).
fn stderr_of(sample: &str) -> String {
    sample.lines().skip(1).collect::<Vec<_>>().join("\n") + "\n"
}

/// A fake vault holding `api-key`, accepting tokens issued for its own origin (reached
/// through the challenge); the fake tools' tokens are registered as such.
fn vault() -> (FakeKeyVault, std::sync::Arc<std::sync::Mutex<Issued>>) {
    let issued = std::sync::Arc::new(std::sync::Mutex::new(Issued::default()));
    let vault = FakeKeyVault::start(issued.clone(), false);
    vault.put("api-key", FakeSecret::new(VERSION, VALUE));
    // Tokens asked for the vault's own scope (what its challenge names) are good for it.
    for token in [AZ_TOKEN, AZD_TOKEN] {
        let token = token.replace("@SCOPE@", &format!("{}/.default", vault.url));
        issued.lock().unwrap().tokens.insert(token, vault.url.clone());
    }
    (vault, issued)
}

/// Local mode on a laptop: no Azure variable but the vault's URL and `PATH`.
fn laptop(key_dir: &Path, vault: &FakeKeyVault, tools: &Tools) -> Command {
    let mut command = vaultgate(key_dir);
    command
        .env("KEY_VAULT_URL", &vault.url)
        .env("PATH", tools.path())
        .env("UPSTREAM_TIMEOUT_SECS", "2")
        .env("KEY_VAULT_RETRY_BUDGET_SECS", "0");
    command
}

async fn read(server: &Server, key_dir: &Path) -> Reply {
    vaultgate::crypto::install_providers();
    let key = DevKey::load_or_create(key_dir).unwrap();
    let token = key.mint(&MintRequest { roles: vec!["GetSecret".into()], scopes: vec![], ttl_secs: 600 });
    let bearer = format!("Bearer {token}");
    send(client().get(format!("{}/vault/api-key", server.url)).insert_header(("Authorization", bearer))).await
}

fn scope_of(vault: &FakeKeyVault) -> String {
    format!("{}/.default", vault.url)
}

#[actix_web::test]
async fn a_laptop_reads_the_vault_with_the_azure_cli_token() {
    let (vault, _) = vault();
    let tools = Tools::new();
    tools.add("az", Act::Answer(az_answer(AZ_TOKEN)));
    tools.add("azd", Act::Answer(azd_answer(AZD_TOKEN)));
    let key_dir = tempfile::tempdir().unwrap();
    let server = Server::start(laptop(key_dir.path(), &vault, &tools));
    server.wait_for_line("local mode reads the real Key Vault");

    let answer = read(&server, key_dir.path()).await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    assert_eq!(answer.json()["value"], VALUE);
    // The scope and tenant Key Vault's challenge named; azd was not needed.
    let scope = scope_of(&vault);
    assert_eq!(
        tools.args("az"),
        ["account", "get-access-token", "--output", "json", "--scope", scope.as_str(), "--tenant", TENANT]
    );
    assert!(tools.args("azd").is_empty());
    assert!(server.lines().iter().all(|line| !line.contains("fake-az-cli-token")), "the token is never logged");
}

#[actix_web::test]
async fn azd_is_asked_when_az_is_signed_out_or_named_alone() {
    let (vault, _) = vault();
    let tools = Tools::new();
    tools.add("az", Act::Refuse(stderr_of(WIRE_AZ_SIGNED_OUT)));
    tools.add("azd", Act::Answer(azd_answer(AZD_TOKEN)));
    let key_dir = tempfile::tempdir().unwrap();
    let server = Server::start(laptop(key_dir.path(), &vault, &tools));
    let answer = read(&server, key_dir.path()).await;
    assert_eq!(answer.status, 200, "{:#?}", server.lines());
    let scope = scope_of(&vault);
    assert_eq!(
        tools.args("azd"),
        ["auth", "token", "--output", "json", "--no-prompt", "--scope", scope.as_str(), "--tenant-id", TENANT]
    );
    drop(server);

    // AZURE_TOKEN_CREDENTIALS=AzureDeveloperCliCredential: az is never run.
    let tools = Tools::new();
    tools.add("az", Act::Answer(az_answer(AZ_TOKEN)));
    tools.add("azd", Act::Answer(azd_answer(AZD_TOKEN)));
    let mut command = laptop(key_dir.path(), &vault, &tools);
    command.env("AZURE_TOKEN_CREDENTIALS", "AzureDeveloperCliCredential");
    let server = Server::start(command);
    assert_eq!(read(&server, key_dir.path()).await.status, 200, "{:#?}", server.lines());
    assert!(tools.args("az").is_empty());
    assert_eq!(tools.args("azd")[6], scope);
}

#[actix_web::test]
async fn signed_out_tools_tell_the_user_to_sign_in() {
    let (vault, _) = vault();
    let tools = Tools::new();
    tools.add("az", Act::Refuse(stderr_of(WIRE_AZ_SIGNED_OUT)));
    tools.add("azd", Act::Refuse(stderr_of(WIRE_AZD_SIGNED_OUT)));
    let key_dir = tempfile::tempdir().unwrap();
    let server = Server::start(laptop(key_dir.path(), &vault, &tools));

    let answer = read(&server, key_dir.path()).await;
    // The catalog's answer; the reason (with the hint) goes to the log only.
    assert_eq!(answer.status, 502);
    assert_eq!(
        answer.json(),
        serde_json::json!({"code": "AzureKeyVaultFatalError", "description": "Error getting response from Azure Key Vault."})
    );
    server.wait_for_line("`az` is not signed in: run `az login`");
    server.wait_for_line("`azd` is not signed in: run `azd auth login`");
}

#[actix_web::test]
async fn a_tool_that_hangs_is_stopped_at_the_timeout() {
    let (vault, _) = vault();
    let tools = Tools::new();
    tools.add("az", Act::Hang);
    let key_dir = tempfile::tempdir().unwrap();
    let mut command = laptop(key_dir.path(), &vault, &tools);
    command.env("UPSTREAM_TIMEOUT_SECS", "1").env("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential");
    let server = Server::start(command);

    let started = std::time::Instant::now();
    let answer = read(&server, key_dir.path()).await;
    assert_eq!(answer.status, 502);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "answered after {:?}", started.elapsed());
    server.wait_for_line("`az` gave no token within 1s and was stopped");
    assert_eq!(tools.args("az")[4], "--scope");
}
