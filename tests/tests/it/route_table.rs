//! The route table (`vaultgate::routes::ROUTES`) is what the server serves: every route in it
//! answers its methods with the access it claims, carries its own metrics label, and every
//! other method gets a 405 naming the table's methods.

use actix_web::http::Method;
use vaultgate::auth::ConfiguredRoles;
use vaultgate::routes::{Access, ROUTES, Route};
use vaultgate_config::defaults::DEFAULT_EVENT_GRID_ROLE;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::http::client;
use vaultgate_tests::{TestApp, send, tokens};

/// The route's path with sample values for its parameters (a secret that exists).
fn sample_path(route: &Route) -> String {
    route
        .path
        .replace("{name}", "demo")
        .replace("{version}", "0123456789abcdef0123456789abcdef")
        .replace("{file:.*}", "index.html")
}

fn request(app: &TestApp, method: &Method, path: &str) -> awc::ClientRequest {
    client().request(method.clone(), app.url(path))
}

/// A token that passes the route's requirement: all its roles, else its scopes.
fn passing_token(access: Access) -> Option<String> {
    let Access::Protected(rule) = access else { return None };
    let mut claims = tokens::claims(&[]);
    if rule.takes_event_grid_role {
        // Events: Event Grid's own app, holding the role the setting names (the default here).
        claims["azp"] = serde_json::json!("4962773b-9cdb-44cf-a8bf-237846a00ab7");
    }
    let rule = ConfiguredRoles::with_event_grid_role(DEFAULT_EVENT_GRID_ROLE).resolve(&rule);
    let roles: Vec<&str> = rule.any_roles.iter().chain(rule.all_roles).copied().collect();
    if roles.is_empty() {
        claims["scp"] = serde_json::json!(rule.any_scopes.join(" "));
    } else {
        claims["roles"] = serde_json::json!(roles);
    }
    Some(shared_key().sign(&claims))
}

#[actix_web::test]
async fn every_route_answers_with_the_access_the_table_claims() {
    let app = TestApp::spawn().await;
    for route in ROUTES {
        let path = sample_path(route);
        for method in route.methods {
            let anonymous = send(request(&app, method, &path)).await;
            match route.access {
                Access::Open => assert!(
                    !matches!(anonymous.status.as_u16(), 401 | 403 | 404 | 405),
                    "{method} {path} is listed as open but answered {}",
                    anonymous.status
                ),
                Access::Protected(_) => {
                    assert_eq!(anonymous.status, 401, "{method} {path} is listed as protected");
                    let token = passing_token(route.access).unwrap();
                    let authorised =
                        send(request(&app, method, &path).insert_header(("Authorization", format!("Bearer {token}"))))
                            .await;
                    assert!(
                        !matches!(authorised.status.as_u16(), 401 | 403 | 405),
                        "{method} {path} refused a caller meeting its requirement: {}",
                        authorised.status
                    );
                }
            }
        }
    }
}

#[actix_web::test]
async fn every_served_route_has_its_own_metrics_label() {
    let app = TestApp::spawn().await;
    for route in ROUTES {
        send(request(&app, &route.methods[0], &sample_path(route))).await;
    }
    let text = app.metrics().await;
    for route in ROUTES {
        let labelled = text.lines().any(|line| {
            line.starts_with("vaultgate_http_requests_total{") && line.contains(&format!("route=\"{}\"", route.path))
        });
        assert!(labelled, "no request count labelled {} in:\n{text}", route.path);
    }
    assert!(
        !text.lines().any(|l| l.starts_with("vaultgate_http_requests_total{") && l.contains("route=\"other\"")),
        "a served route fell back to the label \"other\":\n{text}"
    );
}

#[actix_web::test]
async fn other_methods_get_a_405_naming_the_tables_methods() {
    let app = TestApp::spawn().await;
    for route in ROUTES {
        let path = sample_path(route);
        let answer = send(request(&app, &Method::DELETE, &path)).await;
        assert_eq!(answer.status, 405, "DELETE {path}");
        let allowed: Vec<&str> = ROUTES
            .iter()
            .filter(|other| other.path == route.path)
            .flat_map(|other| other.methods.iter().map(Method::as_str))
            .collect();
        assert_eq!(answer.header("allow"), Some(allowed.join(", ").as_str()), "DELETE {path}");
    }
}
