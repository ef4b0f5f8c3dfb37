//! The deployment files hold what they promise: the Dockerfile's invariants, and Azure
//! Functions files that parse and route to paths vaultgate serves.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vaultgate::routes::ROUTES;
use vaultgate_tests::http::client;
use vaultgate_tests::{TestApp, send};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_dockerfile_builds_locked_in_release_and_runs_as_non_root_on_pinned_images() {
    let dockerfile = read("Dockerfile");
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    for from in &froms {
        let image = from.split_whitespace().nth(1).unwrap();
        assert!(
            image.contains("@sha256:") && image.split("@sha256:").nth(1).unwrap().len() == 64,
            "{from} is not pinned by digest"
        );
    }
    assert!(froms[1].contains("distroless/cc"), "a small runtime image: {}", froms[1]);
    assert!(dockerfile.contains("cargo build --release --locked"));
    assert!(dockerfile.contains("--mount=type=cache,target=/usr/local/cargo/registry"), "dependencies are cached");
    let user = dockerfile.lines().rev().find(|l| l.starts_with("USER ")).expect("a USER line");
    let uid = user.split_whitespace().nth(1).unwrap().split(':').next().unwrap();
    assert!(uid != "root" && uid != "0", "runs as {uid}");
    assert!(dockerfile.lines().any(|l| l.starts_with("ENV ") && l.contains("PORT=8080")));
    let ignored = read(".dockerignore");
    assert!(ignored.lines().any(|l| l.trim() == "target"), ".dockerignore keeps target/ out of the context");
    assert!(ignored.lines().any(|l| l.trim() == ".vaultgate"), "the development key stays out of images");
}

#[test]
fn host_json_forwards_requests_to_the_custom_handler_without_a_prefix() {
    let host: Value = serde_json::from_str(&read("deploy/functions/host.json")).unwrap();
    assert_eq!(host["customHandler"]["enableForwardingHttpRequest"], true);
    assert_eq!(host["customHandler"]["description"]["defaultExecutablePath"], "vaultgate");
    assert_eq!(host["extensions"]["http"]["routePrefix"], "");
}

/// Every function: its name, its route template and its methods.
fn functions() -> Vec<(String, String, Vec<String>)> {
    let mut functions = Vec::new();
    for entry in std::fs::read_dir(repo("deploy/functions")).unwrap() {
        let dir = entry.unwrap().path();
        let file = dir.join("function.json");
        if !file.exists() {
            continue;
        }
        let function: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let trigger = function["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "httpTrigger")
            .expect("an HTTP trigger");
        let methods = trigger["methods"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_owned()).collect();
        let route = trigger["route"].as_str().unwrap().to_owned();
        functions.push((dir.file_name().unwrap().to_string_lossy().into_owned(), route, methods));
    }
    functions.sort();
    functions
}

/// Whether a Functions route template matches `path`: literal segments, `{param}` for one
/// segment, a final `{*rest}` for any remainder (none included).
fn template_matches(template: &str, path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty());
    for part in template.split('/') {
        if part.starts_with("{*") {
            return true;
        }
        match segments.next() {
            Some(segment) if part.starts_with('{') || part == segment => {}
            _ => return false,
        }
    }
    segments.next().is_none()
}

#[test]
fn every_route_in_the_table_is_reachable_through_a_function_with_its_methods() {
    let functions = functions();
    for route in ROUTES {
        let path = route.path.replace(['{', '}'], "");
        let function = functions
            .iter()
            .find(|(_, template, _)| template_matches(template, &path))
            .unwrap_or_else(|| panic!("{} is served but no function in deploy/functions routes to it", route.path));
        for method in route.methods {
            assert!(
                function.2.iter().any(|m| m.eq_ignore_ascii_case(method.as_str())),
                "function {} does not forward {method} {}",
                function.0,
                route.path
            );
        }
    }
}

#[actix_web::test]
async fn every_function_routes_to_a_path_vaultgate_serves() {
    let functions = functions();
    let names: Vec<&str> = functions.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names, ["deletedsecrets", "docs", "events", "health", "metrics", "openapi", "secrets", "vault"]);
    let app = TestApp::spawn().await;
    for (name, template, _) in &functions {
        let path = format!("/{}", template.replace("/{*rest}", ""));
        let answer = send(client().get(app.url(&path))).await;
        assert_ne!(answer.status, 404, "function {name} routes to {path}, which vaultgate does not serve");
    }
    assert_eq!(send(client().get(app.url("/health/live"))).await.status, 200, "health/{{*rest}} covers /health/live");
}

#[test]
fn function_templates_match_as_the_functions_host_does() {
    assert!(template_matches("vault/{*rest}", "/vault"));
    assert!(template_matches("vault/{*rest}", "/vault/a/b"));
    assert!(template_matches("metrics", "/metrics"));
    assert!(!template_matches("metrics", "/metrics/x"));
    assert!(!template_matches("health/{*rest}", "/vault"));
    assert!(template_matches("events/{kind}", "/events/keyvault"));
}
