//! `GET /openapi.json`: a valid OpenAPI 3.1 document (checked with openapi-spec-validator's
//! rules), derived from the route table: every served route and method and nothing else,
//! each protected operation's roles from its `#[protected]` attribute, every catalog error an
//! operation can answer, the security schemes of the mode; and the server's real answers
//! match what the document promises.

use std::collections::BTreeSet;

use actix_web::http::Method;
use openapi_spec_validator_rs::{Options, Outcome, SpecVersion};
use serde_json::{Value, json};
use vaultgate::ErrorCode;
use vaultgate::auth::ConfiguredRoles;
use vaultgate::openapi::document::openapi_path;
use vaultgate::routes::{Access, ErrorShape, ROUTES, Route};
use vaultgate_config::Challenge;
use vaultgate_config::defaults::DEFAULT_EVENT_GRID_ROLE;
use vaultgate_tests::app::{extra_key, shared_key};
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::openapi::{assert_documented, client_without_redirects, fetch, operation, operations};
use vaultgate_tests::{TestApp, send, tokens};

const VERSION: &str = "0123456789abcdef0123456789abcdef";

fn assert_valid(document: &Value, case: &str) {
    assert_eq!(document["openapi"], "3.1.0", "{case}");
    let options = Options { version: Some(SpecVersion::V3_1), ..Options::default() };
    match openapi_spec_validator_rs::validate(document, &options) {
        Outcome::Valid => {}
        Outcome::Invalid(errors) => {
            let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("{case}: the document is not valid OpenAPI 3.1:\n{}\n{document:#}", errors.join("\n"))
        }
        Outcome::Error(error) => panic!("{case}: the validator failed: {error}"),
    }
}

/// The `(path, method)` pairs the table serves with these switches, as the document names them.
fn table_operations(metrics: bool, docs: bool) -> Vec<(String, String)> {
    let switches = vaultgate::routes::Switches { metrics, docs };
    let mut expected: Vec<(String, String)> = vaultgate::routes::served(switches)
        .flat_map(|route| route.methods.iter().map(|m| (openapi_path(route.path), m.as_str().to_owned())))
        .collect();
    expected.sort();
    expected
}

async fn entra_app(fake: &FakeEntra, extra: &[(&str, &str)]) -> TestApp {
    let mut vars =
        vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP_ID), ("AUTHORITY_HOST", fake.base_url.as_str())];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

#[actix_web::test]
async fn the_document_is_valid_openapi_3_1_in_both_modes_and_with_switches_off() {
    let local = TestApp::spawn().await;
    assert_valid(&fetch(&local).await, "local mode");
    let without_metrics = TestApp::spawn_with(&[("METRICS", "off")]).await;
    assert_valid(&fetch(&without_metrics).await, "METRICS=off");
    let fake = FakeEntra::start(&[extra_key(0)]);
    let entra = entra_app(&fake, &[]).await;
    assert_valid(&fetch(&entra).await, "Azure mode");
}

#[test]
fn the_validator_refuses_a_broken_document() {
    // The check above can fail: an operation whose path parameter is not declared.
    let broken = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/vault/{name}": {"get": {"responses": {"200": {"description": "ok"}}}}}
    });
    let options = Options { version: Some(SpecVersion::V3_1), ..Options::default() };
    assert!(!openapi_spec_validator_rs::validate(&broken, &options).is_valid());
}

#[actix_web::test]
async fn the_document_lists_every_served_route_and_method_and_nothing_else() {
    let app = TestApp::spawn().await;
    assert_eq!(operations(&fetch(&app).await), table_operations(true, true));
    let app = TestApp::spawn_with(&[("METRICS", "off")]).await;
    let listed = operations(&fetch(&app).await);
    assert_eq!(listed, table_operations(false, true));
    assert!(!listed.iter().any(|(path, _)| path == "/metrics"), "METRICS=off still lists /metrics");
}

