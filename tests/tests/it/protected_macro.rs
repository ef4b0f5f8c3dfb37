//! `#[protected(...)]` as a Rust developer uses it: under actix's route macros, with every
//! requirement form, and with the `Caller` extractor.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpResponse, get, web};
use serde_json::json;
use vaultgate::{Caller, protected};
use vaultgate_tests::app::{shared_key, spawn_handlers};
use vaultgate_tests::http::client;
use vaultgate_tests::send;
use vaultgate_tests::tokens::{self, claims};

#[get("/one")]
#[protected(role = "GetSecret")]
async fn one_role() -> HttpResponse {
    HttpResponse::Ok().body("one")
}

#[get("/any/{item}")]
#[protected(roles = ["Reader", "Writer"])]
async fn any_role(item: web::Path<String>, caller: Caller) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"item": item.into_inner(), "oid": caller.oid, "appid": caller.appid, "roles": caller.roles}))
}

#[protected(all_roles = ["Reader", "Auditor"])]
#[get("/all")]
async fn all_roles() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[get("/scoped")]
#[protected(scopes = ["Secrets.Read", "Secrets.All"], role = "GetSecret")]
async fn scoped(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({"scopes": caller.scopes}))
}

#[get("/whoami")]
async fn whoami(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({"tid": caller.tid}))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(one_role).service(any_role).service(all_roles).service(scoped).service(whoami);
}

async fn status(base: &str, path: &str, token: &str) -> u16 {
    send(client().get(format!("{base}{path}")).insert_header((AUTHORIZATION, format!("Bearer {token}"))))
        .await
        .status
        .as_u16()
}

fn with_roles(roles: &[&str]) -> String {
    tokens::valid(shared_key(), roles)
}

fn with_scopes(scp: &str) -> String {
    let mut body = claims(&[]);
    body["scp"] = json!(scp);
    shared_key().sign(&body)
}

#[actix_web::test]
async fn a_single_role() {
    let base = spawn_handlers(routes);
    assert_eq!(status(&base, "/one", &with_roles(&["GetSecret"])).await, 200);
    assert_eq!(status(&base, "/one", &with_roles(&["getsecret"])).await, 403, "roles are case-sensitive");
    assert_eq!(send(client().get(format!("{base}/one"))).await.status, 401);
}

#[actix_web::test]
async fn any_of_several_roles_and_the_callers_claims() {
    let base = spawn_handlers(routes);
    assert_eq!(status(&base, "/any/x", &with_roles(&["Writer"])).await, 200);
    assert_eq!(status(&base, "/any/x", &with_roles(&["GetSecret"])).await, 403);
    let answer = send(
        client()
            .get(format!("{base}/any/box"))
            .insert_header((AUTHORIZATION, format!("Bearer {}", with_roles(&["Reader"])))),
    )
    .await;
    assert_eq!(
        answer.json(),
        json!({"item": "box", "oid": "11111111-2222-3333-4444-555555555555", "appid": "test-client", "roles": ["Reader"]})
    );
}

#[actix_web::test]
async fn all_of_several_roles_with_the_attribute_above_the_route_macro() {
    let base = spawn_handlers(routes);
    assert_eq!(status(&base, "/all", &with_roles(&["Reader", "Auditor"])).await, 200);
    assert_eq!(status(&base, "/all", &with_roles(&["Reader"])).await, 403);
    assert_eq!(status(&base, "/all", &with_roles(&["Auditor", "Writer"])).await, 403);
}

#[actix_web::test]
async fn delegated_scopes_or_a_role() {
    let base = spawn_handlers(routes);
    assert_eq!(status(&base, "/scoped", &with_scopes("User.Read Secrets.Read")).await, 200);
    assert_eq!(status(&base, "/scoped", &with_scopes("User.Read")).await, 403);
    assert_eq!(status(&base, "/scoped", &with_roles(&["GetSecret"])).await, 200);
    let answer = send(
        client()
            .get(format!("{base}/scoped"))
            .insert_header((AUTHORIZATION, format!("Bearer {}", with_scopes("Secrets.All  User.Read")))),
    )
    .await;
    assert_eq!(answer.json(), json!({"scopes": ["Secrets.All", "User.Read"]}));
}

#[actix_web::test]
async fn claims_alone_authenticates_without_a_requirement() {
    let base = spawn_handlers(routes);
    assert_eq!(status(&base, "/whoami", &with_roles(&[])).await, 200);
    let answer = send(client().get(format!("{base}/whoami"))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["code"], "AuthorizationHeaderMissing");
}

#[actix_web::test]
async fn a_forbidden_caller_learns_what_would_pass() {
    let base = spawn_handlers(routes);
    let answer = send(
        client()
            .get(format!("{base}/scoped"))
            .insert_header((AUTHORIZATION, format!("Bearer {}", with_scopes("User.Read")))),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_scope", scope="GetSecret Secrets.Read Secrets.All""#)
    );
    assert_eq!(answer.json()["debug"], "Missing required role for accessing path /scoped");
}
