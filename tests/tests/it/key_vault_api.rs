//! Key Vault's secrets API for reads, as the official clients call it: Get Secret (latest,
//! with the Python client's trailing slash, or a version) and Get Secret Versions in Key
//! Vault's shapes with ids on vaultgate, through the same checks as `/vault/{name}`; errors in
//! Key Vault's body with its codes, a 401 carrying Key Vault's challenge; writes refused 405.

use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::fake_keyvault::{FakeSecret, Paging};
use vaultgate_tests::http::{client, send};
use vaultgate_tests::{Reply, TestApp, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5";
const LOCAL_CHALLENGE: &str =
    r#"Bearer authorization="https://vaultgate.localhost/dev", resource="api://vaultgate-local""#;

fn reader(oid: &str, roles: &[&str]) -> String {
    tokens::valid_for(shared_key(), roles, Some(oid), Some("kv-client"))
}

fn body_of(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// A fake vault holding `Db-Password` in two versions (the second current) and `api-key`.
async fn vault_app(extra: &[(&str, &str)]) -> (Azure, TestApp) {
    let azure = Azure::start();
    azure.vault.put(
        "Db-Password",
        FakeSecret { tags: Some(json!({"owner": "payments"})), ..FakeSecret::new(V1, "old-value") },
    );
    azure.vault.put("Db-Password", FakeSecret::new(V2, "new-value"));
    azure.vault.put("api-key", FakeSecret::new(V1, "api-key-value"));
    let app = azure.app(extra).await;
    (azure, app)
}

#[actix_web::test]
async fn get_secret_answers_key_vaults_bundle_with_its_id_on_vaultgate() {
    let (_azure, app) = vault_app(&[]).await;
    let token = reader("kv-bundle", &["GetSecret"]);
    for path in
        ["/secrets/db-password?api-version=7.6", "/secrets/DB-PASSWORD/?api-version=2025-07-01", "/secrets/db-password"]
    {
        let answer = app.get_as(path, &token).await;
        assert_eq!(answer.status, 200, "{path}: {}", body_of(&answer));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        let bundle = answer.json();
        assert_eq!(bundle["value"], "new-value", "{path}");
        assert_eq!(bundle["id"], format!("http://127.0.0.1:{}/secrets/Db-Password/{V2}", app.port), "{path}");
        assert_eq!(bundle["contentType"], "text/plain");
        let attributes = &bundle["attributes"];
        assert_eq!(attributes["enabled"], true);
        assert_eq!(attributes["recoveryLevel"], "CustomizedRecoverable+Purgeable");
        assert!(attributes["created"].is_i64() && attributes["updated"].is_i64() && attributes["exp"].is_i64());
    }
    let old = app.get_as(&format!("/secrets/db-password/{V1}?api-version=7.6"), &token).await;
    assert_eq!(old.status, 200, "{}", body_of(&old));
    assert_eq!(old.json()["value"], "old-value");
    assert_eq!(old.json()["id"], format!("http://127.0.0.1:{}/secrets/Db-Password/{V1}", app.port));
    assert_eq!(old.json()["tags"], json!({"owner": "payments"}));
}

#[actix_web::test]
async fn ids_use_public_url_when_set() {
    let (_azure, app) = vault_app(&[("PUBLIC_URL", "https://vaultgate.contoso.com")]).await;
    let answer = app.get_as("/secrets/api-key", &reader("kv-public", &["GetSecret"])).await;
    assert_eq!(answer.json()["id"], format!("https://vaultgate.contoso.com/secrets/api-key/{V1}"));
}

#[actix_web::test]
async fn the_folder_store_answers_one_version_with_file_attributes() {
    let app = TestApp::spawn().await;
    let token = reader("kv-folder", &["GetSecret"]);
    let answer = app.get_as("/secrets/demo/", &token).await;
    assert_eq!(answer.status, 200, "{}", body_of(&answer));
    let bundle = answer.json();
    assert_eq!(bundle["value"], "hello from vaultgate");
    let version = bundle["id"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    assert_eq!(bundle["attributes"]["recoveryLevel"], "Purgeable");
    let versions = app.get_as("/secrets/demo/versions", &token).await;
    assert_eq!(versions.status, 200, "{}", body_of(&versions));
    let page = versions.json();
    assert_eq!(page["nextLink"], Value::Null);
    let ids: Vec<&str> = page["value"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [format!("http://127.0.0.1:{}/secrets/demo/{version}", app.port)]);
    assert!(!body_of(&versions).contains("hello from vaultgate"), "never a value in a list");
}

#[actix_web::test]
async fn versions_are_listed_paged_on_vaultgate_following_every_vault_page() {
    let (azure, app) = vault_app(&[]).await;
    azure.vault.page_list(Paging { page_size: 1, ..Paging::default() });
    let token = reader("kv-versions", &["GetSecret"]);
    let first = app.get_as("/secrets/db-password/versions?api-version=7.6&maxresults=1", &token).await;
    assert_eq!(first.status, 200, "{}", body_of(&first));
    let first = first.json();
    assert_eq!(azure.vault.list_pages(), 2, "both of the vault's pages were read");
    let base = format!("http://127.0.0.1:{}", app.port);
    let ids = |page: &Value| -> Vec<String> {
        page["value"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
    };
    // In version order: V1 ("41cc...") before V2 ("a0b1...").
    assert_eq!(ids(&first), [format!("{base}/secrets/Db-Password/{V1}")]);
    let next = first["nextLink"].as_str().expect("a second page").to_owned();
    assert!(next.starts_with(&format!("{base}/secrets/Db-Password/versions?")), "{next}");
    let second = app.get_as(next.strip_prefix(&base).unwrap(), &token).await.json();
    assert_eq!(ids(&second), [format!("{base}/secrets/Db-Password/{V2}")]);
    assert_eq!(second["nextLink"], Value::Null);

    let unknown = app.get_as("/secrets/no-such-secret/versions", &token).await;
    assert_eq!(unknown.status, 404, "{}", body_of(&unknown));
    assert_eq!(unknown.json()["error"]["code"], "SecretNotFound");
}

#[actix_web::test]
async fn errors_take_key_vaults_shape_and_a_401_its_challenge() {
    let app = TestApp::spawn_with(&[("EXPOSED_SECRETS", "demo,db-*"), ("SECRET_ROLES", "db-*=DbReader")]).await;
    let without = app.get("/secrets/demo/?api-version=7.6").await;
    assert_eq!(without.status, 401);
    assert_eq!(without.header("www-authenticate"), Some(LOCAL_CHALLENGE));
    assert_eq!(
        without.json(),
        json!({"error": {"code": "Unauthorized", "message": "Authorization header is missing from the request"}})
    );
    let expired = app.get_as("/secrets/demo", "not.a.token").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.header("www-authenticate"), Some(LOCAL_CHALLENGE));

    let token = reader("kv-errors", &["GetSecret"]);
    let hidden = app.get_as("/secrets/hidden-one", &token).await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        hidden.json(),
        json!({"error": {"code": "SecretNotFound", "message": "Requested secret not found in Key Vault."}})
    );
    let missing = app.get_as("/secrets/demo-but-not-there", &token).await;
    assert_eq!(missing.status, 404, "exposed by no pattern: hidden as not found");

    let by_role = app.get_as("/secrets/db-password", &token).await;
    assert_eq!(by_role.status, 403, "{}", body_of(&by_role));
    assert_eq!(by_role.json()["error"]["code"], "Forbidden");
    assert_eq!(by_role.json()["error"]["innererror"], json!({"code": "ForbiddenByPolicy"}));
    assert_eq!(by_role.header("www-authenticate"), None, "Key Vault sends no challenge with a 403");
    let no_role = app.get_as("/secrets/demo", &reader("kv-no-role", &["Reader"])).await;
    assert_eq!(no_role.status, 403);
    assert_eq!(no_role.json()["error"]["innererror"]["code"], "ForbiddenByPolicy");

    for bad in ["/secrets/bad.name", "/secrets/demo/not-a-version", "/secrets/demo/versions?maxresults=99"] {
        let answer = app.get_as(bad, &token).await;
        assert_eq!(answer.status, 400, "{bad}: {}", body_of(&answer));
        assert_eq!(answer.json()["error"]["code"], "BadParameter", "{bad}");
    }

    // vaultgate's own routes keep the catalog's shape.
    let own = app.get("/vault/demo").await;
    assert_eq!(own.json()["code"], "AuthorizationHeaderMissing");
    assert_eq!(own.header("www-authenticate"), Some("Bearer"));
}

#[actix_web::test]
async fn a_spent_miss_budget_is_key_vaults_throttled() {
    let app = TestApp::spawn_with(&[("SECRET_MISS_BUDGET", "1")]).await;
    let token = reader("kv-budget", &["GetSecret"]);
    assert_eq!(app.get_as("/secrets/nothing-1", &token).await.status, 404);
    let spent = app.get_as("/secrets/nothing-2", &token).await;
    assert_eq!(spent.status, 429, "{}", body_of(&spent));
    assert_eq!(spent.json()["error"]["code"], "Throttled");
    assert!(spent.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok()));
}

#[actix_web::test]
async fn writes_and_deleted_secrets_are_refused_405_in_key_vaults_shape() {
    let (azure, app) = vault_app(&[]).await;
    let token = reader("kv-writes", &["GetSecret"]);
    let gets_before = azure.vault.gets();
    let cases = [
        (actix_web::http::Method::PUT, "/secrets/api-key?api-version=7.6", "GET, HEAD"),
        (actix_web::http::Method::PATCH, &*format!("/secrets/api-key/{V1}?api-version=7.6"), "GET, HEAD"),
        (actix_web::http::Method::DELETE, "/secrets/api-key?api-version=7.6", "GET, HEAD"),
        (actix_web::http::Method::POST, "/secrets/api-key/backup?api-version=7.6", "GET, HEAD"),
        (actix_web::http::Method::POST, "/secrets/restore?api-version=7.6", "GET, HEAD"),
        (actix_web::http::Method::GET, "/deletedsecrets?api-version=7.6", ""),
        (actix_web::http::Method::DELETE, "/deletedsecrets/api-key?api-version=7.6", ""),
        (actix_web::http::Method::POST, "/deletedsecrets/api-key/recover?api-version=7.6", ""),
    ];
    for (method, path, allow) in cases {
        let request =
            client().request(method.clone(), app.url(path)).insert_header(("Authorization", format!("Bearer {token}")));
        let answer = send(request).await;
        assert_eq!(answer.status, 405, "{method} {path}: {}", body_of(&answer));
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(answer.json()["error"]["code"], "MethodNotAllowed", "{method} {path}");
    }
    assert_eq!(azure.vault.gets(), gets_before, "nothing was forwarded");
}