#[actix_web::test]
async fn operation_ids_are_the_handlers_names_and_unique() {
    let document = fetch(&TestApp::spawn().await).await;
    let ids: Vec<&str> = operations(&document)
        .iter()
        .map(|(path, method)| operation(&document, path, method)["operationId"].as_str().expect("an operationId"))
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids repeat: {ids:?}");
    assert_eq!(operation(&document, "/vault/{name}", "GET")["operationId"], "secret_by_name");
    assert_eq!(operation(&document, "/vault/{name}", "HEAD")["operationId"], "secret_by_name_head");
}

/// What a protected operation must state of `route`'s rule.
fn assert_states_rule(document: &Value, route: &Route, method: &Method, entra: bool) {
    let Access::Protected(rule) = route.access else { unreachable!() };
    // A role named by a setting is documented as the server has it (here the default).
    let rule = ConfiguredRoles::with_event_grid_role(DEFAULT_EVENT_GRID_ROLE).resolve(&rule);
    let op = operation(document, &openapi_path(route.path), method.as_str());
    let case = format!("{method} {}", route.path);
    assert_eq!(
        op["x-vaultgate-roles"],
        json!({"roles": rule.any_roles, "allRoles": rule.all_roles, "scopes": rule.any_scopes}),
        "{case}"
    );
    let security = op["security"].as_array().unwrap_or_else(|| panic!("{case}: no security"));
    for role in rule.any_roles {
        assert!(security.contains(&json!({"bearerToken": [role]})), "{case}: role {role} missing in {security:?}");
    }
    for scope in rule.any_scopes {
        assert!(security.contains(&json!({"bearerToken": [scope]})), "{case}: scope {scope} missing");
    }
    let default_scope = format!("api://{APP_ID}/.default");
    let app_flow = json!({"entraClientCredentials": [default_scope]});
    assert_eq!(security.contains(&app_flow), entra && !rule.any_roles.is_empty(), "{case}: {security:?}");
    for role in rule.any_roles {
        assert!(op["description"].as_str().unwrap().contains(&format!("`{role}`")), "{case}: description");
    }
}

#[actix_web::test]
async fn each_protected_operation_states_its_rule_from_its_attribute_and_open_ones_need_nothing() {
    let local = fetch(&TestApp::spawn().await).await;
    let fake = FakeEntra::start(&[extra_key(0)]);
    let entra = fetch(&entra_app(&fake, &[]).await).await;
    for route in ROUTES {
        for method in route.methods {
            match route.access {
                Access::Protected(_) => {
                    assert_states_rule(&local, route, method, false);
                    assert_states_rule(&entra, route, method, true);
                }
                Access::Open => {
                    let op = operation(&local, &openapi_path(route.path), method.as_str());
                    assert_eq!(op["security"], json!([]), "{method} {} is open", route.path);
                    assert!(op.get("x-vaultgate-roles").is_none());
                }
            }
        }
    }
    // The secret routes' rule, as their handlers' attributes write it.
    let op = operation(&local, "/vault/{name}", "GET");
    assert_eq!(op["x-vaultgate-roles"], json!({"roles": ["GetSecret"], "allRoles": [], "scopes": []}));
    let op = operation(&local, "/events/keyvault", "POST");
    assert_eq!(
        op["x-vaultgate-roles"],
        json!({"roles": ["AzureEventGridSecureWebhookSubscriber"], "allRoles": [], "scopes": []}),
        "the role EVENT_GRID_ROLE names"
    );
}

/// Every `(status, body)` an operation lists as an error example.
fn listed_errors(op: &Value) -> Vec<(String, Value)> {
    let mut listed = Vec::new();
    for (status, response) in op["responses"].as_object().unwrap() {
        for (_, example) in response["content"]["application/json"]["examples"].as_object().into_iter().flatten() {
            listed.push((status.clone(), example["value"].clone()));
        }
    }
    listed
}

