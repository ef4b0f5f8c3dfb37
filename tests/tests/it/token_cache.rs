//! The verified-token cache as callers see it: repeat tokens are cheap, and nothing about
//! what a token may do is skipped on a cache hit.

use actix_web::http::header::AUTHORIZATION;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::http::{client, metric};
use vaultgate_tests::{Reply, TestApp, send, tokens};

async fn read(app: &TestApp, path: &str, token: &str) -> Reply {
    send(client().get(app.url(path)).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await
}

async fn cache_counts(app: &TestApp) -> (f64, f64) {
    let text = String::from_utf8(send(client().get(app.url("/metrics"))).await.body).unwrap();
    (metric(&text, "vaultgate_token_cache_hits_total"), metric(&text, "vaultgate_token_cache_misses_total"))
}

#[actix_web::test]
async fn a_repeated_token_is_verified_once() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    for _ in 0..5 {
        assert_eq!(read(&app, "/vault/demo", &token).await.status, 200);
    }
    assert_eq!(cache_counts(&app).await, (4.0, 1.0));
}

#[actix_web::test]
async fn a_cache_hit_still_enforces_the_routes_requirement() {
    let app = TestApp::spawn_with(&[("SECRET_ROLES", "db-*=DbReader")]).await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    assert_eq!(read(&app, "/vault/demo", &token).await.status, 200);
    assert_eq!(read(&app, "/vault/db-password", &token).await.status, 403);
    let reader = tokens::valid(shared_key(), &["Reader"]);
    for _ in 0..2 {
        let answer = read(&app, "/vault/demo", &reader).await;
        assert_eq!(answer.status, 403);
        assert_eq!(answer.json()["code"], "MissingRequiredRole");
    }
    assert_eq!(cache_counts(&app).await, (2.0, 2.0));
}

#[actix_web::test]
async fn a_refused_token_is_never_remembered_as_valid() {
    let app = TestApp::spawn().await;
    let good = tokens::valid(shared_key(), &["GetSecret"]);
    let (signed, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", tokens::b64([0u8; 256]));
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let answer = read(&app, "/vault/demo", &forged).await;
        assert_eq!(answer.status, 401);
        bodies.push(answer.json());
    }
    assert!(bodies.iter().all(|b| b["debug"] == "Signature verification failed"), "{bodies:?}");
    assert_eq!(cache_counts(&app).await, (2.0, 1.0), "the refusal is remembered, as a refusal");
    assert_eq!(read(&app, "/vault/demo", &good).await.status, 200, "the real token is unaffected");
}
