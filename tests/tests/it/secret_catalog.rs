//! `GET /secrets`: the names this caller may read (exposure policy and per-secret roles
//! applied with its roles), never a value, in Key Vault's list shape with ids on vaultgate,
//! paged by `maxresults` and `nextLink`; upstream, every page of Key Vault's list is followed
//! (empty pages included, links checked to stay on the vault), cached for the TTL; a list
//! refused to vaultgate's identity is a 502 that says which permission to grant.

use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{key_vault_error, key_vault_error_within};
use vaultgate_tests::fake_keyvault::{FakeSecret, Fault, Paging};
use vaultgate_tests::http::metric;
use vaultgate_tests::tokens::now;
use vaultgate_tests::{Reply, TestApp, logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

/// vaultgate in local mode; logs are captured (before anything logs) for the audit checks.
async fn spawn(vars: &[(&str, &str)]) -> TestApp {
    logs::start_capture();
    TestApp::spawn_with(vars).await
}

fn caller(oid: &str, roles: &[&str]) -> String {
    tokens::valid_for(shared_key(), roles, Some(oid), Some("catalog-client"))
}

fn reader(oid: &str) -> String {
    caller(oid, &["GetSecret"])
}

fn names(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect()
}

fn body_of(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// Follows `nextLink`s from `path` (each on this app, whatever base the links carry).
async fn all_pages(app: &TestApp, token: &str, path: &str, base: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let answer = app.get_as(&path, token).await;
        assert_eq!(answer.status, 200, "{path}: {}", body_of(&answer));
        let page = answer.json();
        next = page["nextLink"].as_str().map(|link| {
            assert!(link.starts_with(&format!("{base}/secrets?")), "{link}");
            link.strip_prefix(base).unwrap().to_owned()
        });
        pages.push(page);
        assert!(pages.len() <= 50, "the pages never end");
    }
    pages
}

/// `created` and `updated` as the folder store derives them from a file.
fn file_times(path: &std::path::Path) -> (i64, i64) {
    let metadata = std::fs::metadata(path).unwrap();
    let seconds = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let updated = seconds(metadata.modified().unwrap());
    (metadata.created().map(seconds).unwrap_or(updated), updated)
}

#[actix_web::test]
async fn the_folder_store_lists_in_key_vaults_shape_with_ids_on_vaultgate() {
    let app = spawn(&[]).await;
    let answer = app.get_as("/secrets", &reader("catalog-folder")).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let item = |name: &str| {
        let (created, updated) = file_times(&app.secrets_dir.join(name));
        json!({
            "id": format!("http://127.0.0.1:{}/secrets/{name}", app.port),
            "attributes": {"enabled": true, "created": created, "updated": updated},
        })
    };
    assert_eq!(answer.json(), json!({"value": [item("db-password"), item("demo")], "nextLink": null}));
    assert!(!body_of(&answer).contains("s3cr3t-value") && !body_of(&answer).contains("hello from vaultgate"));
}

#[actix_web::test]
async fn only_names_the_caller_may_read_are_listed() {
    let app = spawn(&[("EXPOSED_SECRETS", "demo,db-*,api-*"), ("SECRET_ROLES", "db-*=DbReader")]).await;
    for name in ["hidden", "api-key", "db-admin"] {
        std::fs::write(app.secrets_dir.join(name), "x").unwrap();
    }
    let plain = app.get_as("/secrets", &reader("catalog-plain")).await.json();
    assert_eq!(names(&plain), ["api-key", "demo"], "no db-* without DbReader, never the unexposed");
    let db_reader = caller("catalog-db-reader", &["GetSecret", "DbReader"]);
    let full = app.get_as("/secrets", &db_reader).await.json();
    assert_eq!(names(&full), ["api-key", "db-admin", "db-password", "demo"]);
}

#[actix_web::test]
async fn the_caller_must_hold_get_secret() {
    let app = spawn(&[]).await;
    let anonymous = app.get("/secrets").await;
    assert_eq!(anonymous.status, 401);
    // Key Vault's shape and challenge, so that an official client's first call can be a list.
    assert_eq!(anonymous.json(), key_vault_error("Unauthorized", "Authorization header is missing from the request"));
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(r#"Bearer authorization="https://vaultgate.localhost/dev", resource="api://vaultgate-local""#)
    );
    let other = app.get_as("/secrets", &caller("catalog-other", &["Other"])).await;
    assert_eq!(other.status, 403);
    assert_eq!(
        other.json(),
        key_vault_error_within(
            "Forbidden",
            "Access token missing required roles. Missing required role for accessing path /secrets",
            "ForbiddenByPolicy"
        )
    );
}

#[actix_web::test]
async fn our_answer_pages_by_maxresults_and_next_link() {
    // No list cache, so a file added between pages is seen at once.
    let app = spawn(&[("SECRET_CACHE_TTL", "0")]).await;
    for i in 0..7 {
        std::fs::write(app.secrets_dir.join(format!("Setting-{i}")), "x").unwrap();
    }
    let token = reader("catalog-paging");
    let pages = all_pages(&app, &token, "/secrets?maxresults=3", &app.base_url).await;
    let sizes: Vec<usize> = pages.iter().map(|page| page["value"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [3, 3, 3]);
    let listed: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(
        listed,
        [
            "db-password",
            "demo",
            "Setting-0",
            "Setting-1",
            "Setting-2",
            "Setting-3",
            "Setting-4",
            "Setting-5",
            "Setting-6"
        ],
        "case-insensitive order, each once"
    );
    assert_eq!(
        pages[0]["nextLink"],
        format!("{}/secrets?api-version=2025-07-01&maxresults=3&$skiptoken=setting-0", app.base_url)
    );
    assert_eq!(pages[2]["nextLink"], Value::Null);
    // Pages go by name, not position: a name added before the marker shifts nothing, so no
    // name repeats or goes missing.
    let first = app.get_as("/secrets?maxresults=4", &token).await.json();
    std::fs::write(app.secrets_dir.join("aaa-new"), "x").unwrap();
    let rest = all_pages(
        &app,
        &token,
        first["nextLink"].as_str().unwrap().strip_prefix(&app.base_url).unwrap(),
        &app.base_url,
    )
    .await;
    let mut seen = names(&first);
    seen.extend(rest.iter().flat_map(names));
    assert_eq!(seen.len(), 9, "{seen:?}");
}

#[actix_web::test]
async fn public_url_sets_ids_and_links_whatever_the_host_header() {
    let public = "https://vaultgate.example.com/gateway";
    let app = spawn(&[("PUBLIC_URL", "https://vaultgate.example.com/gateway/")]).await;
    let token = reader("catalog-public-url");
    let request = vaultgate_tests::http::client()
        .get(app.url("/secrets?maxresults=1"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Host", "attacker.example"));
    let page = vaultgate_tests::send(request).await.json();
    assert_eq!(page["value"][0]["id"], format!("{public}/secrets/db-password"));
    assert_eq!(
        page["nextLink"],
        format!("{public}/secrets?api-version=2025-07-01&maxresults=1&$skiptoken=db-password")
    );
}

#[actix_web::test]
async fn without_public_url_ids_follow_the_host_header_never_forwarded_headers() {
    let app = spawn(&[]).await;
    let token = reader("catalog-host");
    let request = vaultgate_tests::http::client()
        .get(app.url("/secrets?maxresults=1"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Host", "vaultgate.internal:8080"))
        .insert_header(("X-Forwarded-Host", "attacker.example"))
        .insert_header(("X-Forwarded-Proto", "https"))
        .insert_header(("Forwarded", "host=attacker.example;proto=https"));
    let page = vaultgate_tests::send(request).await.json();
    assert_eq!(page["value"][0]["id"], "http://vaultgate.internal:8080/secrets/db-password");
}

#[actix_web::test]
async fn bad_paging_parameters_are_400_from_the_catalog() {
    let app = spawn(&[]).await;
    let token = reader("catalog-bad-query");
    let invalid = |debug: &str| key_vault_error("BadParameter", &format!("The request could not be parsed. {debug}"));
    for (query, debug) in [
        ("maxresults=0", "maxresults must be a whole number from 1 to 25"),
        ("maxresults=26", "maxresults must be a whole number from 1 to 25"),
        ("maxresults=ten", "maxresults must be a whole number from 1 to 25"),
        ("maxresults=-1", "maxresults must be a whole number from 1 to 25"),
        ("$skiptoken=not.a.name", "$skiptoken must come from a nextLink of this list"),
        ("$skiptoken=", "$skiptoken must come from a nextLink of this list"),
    ] {
        let answer = app.get_as(&format!("/secrets?{query}"), &token).await;
        assert_eq!(answer.status, 400, "{query}: {}", body_of(&answer));
        assert_eq!(answer.json(), invalid(debug), "{query}");
    }
    assert_eq!(app.get_as("/secrets?maxresults=25&api-version=7.4", &token).await.status, 200);
}

#[actix_web::test]
async fn each_catalog_call_has_an_audit_line() {
    logs::start_capture();
    let app = spawn(&[("SECRET_ROLES", "db-*=DbReader")]).await;
    let oid = "catalog-audit-0003";
    assert_eq!(app.get_as("/secrets", &reader(oid)).await.status, 200);
    assert_eq!(app.get_as("/secrets?maxresults=99", &reader(oid)).await.status, 400);
    let audit: Vec<String> =
        logs::lines().into_iter().filter(|l| l.starts_with("INFO audit secret catalog") && l.contains(oid)).collect();
    assert_eq!(audit.len(), 2, "{audit:#?}");
    assert!(
        audit[0].starts_with(&format!("INFO audit secret catalog shown=1 outcome=ok oid={oid} appid=")),
        "{audit:#?}"
    );
    assert!(audit[1].contains(" shown=0 outcome=InvalidRequest "), "{audit:#?}");
}

/// A vault of seven secrets, paged three at a time after two empty pages.
fn paged_vault() -> Azure {
    let azure = Azure::start();
    for i in 0..7 {
        azure.vault.put(&format!("Key-{i}"), FakeSecret::new(V1, &format!("value-{i}")));
    }
    azure.vault.put(
        "tagged",
        FakeSecret {
            content_type: Some("application/json".into()),
            tags: Some(json!({"owner": "payments"})),
            exp: Some(now() + 3600),
            ..FakeSecret::new(V1, "tagged-value")
        },
    );
    azure.vault.page_list(Paging { page_size: 3, empty_pages_first: 2, link_origin: None });
    azure
}

#[actix_web::test]
async fn every_key_vault_page_is_followed_and_the_list_is_cached() {
    let azure = paged_vault();
    let app = azure.app(&[]).await;
    let token = reader("catalog-key-vault");
    let answer = app.get_as("/secrets", &token).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    let page = answer.json();
    let expected: Vec<String> = (0..7).map(|i| format!("Key-{i}")).chain(["tagged".to_owned()]).collect();
    assert_eq!(names(&page), expected, "empty pages with a nextLink did not stop the pager");
    assert_eq!(azure.vault.list_pages(), 2 + 3, "two empty pages, then three of at most three items");
    let tagged = &page["value"][7];
    assert_eq!(tagged["id"], format!("http://127.0.0.1:{}/secrets/tagged", app.port));
    assert_eq!(tagged["contentType"], "application/json");
    assert_eq!(tagged["tags"], json!({"owner": "payments"}));
    let attributes = tagged["attributes"].as_object().unwrap();
    let keys: Vec<&String> = attributes.keys().collect();
    assert_eq!(keys, ["enabled", "created", "updated", "exp", "nbf"], "no recoveryLevel: not ours to show");
    assert!(page["value"][0].get("value").is_none() && !body_of(&answer).contains("value-0"), "never a value");

    // Within the TTL the list is not asked again, whoever asks.
    assert_eq!(app.get_as("/secrets?maxresults=2", &reader("catalog-key-vault-2")).await.status, 200);
    assert_eq!(azure.vault.list_pages(), 5);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_list_loads_total{outcome=\"ok\"}"), 1.0);
}

#[actix_web::test]
async fn a_zero_ttl_lists_the_vault_on_every_call() {
    let azure = paged_vault();
    let app = azure.app(&[("SECRET_CACHE_TTL", "0")]).await;
    let token = reader("catalog-no-ttl");
    assert_eq!(app.get_as("/secrets", &token).await.status, 200);
    assert_eq!(app.get_as("/secrets", &token).await.status, 200);
    assert_eq!(azure.vault.list_pages(), 10);
}

#[actix_web::test]
async fn a_forbidden_list_is_a_502_naming_the_permission_to_grant_remembered_for_the_negative_ttl() {
    let azure = paged_vault();
    let app = azure.app(&[]).await;
    azure.vault.fail_next([Fault::ForbiddenByRbac]);
    let refused = key_vault_error(
        "AzureKeyVaultFatalError",
        "Error getting response from Azure Key Vault. vaultgate's identity may not list the vault's secrets: \
         grant it the role Key Vault Secrets User (or the list permission in the vault's access policy)",
    );
    // Within SECRET_NEGATIVE_TTL (30 s) the refusal is answered again without asking the vault,
    // to every caller, and warned about once.
    for i in 0..20 {
        let answer = app.get_as("/secrets", &reader(&format!("catalog-forbidden-{}", i % 2))).await;
        assert_eq!(answer.status, 502, "{}", body_of(&answer));
        assert_eq!(answer.json(), refused);
    }
    assert_eq!(azure.vault.list_pages(), 1, "one list call for twenty refusals");
    let warnings: Vec<String> =
        logs::lines().into_iter().filter(|l| l.starts_with("WARN ") && l.contains("refused to list secrets")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("Key Vault refused to list secrets (403 Forbidden/ForbiddenByRbac)")
            && warnings[0].contains("Key Vault Secrets User"),
        "the log names the role to grant: {warnings:#?}"
    );
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_list_loads_total{outcome=\"forbidden\"}"), 1.0);
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_charged_total"), 1.0, "only the call that listed");
}

#[actix_web::test]
async fn a_listing_that_goes_to_the_store_costs_the_caller_one_unit_of_its_miss_budget() {
    // No list cache: every listing goes to the store.
    let app = spawn(&[("SECRET_CACHE_TTL", "0"), ("SECRET_MISS_BUDGET", "2")]).await;
    let token = reader("catalog-budget");
    assert_eq!(app.get_as("/secrets", &token).await.status, 200);
    assert_eq!(app.get_as("/secrets", &token).await.status, 200);
    let spent = app.get_as("/secrets", &token).await;
    assert_eq!(spent.status, 429, "{}", body_of(&spent));
    assert_eq!(
        spent.json(),
        key_vault_error("Throttled", "Too many reads of secrets that could not be found; try again later.")
    );
    assert!(spent.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=10).contains(&s))));
    // The same budget as reads: this caller's cache misses wait too; other callers do not.
    assert_eq!(app.get_as("/vault/never-there", &token).await.status, 429);
    assert_eq!(app.get_as("/secrets", &reader("catalog-budget-other")).await.status, 200);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_charged_total"), 3.0);
}

#[actix_web::test]
async fn a_cached_listing_costs_nothing() {
    let app = spawn(&[("SECRET_MISS_BUDGET", "1")]).await;
    let token = reader("catalog-budget-cached");
    // The first listing goes to the store (one unit, the whole budget); the next are cached.
    for _ in 0..3 {
        assert_eq!(app.get_as("/secrets", &token).await.status, 200);
    }
    assert_eq!(app.get_as("/vault/never-there", &token).await.status, 429, "the listing spent the budget");
}

#[actix_web::test]
async fn a_next_link_off_the_vault_is_never_followed() {
    let azure = paged_vault();
    // Loopback, another port: were it followed, the token would leave for another server.
    azure.vault.page_list(Paging {
        page_size: 3,
        empty_pages_first: 0,
        link_origin: Some("http://127.0.0.1:9".into()),
    });
    let app = azure.app(&[]).await;
    let answer = app.get_as("/secrets", &reader("catalog-foreign-link")).await;
    assert_eq!(answer.status, 502, "{}", body_of(&answer));
    assert_eq!(
        answer.json(),
        key_vault_error("AzureKeyVaultFatalError", "Error getting response from Azure Key Vault.")
    );
    assert_eq!(azure.vault.list_pages(), 1, "the first page only");
    assert!(logs::lines().iter().any(|l| l.contains("nextLink outside the vault")));
}