fn catalog_body(code: ErrorCode) -> (String, Value) {
    (code.status().to_string(), vaultgate::openapi::errors::body(code))
}

#[actix_web::test]
async fn each_operation_lists_the_catalog_errors_it_can_answer() {
    let document = fetch(&TestApp::spawn().await).await;
    let authentication: Vec<ErrorCode> = ErrorCode::ALL
        .iter()
        .copied()
        .filter(|c| c.challenge() != Challenge::None || *c == ErrorCode::AuthorizationServiceUnavailable)
        .collect();
    assert!(authentication.contains(&ErrorCode::AuthorizationHeaderMissing));
    assert!(authentication.contains(&ErrorCode::MissingPathRole));
    for route in ROUTES {
        // Each route's first method (not every route serves GET).
        let method = route.methods[0].as_str();
        let op = operation(&document, &openapi_path(route.path), method);
        let listed = listed_errors(op);
        let case = format!("{method} {}", route.path);
        // Each example in the shape the route answers in.
        let body_of = |code: ErrorCode| match route.errors {
            ErrorShape::Catalog => catalog_body(code),
            ErrorShape::KeyVault => (code.status().to_string(), vaultgate::error::key_vault_body(code)),
        };
        assert!(listed.contains(&body_of(ErrorCode::RequestHeadersTooLarge)), "{case}");
        for code in &authentication {
            let expected = matches!(route.access, Access::Protected(_));
            assert_eq!(listed.contains(&body_of(*code)), expected, "{case}: {code:?}");
        }
        // The 401s tell the caller how to authenticate.
        if matches!(route.access, Access::Protected(_)) {
            assert!(op["responses"]["401"]["headers"]["WWW-Authenticate"].is_object(), "{case}");
            assert!(op["responses"]["503"]["headers"]["Retry-After"].is_object(), "{case}");
        }
    }
    let secret = listed_errors(operation(&document, "/vault/{name}/{version}", "GET"));
    for code in [
        ErrorCode::InvalidSecretName,
        ErrorCode::InvalidSecretVersion,
        ErrorCode::SecretNotFound,
        ErrorCode::SecretDisabled,
        ErrorCode::VaultError,
        ErrorCode::VaultThrottled,
        ErrorCode::InvalidRequest,
    ] {
        assert!(secret.contains(&catalog_body(code)), "/vault/{{name}}/{{version}} omits {code:?}");
    }
    let by_name = listed_errors(operation(&document, "/vault/{name}", "GET"));
    assert!(!by_name.contains(&catalog_body(ErrorCode::InvalidSecretVersion)), "/vault/{{name}} has no version");
    let query_form = listed_errors(operation(&document, "/vault", "GET"));
    assert!(query_form.contains(&catalog_body(ErrorCode::SecretNameMissing)), "the {{\"message\"}} answer");
    let batch = operation(&document, "/vault", "POST");
    for code in [ErrorCode::InvalidRequest, ErrorCode::UnsupportedContentType, ErrorCode::RequestBodyTooLarge] {
        assert!(listed_errors(batch).contains(&catalog_body(code)), "POST /vault omits {code:?}");
    }
    assert_eq!(batch["requestBody"]["required"], true);
    assert_eq!(
        batch["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/BatchReadRequest"
    );
    let catalog = listed_errors(operation(&document, "/secrets", "GET"));
    for code in [
        ErrorCode::InvalidRequest,
        ErrorCode::VaultError,
        ErrorCode::VaultThrottled,
        ErrorCode::SecretMissBudgetExceeded,
    ] {
        let body = (code.status().to_string(), vaultgate::error::key_vault_body(code));
        assert!(catalog.contains(&body), "GET /secrets omits {code:?}");
    }
    let events = listed_errors(operation(&document, "/events/keyvault", "POST"));
    for code in [ErrorCode::InvalidRequest, ErrorCode::UnsupportedContentType] {
        assert!(events.contains(&catalog_body(code)), "/events/keyvault omits {code:?}");
    }
    let health = listed_errors(operation(&document, "/health", "GET"));
    assert!(health.contains(&catalog_body(ErrorCode::HealthCheckFailed)));
}

#[actix_web::test]
async fn every_catalog_entry_is_documented_somewhere() {
    let document = fetch(&TestApp::spawn().await).await;
    let description = document["info"]["description"].as_str().unwrap();
    let mut listed = Vec::new();
    for (path, method) in operations(&document) {
        listed.extend(listed_errors(operation(&document, &path, &method)));
    }
    for code in ErrorCode::ALL {
        // Answered by no route in particular: said once, in the introduction.
        if vaultgate::openapi::errors::OUTSIDE_ROUTES.contains(code) {
            assert!(description.contains(code.code()), "{code:?} is not in the introduction");
            continue;
        }
        assert!(listed.contains(&catalog_body(*code)), "no operation lists {code:?}");
    }
}

#[actix_web::test]
async fn local_mode_describes_the_development_issuer_and_how_to_get_a_token() {
    let document = fetch(&TestApp::spawn().await).await;
    let schemes = document["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes.keys().collect::<Vec<_>>(), ["bearerToken"], "local mode has no OAuth2 flow");
    let bearer = &schemes["bearerToken"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    let description = bearer["description"].as_str().unwrap();
    for needed in [
        vaultgate::auth::dev_key::LOCAL_ISSUER,
        vaultgate::auth::dev_key::LOCAL_AUDIENCE,
        "vaultgate token --role GetSecret",
    ] {
        assert!(description.contains(needed), "the bearer scheme does not say {needed:?}: {description}");
    }
    assert!(document["info"]["description"].as_str().unwrap().contains("vaultgate token"));
}

#[actix_web::test]
async fn azure_mode_describes_entra_ids_flows_for_the_tenant_and_app() {
    let fake = FakeEntra::start(&[extra_key(0)]);
    let document = fetch(&entra_app(&fake, &[]).await).await;
    let schemes = &document["components"]["securitySchemes"];
    let endpoint = |name: &str| format!("{}/{TENANT}/oauth2/v2.0/{name}", fake.base_url);
    let default_scope = format!("api://{APP_ID}/.default");
    let app = &schemes["entraClientCredentials"];
    assert_eq!(app["type"], "oauth2");
    assert_eq!(app["flows"]["clientCredentials"]["tokenUrl"], endpoint("token"));
    assert!(app["flows"]["clientCredentials"]["scopes"][&default_scope].is_string());
    let person = &schemes["entraAuthorizationCode"]["flows"]["authorizationCode"];
    assert_eq!(person["authorizationUrl"], endpoint("authorize"));
    assert_eq!(person["tokenUrl"], endpoint("token"));
    assert!(person["scopes"][&default_scope].is_string());
    assert!(schemes["entraAuthorizationCode"]["description"].as_str().unwrap().contains("PKCE"));
    let bearer = schemes["bearerToken"]["description"].as_str().unwrap();
    assert!(bearer.contains(TENANT) && bearer.contains(&format!("api://{APP_ID}")), "{bearer}");
    assert!(!bearer.contains("vaultgate token"), "no development tokens in Azure mode");
}

/// Requests whose answers must each be one the document lists for their operation.
#[actix_web::test]
async fn the_servers_answers_are_the_ones_the_document_promises() {
    let app = TestApp::spawn().await;
    let document = fetch(&app).await;
    let reader = tokens::valid(shared_key(), &["GetSecret"]);
    let no_roles = shared_key().sign(&tokens::claims(&[]));
    let wrong_role = tokens::valid(shared_key(), &["Other"]);
    let demo_version = app.get_secret("/vault/demo").await.json()["version"].as_str().unwrap().to_owned();
    let demo_version_path = format!("/vault/demo/{demo_version}");
    let other_version_path = format!("/vault/demo/{VERSION}");
    let cases: Vec<(&str, &str, &str, Option<&str>)> = vec![
        ("/health", "/health", "GET", None),
        ("/health", "/health", "HEAD", None),
        ("/health/live", "/health/live", "GET", None),
        ("/metrics", "/metrics", "GET", None),
        ("/openapi.json", "/openapi.json", "GET", None),
        ("/docs", "/docs", "GET", None),
        ("/docs/{file}", "/docs/", "GET", None),
        ("/docs/{file}", "/docs/index.html", "GET", None),
        ("/docs/{file}", "/docs/no-such-file.js", "GET", None),
        ("/vault/{name}", "/vault/demo", "GET", Some(&reader)),
        ("/vault/{name}", "/vault/demo", "HEAD", Some(&reader)),
        ("/vault/{name}", "/vault/demo", "GET", None),
        ("/vault/{name}", "/vault/demo", "GET", Some("not-a-jwt")),
        ("/vault/{name}", "/vault/demo", "GET", Some(&no_roles)),
        ("/vault/{name}", "/vault/demo", "GET", Some(&wrong_role)),
        ("/vault/{name}", "/vault/no-such-secret", "GET", Some(&reader)),
        ("/vault/{name}", "/vault/bad.name", "GET", Some(&reader)),
        ("/vault/{name}/{version}", "/vault/demo/not-a-version", "GET", Some(&reader)),
        ("/vault/{name}/{version}", &other_version_path, "GET", Some(&reader)),
        ("/vault/{name}/{version}", &demo_version_path, "GET", Some(&reader)),
        ("/vault", "/vault?secret=demo", "GET", Some(&reader)),
        ("/vault", "/vault", "GET", Some(&reader)),
        ("/vault", "/vault?secret=", "HEAD", Some(&reader)),
        ("/vault", "/vault", "POST", Some(&reader)),
        ("/vault", "/vault", "POST", None),
        ("/secrets", "/secrets", "GET", Some(&reader)),
        ("/secrets", "/secrets", "HEAD", Some(&reader)),
        ("/secrets", "/secrets?maxresults=2", "GET", Some(&reader)),
        ("/secrets", "/secrets?maxresults=0", "GET", Some(&reader)),
        ("/secrets", "/secrets", "GET", Some(&wrong_role)),
    ];
    let mut statuses = BTreeSet::new();
    for (template, path, method, token) in cases {
        let mut request =
            client_without_redirects().request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let reply = send(request).await;
        statuses.insert(reply.status.as_u16());
        assert_documented(&document, template, method, &reply, &format!("{method} {path}"));
    }
    // The cases reach successes, redirects and errors alike.
    assert_eq!(statuses, BTreeSet::from([200, 308, 400, 401, 403, 404, 415]));

    // The batch read's bodies: a batch, a bad one, one too large.
    let padded = format!("{{\"names\": [\"demo\"]}}{}", " ".repeat(16 * 1024));
    for (body, status) in [
        ("{\"names\": [\"demo\", \"nope\"]}".to_owned(), 200),
        ("{\"names\": [\"demo\", \"bad.name\"]}".to_owned(), 400),
        ("{\"names\": []}".to_owned(), 400),
        (padded, 413),
    ] {
        let request = client_without_redirects()
            .post(app.url("/vault"))
            .insert_header(("Authorization", format!("Bearer {reader}")))
            .insert_header(("Content-Type", "application/json"));
        let reply = vaultgate_tests::http::send_body(request, body).await;
        assert_eq!(reply.status, status);
        assert_documented(&document, "/vault", "POST", &reply, &format!("POST /vault answering {status}"));
    }
}

#[actix_web::test]
async fn the_documented_name_and_version_rules_are_the_servers() {
    let app = TestApp::spawn().await;
    let document = fetch(&app).await;
    let parameters = operation(&document, "/vault/{name}/{version}", "GET")["parameters"].as_array().unwrap().clone();
    let rule = |name: &str| {
        let schema = &parameters.iter().find(|p| p["name"] == name).unwrap()["schema"];
        jsonschema::validator_for(schema).unwrap()
    };
    let (name_rule, version_rule) = (rule("name"), rule("version"));
    let long = "a".repeat(127);
    let too_long = "a".repeat(128);
    // (as sent in the URL, as the server decodes it)
    let names =
        [("demo", "demo"), ("A-1", "A-1"), (&long, &long), (&too_long, &too_long), ("a_b", "a_b"), ("a.b", "a.b")];
    let names = names.into_iter().chain([("%C3%A9", "é"), ("-", "-"), ("a%20b", "a b")]);
    for (sent, name) in names {
        let reply = app.get_secret(&format!("/vault/{sent}")).await;
        let refused = reply.status == 400 && reply.json()["code"] == "InvalidSecretName";
        assert_eq!(!name_rule.is_valid(&json!(name)), refused, "name {name:?}: {}", reply.status);
    }
    for version in
        [VERSION, "0123456789ABCDEF0123456789ABCDEF", "latest", &VERSION[1..], "0123456789abcdef0123456789abcdeg"]
    {
        let reply = app.get_secret(&format!("/vault/demo/{version}")).await;
        let refused = reply.status == 400 && reply.json()["code"] == "InvalidSecretVersion";
        assert_eq!(!version_rule.is_valid(&json!(version)), refused, "version {version:?}: {}", reply.status);
    }
}

/// Every `(key, value)` in a JSON tree.
fn walk<'a>(value: &'a Value, found: &mut Vec<(&'a str, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                found.push((key.as_str(), inner));
                walk(inner, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
        _ => {}
    }
}

/// Azure API Management imports OpenAPI 3.1 with limits (Microsoft's "API import restrictions
/// and known issues"): no references to other files, parameter names unique across a URL's
/// path and query, and its 3.0-style schema reading refuses 3.1's type lists and numeric
/// `exclusiveMinimum`/`exclusiveMaximum`, and an `info.summary`.
#[actix_web::test]
async fn the_document_avoids_what_api_management_cannot_import() {
    let fake = FakeEntra::start(&[extra_key(0)]);
    for document in [fetch(&TestApp::spawn().await).await, fetch(&entra_app(&fake, &[]).await).await] {
        let mut found = Vec::new();
        walk(&document, &mut found);
        for (key, value) in found {
            match key {
                "$ref" => assert!(value.as_str().unwrap().starts_with("#/components/"), "{value}"),
                "type" => assert!(value.is_string() || value.is_object(), "a type list: {value}"),
                "exclusiveMinimum" | "exclusiveMaximum" => panic!("{key}: {value}"),
                _ => {}
            }
        }
        assert!(document["info"].get("summary").is_none());
        for (path, method) in operations(&document) {
            let op = operation(&document, &path, &method);
            let names: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["name"].as_str().unwrap().to_ascii_lowercase())
                .collect();
            let unique: BTreeSet<&String> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{method} {path}: {names:?}");
        }
    }
}

#[actix_web::test]
async fn every_parameter_is_described_and_every_described_parameter_exists() {
    let document = fetch(&TestApp::spawn().await).await;
    for (path, method) in operations(&document) {
        for parameter in operation(&document, &path, &method)["parameters"].as_array().into_iter().flatten() {
            let description = parameter["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{method} {path}: parameter {} has no description", parameter["name"]);
        }
    }
    for route in ROUTES {
        let in_path = vaultgate::openapi::document::path_parameters(route.path);
        for param in route.doc.params.iter().filter(|p| p.location == vaultgate::route_table::ParamIn::Path) {
            assert!(in_path.iter().any(|name| name == param.name), "{}: no {{{}}} in the path", route.path, param.name);
        }
    }
}
