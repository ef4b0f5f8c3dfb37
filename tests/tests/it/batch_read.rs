//! `POST /vault`: a batch of names read through the same path as single reads (name check,
//! exposure policy, per-secret roles, miss budget, cache, one audit line per name), each name
//! as asked under `secrets` or `errors`; names differing only in case read once; reads
//! bounded in number at once; every bad body a 4xx from the catalog.

use actix_web::web::Bytes;
use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, error_with_debug};
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault};
use vaultgate_tests::http::{client, metric, read, send_body};
use vaultgate_tests::tokens::now;
use vaultgate_tests::{Reply, TestApp, logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

/// vaultgate in local mode; logs are captured (before anything logs) for the audit checks.
async fn spawn(vars: &[(&str, &str)]) -> TestApp {
    logs::start_capture();
    TestApp::spawn_with(vars).await
}

fn caller(oid: &str, roles: &[&str]) -> String {
    tokens::valid_for(shared_key(), roles, Some(oid), Some("batch-client"))
}

fn reader(oid: &str) -> String {
    caller(oid, &["GetSecret"])
}

async fn post(app: &TestApp, token: Option<&str>, content_type: Option<&str>, body: impl Into<Bytes>) -> Reply {
    let mut request = client().post(app.url("/vault"));
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(content_type) = content_type {
        request = request.insert_header(("Content-Type", content_type));
    }
    send_body(request, body).await
}

async fn batch(app: &TestApp, token: &str, names: &[&str]) -> Reply {
    post(app, Some(token), Some("application/json"), json!({ "names": names }).to_string()).await
}

fn body_of(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The version and value a single read answers for `name`.
async fn single(app: &TestApp, name: &str) -> Value {
    let answer = app.get_secret(&format!("/vault/{name}")).await;
    assert_eq!(answer.status, 200, "{name}");
    answer.json()
}

fn not_found() -> Value {
    error("SecretNotFound", "Requested secret not found in Key Vault.")
}

fn missing_role() -> Value {
    error("MissingRequiredRole", "Access token missing required roles.")
}

#[actix_web::test]
async fn each_name_as_asked_under_secrets_or_errors() {
    let app = spawn(&[]).await;
    let (demo, db) = (single(&app, "demo").await, single(&app, "db-password").await);
    let answer = batch(&app, &reader("batch-mixed"), &["demo", "db-password", "nope"]).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({
            "secrets": {
                "demo": {"value": "hello from vaultgate", "version": demo["version"]},
                "db-password": {"value": "s3cr3t-value", "version": db["version"]},
            },
            "errors": {"nope": not_found()},
        })
    );
}

#[actix_web::test]
async fn a_batch_naming_anything_but_secret_names_is_refused_whole_naming_the_first() {
    let app = spawn(&[]).await;
    let oid = "batch-bad-names-0004";
    let token = reader(oid);
    let invalid = |debug: &str| error_with_debug("InvalidRequest", "The request could not be parsed.", debug);
    let answer = batch(&app, &token, &["demo", "bad name", "a/b"]).await;
    assert_eq!(answer.status, 400, "{}", body_of(&answer));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(
        answer.json(),
        invalid("names[1] is not a secret name (1 to 127 letters, digits and dashes): \"bad name\"")
    );
    // A name built to forge lines or flood: escaped, and cut after 64 characters.
    let hostile = format!("x\"\n\u{1b}[31m{}", "y".repeat(5_000));
    let answer = batch(&app, &token, &["demo", &hostile]).await;
    assert_eq!(answer.status, 400, "{}", body_of(&answer));
    let shown = format!("\"x\\\"\\n\\u{{1b}}[31m{}\"…", "y".repeat(56));
    assert_eq!(
        answer.json(),
        invalid(&format!("names[1] is not a secret name (1 to 127 letters, digits and dashes): {shown}"))
    );
    let audit: Vec<String> =
        logs::lines().into_iter().filter(|l| l.starts_with("INFO audit ") && l.contains(oid)).collect();
    assert!(audit.is_empty(), "a refused batch reads nothing: {audit:#?}");
    assert!(!logs::lines().iter().any(|l| l.contains('\u{1b}')), "no escape character reaches the log");
}

#[actix_web::test]
async fn names_differing_only_in_case_are_read_once_and_answered_under_each_casing() {
    logs::start_capture();
    let app = spawn(&[]).await;
    let demo = single(&app, "demo").await;
    let oid = "batch-casing-0001";
    let answer = batch(&app, &reader(oid), &["demo", "DEMO", "Demo", "demo", "NOPE", "nope"]).await;
    let secret = json!({"value": "hello from vaultgate", "version": demo["version"]});
    assert_eq!(
        answer.json(),
        json!({
            "secrets": {"demo": secret, "DEMO": secret, "Demo": secret},
            "errors": {"NOPE": not_found(), "nope": not_found()},
        })
    );
    // One audit line per name read: `demo` once (under its stored name), `NOPE` once.
    let audit: Vec<String> =
        logs::lines().into_iter().filter(|l| l.starts_with("INFO audit ") && l.contains(oid)).collect();
    assert_eq!(audit.len(), 2, "{audit:#?}");
    assert!(audit.iter().any(|l| l.contains("secret=demo ") && l.contains("outcome=ok")), "{audit:#?}");
    assert!(audit.iter().any(|l| l.contains("secret=NOPE ") && l.contains("outcome=SecretNotFound")), "{audit:#?}");
}

#[actix_web::test]
async fn one_audit_line_per_name_read_and_one_line_counting_the_refusals() {
    logs::start_capture();
    let app = spawn(&[
        ("SECRET_ROLES", "db-*=DbReader"),
        ("EXPOSED_SECRETS", "demo,db-*,missing-*"),
        ("SECRET_MISS_BUDGET", "1"),
    ])
    .await;
    let oid = "batch-audit-0002";
    let token = reader(oid);
    // One fruitless read spends the budget of 1 (and leaves `missing-first` cached as missing);
    // another caller leaves `demo` cached.
    assert_eq!(app.get_as("/vault/missing-first", &token).await.status, 404);
    assert_eq!(app.get_as("/vault/demo", &reader("batch-audit-warmer")).await.status, 200);
    let before = logs::lines().len();
    let names = ["demo", "db-password", "hidden", "missing-first", "missing-second"];
    let answer = batch(&app, &token, &names).await;
    assert_eq!(answer.status, 200);
    let spent =
        error("SecretMissBudgetExceeded", "Too many reads of secrets that could not be found; try again later.");
    assert_eq!(
        answer.json()["errors"],
        json!({
            "db-password": missing_role(),
            "hidden": not_found(),
            "missing-first": not_found(),
            "missing-second": spent,
        })
    );
    let audit: Vec<String> =
        logs::lines()[before..].iter().filter(|l| l.starts_with("INFO audit ") && l.contains(oid)).cloned().collect();
    assert_eq!(audit.len(), 3, "{audit:#?}");
    for (name, outcome) in [("demo", "ok"), ("missing-first", "SecretNotFound")] {
        let expected = format!("INFO audit secret access secret={name} version=");
        let line = audit.iter().find(|l| l.starts_with(&expected)).unwrap_or_else(|| panic!("{name}: {audit:#?}"));
        assert!(line.contains(&format!(" outcome={outcome} oid={oid} appid=")), "{line}");
    }
    let summary = format!("INFO audit secret batch refusals refused=3 policy=1 role=1 budget=1 oid={oid} appid=");
    assert!(audit.iter().any(|l| l.starts_with(&summary)), "{audit:#?}");
    assert!(!audit.iter().any(|l| l.contains("hello from vaultgate")), "never a value in the audit");
    // The budget's refusals are the summary's, not a log line per name.
    assert!(!logs::lines()[before..].iter().any(|l| l.contains("secret missing-second")), "no line per refused name");
}

#[actix_web::test]
async fn a_thousand_batches_of_a_hundred_refused_names_write_at_most_a_thousand_audit_lines() {
    logs::start_capture();
    let app = spawn(&[("EXPOSED_SECRETS", "demo")]).await;
    let oid = "batch-audit-volume-0005";
    let token = reader(oid);
    let hidden: Vec<String> = (0..100).map(|i| format!("hidden-{i}")).collect();
    let body = json!({ "names": hidden }).to_string();
    for _ in 0..1_000 {
        let answer = post(&app, Some(&token), Some("application/json"), body.clone()).await;
        assert_eq!(answer.status, 200, "{}", body_of(&answer));
    }
    let audit = logs::lines().into_iter().filter(|l| l.starts_with("INFO audit ") && l.contains(oid)).count();
    assert!(audit <= 1_000, "{audit} audit lines for 1,000 batches");
    assert_eq!(audit, 1_000, "one summary line per batch");
}

#[actix_web::test]
async fn exposure_policy_and_per_secret_roles_apply_per_name() {
    let app = spawn(&[("EXPOSED_SECRETS", "demo,db-*"), ("SECRET_ROLES", "db-*=DbReader")]).await;
    std::fs::write(app.secrets_dir.join("hidden"), "not exposed").unwrap();
    let names = ["demo", "db-password", "hidden"];

    let plain = batch(&app, &reader("batch-policy-plain"), &names).await.json();
    assert_eq!(plain["secrets"].as_object().unwrap().keys().collect::<Vec<_>>(), ["demo"]);
    assert_eq!(plain["errors"], json!({"db-password": missing_role(), "hidden": not_found()}));

    let db_reader = caller("batch-policy-db", &["GetSecret", "DbReader"]);
    let full = batch(&app, &db_reader, &names).await.json();
    assert_eq!(full["secrets"].as_object().unwrap().keys().collect::<Vec<_>>(), ["db-password", "demo"]);
    assert_eq!(full["secrets"]["db-password"]["value"], "s3cr3t-value");
    assert_eq!(full["errors"], json!({"hidden": not_found()}), "exposure is not a role: still hidden");
}

#[actix_web::test]
async fn the_caller_must_hold_get_secret_before_the_body_counts() {
    let app = spawn(&[]).await;
    let names = json!({"names": ["demo"]}).to_string();
    let anonymous = post(&app, None, Some("application/json"), names.clone()).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.json(),
        error("AuthorizationHeaderMissing", "Authorization header is missing from the request")
    );
    // Authentication comes first, whatever the body: no 413 or 415 for an anonymous caller.
    let huge = post(&app, None, Some("text/plain"), vec![b'x'; 64 * 1024]).await;
    assert_eq!(huge.status, 401, "{}", body_of(&huge));
    let without_role = post(&app, Some(&caller("batch-no-role", &["Other"])), Some("application/json"), names).await;
    assert_eq!(without_role.status, 403);
    assert_eq!(
        without_role.json(),
        error_with_debug(
            "MissingRequiredRole",
            "Access token missing required roles.",
            "Missing required role for accessing path /vault"
        )
    );
}

