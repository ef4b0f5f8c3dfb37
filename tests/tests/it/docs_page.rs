//! `GET /docs`: Swagger UI served by vaultgate itself (every file it loads comes from
//! vaultgate), reading `../openapi.json`, with the Authorize dialog preset for Entra ID in
//! Azure mode; `DOCS=off` removes the page and the document. (`.ci/run` renders the page in
//! headless Chromium.)

use std::collections::HashMap;

use vaultgate::Settings;
use vaultgate_tests::app::extra_key;
use vaultgate_tests::expected;
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::http::client;
use vaultgate_tests::openapi::client_without_redirects;
use vaultgate_tests::{Reply, TestApp, send};

/// `GET path`, whatever the body's size (Swagger UI's bundle is above the kit's 1 MiB limit).
async fn get_large(app: &TestApp, path: &str) -> Reply {
    let mut response = client().get(app.url(path)).send().await.expect("the server answers");
    let body = response.body().limit(16 << 20).await.expect("a readable body");
    Reply { status: response.status(), headers: response.headers().clone(), body: body.to_vec() }
}

/// The values of `src="..."` and `href="..."` in an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            found.push(rest[..rest.find('"').expect("a closing quote")].to_owned());
        }
    }
    found
}

#[actix_web::test]
async fn docs_redirects_to_the_page_which_loads_only_vaultgates_own_files() {
    let app = TestApp::spawn().await;
    let redirect = send(client_without_redirects().get(app.url("/docs"))).await;
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location"), Some("docs/"), "relative, so a path prefix in front still works");

    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let csp = page.header("content-security-policy").expect("a content security policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let html = String::from_utf8(page.body).unwrap();
    assert_eq!(html, String::from_utf8(app.get("/docs/index.html").await.body).unwrap());

    let files = references(&html);
    assert!(files.iter().any(|f| f.ends_with("swagger-ui-bundle.js")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("swagger-initializer.js")), "{files:?}");
    for file in &files {
        assert!(!file.contains("//") && !file.starts_with('/'), "{file} is not one of the page's own files");
        let reply = get_large(&app, &format!("/docs/{}", file.trim_start_matches("./"))).await;
        assert_eq!(reply.status, 200, "/docs/{file}");
        assert!(!reply.body.is_empty(), "/docs/{file} is empty");
    }
    assert_eq!(get_large(&app, "/docs/oauth2-redirect.html").await.status, 200, "the OAuth2 redirect page");
}

#[actix_web::test]
async fn a_file_the_page_does_not_have_is_a_catalog_404() {
    let app = TestApp::spawn().await;
    for path in ["/docs/no-such-file.js", "/docs/../openapi.json", "/docs/a/b"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json(), expected::error("RouteNotFound", "The requested route does not exist."), "{path}");
    }
}

#[actix_web::test]
async fn local_mode_page_reads_the_document_and_sends_it_nowhere() {
    let app = TestApp::spawn().await;
    let initializer = String::from_utf8(app.get("/docs/swagger-initializer.js").await.body).unwrap();
    assert!(initializer.contains(r#""url": "../openapi.json""#), "{initializer}");
    // Without this, Swagger UI sends the document to validator.swagger.io.
    assert!(initializer.contains(r#""validatorUrl": "none""#), "{initializer}");
    assert!(!initializer.contains("initOAuth"), "local mode has no OAuth2 flow: {initializer}");
}

#[actix_web::test]
async fn azure_mode_page_presets_the_authorize_dialog_for_the_tenant_and_app() {
    let fake = FakeEntra::start(&[extra_key(0)]);
    let vars = [("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP_ID), ("AUTHORITY_HOST", fake.base_url.as_str())];
    let app = TestApp::spawn_with(&vars).await;
    let initializer = String::from_utf8(app.get("/docs/swagger-initializer.js").await.body).unwrap();
    let oauth = initializer.split("ui.initOAuth(").nth(1).expect("initOAuth is called");
    let oauth: serde_json::Value = serde_json::from_str(&oauth[..oauth.find(");").unwrap()]).unwrap();
    assert_eq!(oauth["clientId"], APP_ID);
    assert_eq!(oauth["usePkceWithAuthorizationCodeGrant"], true);
    assert_eq!(oauth["scopes"], serde_json::json!([format!("api://{APP_ID}/.default")]));
    assert!(oauth.get("clientSecret").is_none(), "a page holds no secret");
    // The authorization code is exchanged from the page, at the tenant's authority.
    let csp = app.get("/docs/").await.header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains(&format!("connect-src 'self' {}", fake.base_url)), "{csp}");
}

#[actix_web::test]
async fn docs_off_removes_the_page_and_the_document() {
    let app = TestApp::spawn_with(&[("DOCS", "off")]).await;
    for path in ["/openapi.json", "/docs", "/docs/", "/docs/index.html"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "{path} with DOCS=off");
        assert_eq!(reply.json(), expected::error("RouteNotFound", "The requested route does not exist."));
    }
    assert_eq!(app.get("/health").await.status, 200);
}

#[test]
fn docs_takes_on_or_off_only() {
    let settings = |value: &str| {
        let vars = HashMap::from([("DOCS".to_owned(), value.to_owned())]);
        Settings::from_lookup(|name| vars.get(name).cloned())
    };
    assert!(settings("on").unwrap().docs_enabled);
    assert!(!settings("OFF").unwrap().docs_enabled);
    let problems = settings("no").unwrap_err().lines();
    assert_eq!(problems, ["DOCS: must be on or off, got \"no\""]);
}
