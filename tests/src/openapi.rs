//! Reading vaultgate's OpenAPI document as a client would: its operations, their responses,
//! and whether an answer matches what the document promises.

use serde_json::Value;

use crate::{Reply, TestApp};

/// `GET /openapi.json`, parsed.
pub async fn fetch(app: &TestApp) -> Value {
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, 200, "GET /openapi.json");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

/// Every `(path template, method)` the document describes, methods in upper case, sorted.
pub fn operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("a path item") {
            operations.push((path.clone(), method.to_ascii_uppercase()));
        }
    }
    operations.sort();
    operations
}

/// The operation object at `path` for `method` (lower or upper case).
pub fn operation<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &document["paths"][path][method.to_ascii_lowercase()];
    assert!(operation.is_object(), "no operation {method} {path} in the document");
    operation
}

/// `schema` with every `#/components/...` reference replaced by what it names (the
/// document's schemas do not refer to themselves).
pub fn resolve(document: &Value, schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let pointer = reference.strip_prefix('#').expect("a local reference");
                let target = document.pointer(pointer).unwrap_or_else(|| panic!("{reference} resolves to nothing"));
                return resolve(document, target);
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(document, v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(document, v)).collect()),
        other => other.clone(),
    }
}

/// Asserts that `reply` is one of the answers the operation documents: its status is listed,
/// its JSON body matches that response's schema, an error body is one of the catalog
/// examples listed there (ignoring `debug`), and the documented headers are present.
pub fn assert_documented(document: &Value, path: &str, method: &str, reply: &Reply, case: &str) {
    let operation = operation(document, path, method);
    let status = reply.status.as_str();
    let response = &operation["responses"][status];
    assert!(
        response.is_object(),
        "{case}: {method} {path} answered {status}, which its operation does not list: {}",
        String::from_utf8_lossy(&reply.body)
    );
    for (name, _) in response["headers"].as_object().into_iter().flatten() {
        assert!(reply.header(name).is_some(), "{case}: {status} documents the header {name}, not sent");
    }
    let Some(content) = response["content"].as_object() else {
        assert!(reply.body.is_empty() || method == "HEAD", "{case}: {status} documents no body, got one");
        return;
    };
    if method == "HEAD" {
        return;
    }
    let media_type = reply.header("content-type").unwrap_or_default();
    let (_, media) = content
        .iter()
        .find(|(listed, _)| media_type.starts_with(listed.as_str()))
        .unwrap_or_else(|| panic!("{case}: {status} answered {media_type}, not among {:?}", content.keys()));
    if !media_type.starts_with("application/json") {
        return;
    }
    let body = reply.json();
    let schema = resolve(document, &media["schema"]);
    let validator = jsonschema::validator_for(&schema).expect("the document's schema compiles");
    if let Err(error) = validator.validate(&body) {
        let error: String = error.to_string().chars().take(300).collect();
        panic!("{case}: the {status} body does not match its documented schema {schema}: {error}");
    }
    if let Some(examples) = media["examples"].as_object() {
        let mut without_debug = body.clone();
        if let Some(map) = without_debug.as_object_mut() {
            map.remove("debug");
        }
        // Key Vault's shape has no `debug`: what exactly failed follows the example's message.
        let key_vault_match = |example: &Value| {
            let (answered, documented) = (&body["error"], &example["error"]);
            answered.is_object()
                && answered["code"] == documented["code"]
                && answered["innererror"] == documented["innererror"]
                && answered["message"]
                    .as_str()
                    .zip(documented["message"].as_str())
                    .is_some_and(|(a, d)| a.starts_with(d))
        };
        assert!(
            examples.values().any(|example| example["value"] == without_debug || key_vault_match(&example["value"])),
            "{case}: the {status} body {body} is none of the documented errors {:?}",
            examples.keys()
        );
    }
}

/// A client that reports redirects instead of following them (the kit's follows them).
pub fn client_without_redirects() -> awc::Client {
    awc::Client::builder().disable_redirects().timeout(std::time::Duration::from_secs(30)).finish()
}