#[actix_web::test]
async fn bad_bodies_are_answered_from_the_catalog() {
    let app = spawn(&[]).await;
    let token = reader("batch-bad-bodies");
    let invalid = |debug: &str| error_with_debug("InvalidRequest", "The request could not be parsed.", debug);
    let shape = "The body must be JSON of the form {\"names\": [\"name\", ...]}";
    let too_many: Vec<String> = (0..101).map(|i| format!("name-{i}")).collect();
    let hundred: Vec<String> = (0..100).map(|i| format!("name-{i}")).collect();
    for (case, body, expected) in [
        ("not JSON", "names: demo".to_owned(), invalid(shape)),
        ("truncated JSON", "{\"names\": [\"demo\"".to_owned(), invalid(shape)),
        ("an empty body", String::new(), invalid(shape)),
        ("no names field", "{}".to_owned(), invalid(shape)),
        ("names not a list", "{\"names\": \"demo\"}".to_owned(), invalid(shape)),
        ("a name not a string", "{\"names\": [\"demo\", 7]}".to_owned(), invalid(shape)),
        ("an unknown field", "{\"names\": [\"demo\"], \"version\": \"x\"}".to_owned(), invalid(shape)),
        ("a list, not an object", "[\"demo\"]".to_owned(), invalid(shape)),
        ("an empty list", "{\"names\": []}".to_owned(), invalid("names must hold 1 to 100 secret names, got 0")),
        (
            "101 names",
            json!({ "names": too_many }).to_string(),
            invalid("names must hold 1 to 100 secret names, got 101"),
        ),
    ] {
        let answer = post(&app, Some(&token), Some("application/json"), body).await;
        assert_eq!(answer.status, 400, "{case}: {}", body_of(&answer));
        assert_eq!(answer.json(), expected, "{case}");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{case}");
    }
    // 100 names is the limit, not past it.
    let answer = post(&app, Some(&token), Some("application/json"), json!({ "names": hundred }).to_string()).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    assert_eq!(answer.json()["errors"].as_object().unwrap().len(), 100);
}

