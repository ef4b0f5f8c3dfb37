//! Load and fault soak: many connections of mixed traffic against the real binary while the
//! fake Entra ID rotates keys, fails and stalls, and the fake Key Vault throttles, fails and
//! stalls. Every answer is checked against what the catalog says it must be; the last line
//! is `N passed, M failed`. Also fails on a panic in the server's log, an exit other than 0
//! on SIGTERM, or resident memory growing by 10% or more after warm-up.
//!
//! `cargo run -p vaultgate-tools --bin soak -- [--seconds 60] [--connections 256] [--binary PATH]`

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::AUTHORIZATION;
use serde_json::{Value, json};
use vaultgate_tests::app::extra_key;
use vaultgate_tests::fake_entra::{APP_ID, Behaviour, FakeEntra, TENANT};
use vaultgate_tests::fake_identity::{FakeIdentity, IDENTITY_HEADER};
use vaultgate_tests::fake_keyvault::{FakeKeyVault, FakeSecret, Fault};
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::{entra, entra_header, now};

const SECRET: &str = "soak-secret-value-5523";

/// Outcomes a scenario may have: (status, catalog code).
type Allowed = &'static [(u16, &'static str)];

const VAULT_TROUBLE: [(u16, &str); 2] = [(502, "AzureKeyVaultFatalError"), (503, "AzureKeyVaultThrottled")];
const VALID: Allowed = &[(200, ""), VAULT_TROUBLE[0], VAULT_TROUBLE[1]];
const WRONG_ROLE: Allowed = &[(403, "MissingRequiredRole")];
const EXPIRED: Allowed = &[(401, "AuthorizationTokenExpired")];
const GARBAGE: Allowed = &[(401, "InvalidAuthorizationHeader")];
const MISSING: Allowed = &[(401, "AuthorizationHeaderMissing")];
/// Random names come from a caller of their own: past its miss budget it gets 429s, the others never.
const RANDOM_NAME: Allowed =
    &[(404, "SecretNotFound"), (429, "SecretMissBudgetExceeded"), VAULT_TROUBLE[0], VAULT_TROUBLE[1]];
const NEW_KEY: Allowed = &[(200, ""), (401, "InvalidAuthorizationHeader"), VAULT_TROUBLE[0], VAULT_TROUBLE[1]];
/// A batch is answered 200 whatever befalls each name (vault trouble lands under `errors`).
const BATCH: Allowed = &[(200, "")];
/// The catalog lists the vault: its failures are the whole answer's, in Key Vault's shape (a
/// spent budget is Key Vault's `Throttled`), and a listing that goes to the vault costs the
/// caller a unit of its miss budget (429 once spent).
const CATALOG: Allowed = &[(200, ""), (429, "Throttled"), VAULT_TROUBLE[0], VAULT_TROUBLE[1]];

/// What one soak request is: its method, body and what a 200 must hold.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Read,
    Batch,
    Catalog,
}

/// Whether a 200's body is what `kind` promises: the secret's value, a batch with `demo` under
/// `secrets` (value) or `errors` (vault trouble only) and the random name not found, or a
/// catalog that lists `demo` without any value.
fn good_200(kind: Kind, json: &Value) -> bool {
    match kind {
        Kind::Read => json["value"] == SECRET,
        Kind::Batch => {
            let demo_ok = json["secrets"]["demo"]["value"] == SECRET
                || matches!(
                    json["errors"]["demo"]["code"].as_str(),
                    Some("AzureKeyVaultFatalError" | "AzureKeyVaultThrottled")
                );
            let missing = matches!(
                json["errors"]["no-such-secret"]["code"].as_str(),
                Some("SecretNotFound" | "AzureKeyVaultFatalError" | "AzureKeyVaultThrottled")
            );
            demo_ok && missing && json["secrets"]["DEMO"] == json["secrets"]["demo"]
        }
        Kind::Catalog => {
            let items = json["value"].as_array().cloned().unwrap_or_default();
            items.iter().any(|item| item["id"].as_str().is_some_and(|id| id.ends_with("/secrets/demo")))
                && items.iter().all(|item| item.get("value").is_none())
        }
    }
}

struct Options {
    seconds: u64,
    connections: usize,
    binary: String,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 60,
        connections: 256,
        binary: concat!(env!("CARGO_MANIFEST_DIR"), "/../target/debug/vaultgate").to_owned(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--seconds", Some(v)) => options.seconds = v.parse().expect("--seconds takes a number"),
            ("--connections", Some(v)) => options.connections = v.parse().expect("--connections takes a number"),
            ("--binary", Some(v)) => options.binary = v.clone(),
            _ => panic!("usage: soak [--seconds N] [--connections N] [--binary PATH]"),
        }
    }
    options
}

fn token(key: &TestKey, roles: &[&str], exp_offset: i64) -> String {
    let (header, mut claims) = entra(2);
    claims["roles"] = json!(roles);
    claims["exp"] = json!(now() + exp_offset);
    key.sign_with_header(&entra_header(&header, key), &claims)
}

