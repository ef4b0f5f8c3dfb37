//! On a protected route, authentication answers first: a request without valid credentials
//! gets its 401/403 before any other extractor's error and before its body is read, even while
//! verification is still waiting (here: on a signing-key refresh for an unknown kid).

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use futures_util::future::LocalBoxFuture;
use serde_json::json;
use tokio::sync::{Notify, watch};
use vaultgate::auth::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};
use vaultgate::auth::issuers::IssuerRule;
use vaultgate::auth::signing_keys::{KeyLookup, KeysStatus, SigningKeys, StaticKeys};
use vaultgate::auth::{ClaimRules, Validator};
use vaultgate::protected;
use vaultgate_tests::app::{shared_key, spawn_handlers_with};
use vaultgate_tests::http::client;
use vaultgate_tests::http::send_body;
use vaultgate_tests::{Reply, expected, tokens};

#[derive(serde::Deserialize)]
struct Item {
    #[allow(dead_code)]
    label: String,
}

#[post("/items/{id}")]
#[protected(role = "Writer")]
async fn write_item(id: web::Path<u32>, item: web::Json<Item>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"id": id.into_inner(), "label": item.label}))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(write_item);
}

/// The shared development key, but a lookup of any other kid waits until the test opens the
/// gate (as an Entra refresh waits on the network), and says when it started waiting.
struct GatedKeys {
    known: StaticKeys,
    open: watch::Receiver<bool>,
    waiting: Arc<Notify>,
}

impl SigningKeys for GatedKeys {
    fn cached(&self, kid: &str) -> KeyLookup {
        self.known.cached(kid)
    }

    fn refresh_for(self: Arc<Self>, kid: String) -> LocalBoxFuture<'static, KeyLookup> {
        let mut open = self.open.clone();
        self.waiting.notify_one();
        Box::pin(async move {
            let _ = open.wait_for(|open| *open).await;
            self.known.cached(&kid)
        })
    }

    fn status(&self) -> KeysStatus {
        self.known.status()
    }
}

struct Gate {
    base: String,
    open: watch::Sender<bool>,
    waiting: Arc<Notify>,
}

fn serve() -> Gate {
    let (open, gate) = watch::channel(false);
    let waiting = Arc::new(Notify::new());
    let keys = GatedKeys {
        known: StaticKeys::new([(shared_key().kid().to_owned(), shared_key().dev_key().verifying_key())]),
        open: gate,
        waiting: waiting.clone(),
    };
    let rules = ClaimRules {
        issuers: IssuerRule::Exact(vec![LOCAL_ISSUER.to_owned()]),
        audiences: vec![LOCAL_AUDIENCE.to_owned()],
        leeway: Duration::from_secs(60),
    };
    let validator = web::Data::new(Validator::new(Arc::new(keys), rules, 100));
    Gate { base: spawn_handlers_with(validator, routes), open, waiting }
}

/// A token whose kid no loaded key has: verifying it waits on the gate, then fails.
fn unknown_kid_token() -> String {
    shared_key().sign_with_header(&json!({"alg": "RS256", "kid": "rotated-in-later"}), &tokens::claims(&["Writer"]))
}

/// Sends `body` to `path` with `token`, opening the gate only once verification waits on it.
async fn send_while_verification_waits(gate: &Gate, path: &str, content_type: &str, body: &str) -> Reply {
    let request = client()
        .post(format!("{}{path}", gate.base))
        .insert_header(("Authorization", format!("Bearer {}", unknown_kid_token())))
        .insert_header(("Content-Type", content_type));
    let opener = async {
        gate.waiting.notified().await;
        gate.open.send(true).unwrap();
    };
    let (reply, ()) = futures_util::future::join(send_body(request, body.to_owned()), opener).await;
    reply
}

#[actix_web::test]
async fn a_bad_path_waits_for_authentication_and_gets_its_401() {
    let gate = serve();
    let reply =
        send_while_verification_waits(&gate, "/items/not-a-number", "application/json", r#"{"label":"a"}"#).await;
    expected::assert_refused_token(&reply, expected::no_key(), "bad path");
}

#[actix_web::test]
async fn a_bad_body_is_not_read_before_authentication_and_gets_its_401() {
    let gate = serve();
    let reply = send_while_verification_waits(&gate, "/items/7", "application/json", "{not json").await;
    expected::assert_refused_token(&reply, expected::no_key(), "bad JSON");
    let gate = serve();
    let reply = send_while_verification_waits(&gate, "/items/7", "text/plain", r#"{"label":"a"}"#).await;
    expected::assert_refused_token(&reply, expected::no_key(), "wrong content type");
}

#[actix_web::test]
async fn a_caller_without_the_role_gets_403_before_its_bad_input_is_looked_at() {
    let gate = serve();
    let reader = shared_key().sign(&tokens::claims(&["Reader"]));
    let request = client()
        .post(format!("{}/items/not-a-number", gate.base))
        .insert_header(("Authorization", format!("Bearer {reader}")))
        .insert_header(("Content-Type", "application/json"));
    let reply = send_body(request, "{not json").await;
    assert_eq!(reply.status, 403, "{:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["code"], "MissingRequiredRole");
}

#[actix_web::test]
async fn an_authorised_caller_gets_the_extractors_own_answers() {
    let gate = serve();
    let writer = shared_key().sign(&tokens::claims(&["Writer"]));
    let post = |path: &str, body: &'static str| {
        client()
            .post(format!("{}{path}", gate.base))
            .insert_header(("Authorization", format!("Bearer {writer}")))
            .insert_header(("Content-Type", "application/json"))
            .send_body(body)
    };
    let ok = post("/items/7", r#"{"label":"box"}"#).await.unwrap().json::<serde_json::Value>().await.unwrap();
    assert_eq!(ok, json!({"id": 7, "label": "box"}));
    assert_eq!(post("/items/7", "{not json").await.unwrap().status(), 400);
    assert_eq!(post("/items/not-a-number", r#"{"label":"box"}"#).await.unwrap().status(), 404);
}