#[actix_web::test]
async fn only_json_is_accepted() {
    let app = spawn(&[]).await;
    let token = reader("batch-content-type");
    let body = json!({"names": ["demo"]}).to_string();
    let unsupported = error("InvalidContentType", "Content-Type is not supported");
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/jsonx")]
    {
        let answer = post(&app, Some(&token), content_type, body.clone()).await;
        assert_eq!(answer.status, 415, "{content_type:?}: {}", body_of(&answer));
        assert_eq!(answer.json(), unsupported, "{content_type:?}");
    }
    let with_charset = post(&app, Some(&token), Some("application/json; charset=utf-8"), body).await;
    assert_eq!(with_charset.status, 200, "{}", body_of(&with_charset));
}

#[actix_web::test]
async fn a_body_over_16_kib_is_413_whether_declared_or_streamed() {
    let app = spawn(&[]).await;
    let token = reader("batch-too-large");
    let too_large =
        error_with_debug("RequestBodyTooLarge", "Request body is too large.", "The body may hold at most 16384 bytes");
    // Valid JSON padded with spaces, so only the size is wrong.
    let padded = |size: usize| {
        let body = json!({"names": ["demo"]}).to_string();
        format!("{body}{}", " ".repeat(size - body.len()))
    };
    let declared = post(&app, Some(&token), Some("application/json"), padded(16 * 1024 + 1)).await;
    assert_eq!(declared.status, 413, "{}", body_of(&declared));
    assert_eq!(declared.json(), too_large);

    // Chunked, without a Content-Length: refused once the limit is passed.
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        padded(40 * 1024).into_bytes().chunks(4096).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let request = client()
        .post(app.url("/vault"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"));
    let streamed = read(request.send_stream(futures_util::stream::iter(chunks))).await;
    assert_eq!(streamed.status, 413, "{}", body_of(&streamed));
    assert_eq!(streamed.json(), too_large);

    let at_the_limit = post(&app, Some(&token), Some("application/json"), padded(16 * 1024)).await;
    assert_eq!(at_the_limit.status, 200, "{}", body_of(&at_the_limit));
}

#[actix_web::test]
async fn batch_sizes_are_counted() {
    let app = spawn(&[]).await;
    let token = reader("batch-metrics");
    batch(&app, &token, &["demo"]).await;
    batch(&app, &token, &["demo", "db-password", "x", "y", "z"]).await;
    post(&app, Some(&token), Some("application/json"), "{\"names\": []}").await;
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_batch_read_names_count"), 2.0, "refused bodies are not batches");
    assert_eq!(metric(&metrics, "vaultgate_batch_read_names_sum"), 6.0);
    assert_eq!(metric(&metrics, "vaultgate_http_requests_total{route=\"/vault\",status=\"200\"}"), 2.0);
}

#[actix_web::test]
async fn a_spent_miss_budget_refuses_the_batchs_uncached_names() {
    let app = spawn(&[("SECRET_MISS_BUDGET", "1")]).await;
    let token = reader("batch-budget");
    assert_eq!(app.get_as("/vault/first-miss", &token).await.status, 404);
    assert_eq!(app.get_as("/vault/demo", &reader("batch-budget-warmer")).await.status, 200);
    let answer = batch(&app, &token, &["demo", "first-miss", "second-miss"]).await.json();
    assert_eq!(answer["secrets"]["demo"]["value"], "hello from vaultgate", "a cache hit is served");
    let spent =
        error("SecretMissBudgetExceeded", "Too many reads of secrets that could not be found; try again later.");
    assert_eq!(answer["errors"], json!({"first-miss": not_found(), "second-miss": spent}));
}

#[actix_web::test]
async fn key_vault_reads_are_bounded_and_each_name_is_fetched_once() {
    let azure = Azure::start();
    for i in 0..20 {
        azure.vault.put(&format!("app-setting-{i}"), FakeSecret::new(V1, &format!("value-{i}")));
    }
    let app = azure.app(&[]).await;
    let token = reader("batch-key-vault");
    // The first read meets the challenge; afterwards every read carries a token.
    assert_eq!(app.get_as("/vault/app-setting-0", &token).await.status, 200);
    let warm = azure.vault.gets_of("app-setting-0");

    azure.vault.hold();
    let before = azure.vault.gets();
    let mut names: Vec<String> = (1..20).map(|i| format!("app-setting-{i}")).collect();
    names.push("APP-SETTING-1".to_owned());
    names.push("app-setting-0".to_owned());
    let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
    let sent = batch(&app, &token, &names_ref);
    let watcher = async {
        azure.vault.holding(8).await;
        let in_flight = azure.vault.gets() - before;
        azure.vault.release();
        in_flight
    };
    let (answer, in_flight) = futures_util::future::join(sent, watcher).await;
    assert_eq!(in_flight, 8, "at most 8 reads of one batch at once");
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    let answer = answer.json();
    assert_eq!(answer["errors"], json!({}));
    assert_eq!(answer["secrets"].as_object().unwrap().len(), 21);
    assert_eq!(answer["secrets"]["APP-SETTING-1"]["value"], "value-1");
    assert_eq!(answer["secrets"]["app-setting-1"], answer["secrets"]["APP-SETTING-1"]);
    assert_eq!(answer["secrets"]["app-setting-7"]["contentType"], "text/plain");
    assert_eq!(azure.vault.gets_of("app-setting-1"), 1, "one read for both casings");
    assert_eq!(azure.vault.gets_of("app-setting-0"), warm, "a cached name is not fetched again");
    assert_eq!(azure.vault.gets() - before, 19);
}

#[actix_web::test]
async fn a_vault_failure_or_an_expired_secret_is_one_names_answer_not_the_batchs() {
    let azure = Azure::start();
    azure.vault.put("fine", FakeSecret::new(V1, "fine-value"));
    azure.vault.put("refused", FakeSecret::new(V1, "refused-value"));
    azure.vault.put("expired", FakeSecret { exp: Some(now() - 60), ..FakeSecret::new(V1, "expired-value") });
    let app = azure.app(&[]).await;
    let token = reader("batch-vault-failure");
    assert_eq!(app.get_as("/vault/fine", &token).await.status, 200);

    azure.vault.fail_next([Fault::ForbiddenByRbac]);
    let answer = batch(&app, &token, &["fine", "refused"]).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    assert_eq!(
        answer.json(),
        json!({
            "secrets": {"fine": {"value": "fine-value", "version": V1, "contentType": "text/plain"}},
            "errors": {"refused": error("AzureKeyVaultFatalError", "Error getting response from Azure Key Vault.")},
        })
    );

    // Served as a single read serves it (SECRET_EXPIRY=serve), flagged as its header would say.
    let answer = batch(&app, &token, &["expired"]).await.json();
    assert_eq!(
        answer["secrets"]["expired"],
        json!({"value": "expired-value", "version": V1, "contentType": "text/plain", "validity": "expired"})
    );
}