/// A token for the caller that sends random names (another `oid` than `token`'s).
fn prober_token(key: &TestKey) -> String {
    let (header, mut claims) = entra(2);
    claims["roles"] = json!(["GetSecret"]);
    claims["oid"] = json!("5ca1ab1e-0000-4000-8000-000000000001");
    claims["exp"] = json!(now() + 3600);
    key.sign_with_header(&entra_header(&header, key), &claims)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    examples: Vec<String>,
    by_status: HashMap<u16, u64>,
}

#[actix_web::main]
async fn main() {
    let options = options();
    vaultgate::crypto::install_providers();
    let (key_a, key_b, key_c) = (extra_key(0), extra_key(1), extra_key(2));
    let entra_fake = FakeEntra::start(&[key_a, key_b]);
    let identity = FakeIdentity::start();
    let vault = FakeKeyVault::start(identity.issued(), false);
    vault.put("demo", FakeSecret::new("41cce6796d81438f9dad0d96bf85d50d", SECRET));

    let mut child = Command::new(&options.binary)
        .env_clear()
        .env("TENANT_ID", TENANT)
        .env("AD_SERVER_APP_ID", APP_ID)
        .env("AUTHORITY_HOST", &entra_fake.base_url)
        .env("KEY_VAULT_URL", &vault.url)
        .env("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.base_url))
        .env("IDENTITY_HEADER", IDENTITY_HEADER)
        .env("BIND", "127.0.0.1")
        .env("PORT", "0")
        .env("JWKS_MIN_REFRESH_SECS", "1")
        .env("UPSTREAM_TIMEOUT_SECS", "1")
        .env("KEY_VAULT_RETRY_BUDGET_SECS", "1")
        .env("SECRET_CACHE_TTL", "1")
        .env("RUST_LOG", "warn,vaultgate=info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it first)", options.binary));
    let pid = child.id();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    {
        let stderr = child.stderr.take().unwrap();
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("serves in Azure mode on ") {
                    let _ = url_tx.send(line[at + "serves in Azure mode on ".len()..].trim().to_owned());
                }
                log.lock().unwrap().push(line);
            }
        });
    }
    let base = url_rx.recv_timeout(Duration::from_secs(60)).expect("vaultgate serves");
    let url = format!("{base}/vault/demo");

    let valid = Rc::new((0..50).map(|_| token(key_a, &["GetSecret"], 3600)).collect::<Vec<_>>());
    let wrong_role = Rc::new(token(key_a, &["Reader"], 3600));
    let expired = Rc::new(token(key_a, &["GetSecret"], -3600));
    let new_key = Rc::new(token(key_c, &["GetSecret"], 3600));
    let prober = Rc::new(prober_token(key_a));
    let tally = Rc::new(std::cell::RefCell::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    // A third of the run: allocator arenas settle as every kind of request (batches too) has run.
    let warm_up = Instant::now() + Duration::from_secs(options.seconds.div_ceil(3));
    let client = awc::Client::builder().timeout(Duration::from_secs(10)).finish();

    let mut workers = Vec::new();
    for worker in 0..options.connections {
        let (client, url, base, tally) = (client.clone(), url.clone(), base.clone(), tally.clone());
        let (valid, wrong_role, expired, new_key, prober) =
            (valid.clone(), wrong_role.clone(), expired.clone(), new_key.clone(), prober.clone());
        workers.push(actix_web::rt::spawn(async move {
            let mut n = worker;
            while Instant::now() < deadline {
                n += options.connections;
                let valid_token = || Some(valid[n % valid.len()].clone());
                let (path, authorization, allowed, kind): (String, Option<String>, Allowed, Kind) = match n % 9 {
                    0 => (url.clone(), valid_token(), VALID, Kind::Read),
                    // Key Vault's own Get Secret, as an official client reads (a bundle with `value`).
                    1 => (format!("{base}/secrets/demo?api-version=7.6"), valid_token(), VALID, Kind::Read),
                    2 => (url.clone(), Some((*wrong_role).clone()), WRONG_ROLE, Kind::Read),
                    3 => (url.clone(), Some((*expired).clone()), EXPIRED, Kind::Read),
                    4 => (url.clone(), Some(format!("garbage.{n}.token")), GARBAGE, Kind::Read),
                    5 if n % 2 == 0 => (url.clone(), None, MISSING, Kind::Read),
                    5 => (format!("{base}/vault/random-{}", n % 500), Some((*prober).clone()), RANDOM_NAME, Kind::Read),
                    6 => (url.clone(), Some((*new_key).clone()), NEW_KEY, Kind::Read),
                    7 => (format!("{base}/vault"), valid_token(), BATCH, Kind::Batch),
                    _ => (format!("{base}/secrets"), valid_token(), CATALOG, Kind::Catalog),
                };
                let mut request = if kind == Kind::Batch { client.post(&path) } else { client.get(&path) };
                if let Some(token) = &authorization {
                    request = request.insert_header((AUTHORIZATION, format!("Bearer {token}")));
                }
                let sent = if kind == Kind::Batch {
                    request.send_json(&json!({"names": ["demo", "DEMO", "no-such-secret"]})).await
                } else {
                    request.send().await
                };
                let verdict = match sent {
                    Err(e) => Err(format!("{path}: no answer: {e}")),
                    Ok(mut response) => {
                        let status = response.status().as_u16();
                        let body = response.body().limit(1 << 16).await.unwrap_or_default();
                        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        // The catalog's `code`, or Key Vault's `error.code` on its routes.
                        let code = json["code"].as_str().or(json["error"]["code"].as_str()).unwrap_or_default();
                        let good = allowed.iter().any(|(s, c)| {
                            *s == status && if status == 200 { good_200(kind, &json) } else { *c == code }
                        });
                        let leaked =
                            authorization.as_ref().is_some_and(|t| String::from_utf8_lossy(&body).contains(t.as_str()));
                        tally.borrow_mut().by_status.entry(status).and_modify(|c| *c += 1).or_insert(1);
                        if good && !leaked { Ok(()) } else { Err(format!("{path}: {status} {json}")) }
                    }
                };
                let mut tally = tally.borrow_mut();
                match verdict {
                    Ok(()) => tally.passed += 1,
                    Err(example) => {
                        tally.failed += 1;
                        if tally.examples.len() < 10 {
                            tally.examples.push(example);
                        }
                    }
                }
            }
        }));
    }

    // Chaos: the identity provider and the vault misbehave in turn.
    let chaos = actix_web::rt::spawn(async move {
        let mut round = 0u64;
        while Instant::now() < deadline {
            match round % 6 {
                0 => entra_fake.rotate_to(&[key_a, key_c]),
                1 => entra_fake.behave(Behaviour::Unavailable),
                2 => entra_fake.behave(Behaviour::Up),
                3 => entra_fake.rotate_to(&[key_a, key_b]),
                4 => entra_fake.behave(Behaviour::Stall),
                _ => entra_fake.behave(Behaviour::Up),
            }
            vault.fail_next([
                Fault::Throttled(vec![("retry-after-ms", "50".into())]),
                Fault::Unavailable(vec![]),
                Fault::ServerError,
                Fault::Stall,
            ]);
            round += 1;
            actix_web::rt::time::sleep(Duration::from_millis(700)).await;
        }
        entra_fake.behave(Behaviour::Up);
    });

    while Instant::now() < warm_up {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_after_warm_up = rss_kib(pid);
    for worker in workers {
        let _ = worker.await;
    }
    let _ = chaos.await;
    let rss_at_end = rss_kib(pid);
    // What the budgets and the store saw: the first place to look when an outcome surprises.
    let metrics = client.get(format!("{base}/metrics")).send().await;
    let metrics = match metrics {
        Ok(mut response) => {
            String::from_utf8_lossy(&response.body().limit(1 << 20).await.unwrap_or_default()).into_owned()
        }
        Err(e) => format!("no metrics: {e}"),
    };
    for line in metrics.lines().filter(|l| {
        !l.starts_with('#')
            && ["miss_budget", "keyvault_calls", "secret_list", "secret_cache"].iter().any(|m| l.contains(m))
    }) {
        println!("metric: {line}");
    }

    // SAFETY: kill(2) on our own child has no memory effects.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let exit = child.wait().map(|s| s.code()).unwrap_or(None);

    let tally = tally.borrow();
    let log = log.lock().unwrap();
    let panics = log.iter().filter(|l| l.contains("panicked")).count();
    let growth = rss_at_end as f64 / rss_after_warm_up.max(1) as f64 - 1.0;
    let mut statuses: Vec<_> = tally.by_status.iter().collect();
    statuses.sort();
    println!("statuses: {statuses:?}");
    println!(
        "resident memory: {rss_after_warm_up} KiB after warm-up, {rss_at_end} KiB at the end ({:+.1}%)",
        growth * 100.0
    );
    for example in &tally.examples {
        println!("unexpected: {example}");
    }
    if !tally.examples.is_empty() {
        // The server's own account of what went wrong (its log never holds tokens or values).
        for line in log.iter().filter(|l| l.contains("WARN") || l.contains("ERROR")).take(20) {
            println!("server: {line}");
        }
    }
    let mut failed = tally.failed;
    let mut check = |ok: bool, what: String| {
        if !ok {
            println!("FAIL {what}");
            failed += 1;
        }
    };
    check(panics == 0, format!("{panics} panic lines in the server's log"));
    check(exit == Some(0), format!("the server exited with {exit:?} on SIGTERM"));
    check(growth < 0.10, format!("resident memory grew {:.1}% after warm-up", growth * 100.0));
    check(tally.passed > 0, "no request passed".into());
    println!("{} passed, {} failed", tally.passed, failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
