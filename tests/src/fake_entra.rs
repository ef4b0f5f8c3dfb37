//! A fake Microsoft Entra ID on loopback: the discovery document and the JWKS in the
//! shapes of `wire/`, fetch counters, key rotation, and outages (503 or stalls) on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::Value;
use tokio::sync::watch;
use crate::signing::TestKey;

const WIRE_DISCOVERY: &str = include_str!("../wire/entra-openid-configuration-v2.json");
const WIRE_JWKS: &str = include_str!("../wire/entra-jwks.json");
/// The tenant the wire samples were recorded in; tests use it as theirs.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The API's application ID in the wire samples' tokens.
pub const APP_ID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Up,
    /// 503 to everything.
    Unavailable,
    /// Never answers (the caller's timeout must fire).
    Stall,
}

struct State {
    base_url: String,
    keys: Mutex<Vec<&'static TestKey>>,
    behaviour: Mutex<Behaviour>,
    discovery_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
    /// Counts JWKS documents served (200), for tests to wait on.
    served: watch::Sender<usize>,
    /// Counts requests being stalled right now.
    stalled: watch::Sender<usize>,
}

pub struct FakeEntra {
    pub base_url: String,
    state: Arc<State>,
}

impl FakeEntra {
    /// Starts serving `keys` on a free loopback port.
    pub fn start(keys: &[&'static TestKey]) -> FakeEntra {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            base_url: base_url.clone(),
            keys: Mutex::new(keys.to_vec()),
            behaviour: Mutex::new(Behaviour::Up),
            discovery_hits: AtomicUsize::new(0),
            jwks_hits: AtomicUsize::new(0),
            served: watch::channel(0).0,
            stalled: watch::channel(0).0,
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/{tenant}/v2.0/.well-known/openid-configuration", web::get().to(discovery))
                .route("/{tenant}/discovery/v2.0/keys", web::get().to(jwks))
        })
        .workers(1)
        .listen(listener)
        .expect("the fake Entra ID listens")
        .run();
        actix_web::rt::spawn(server);
        FakeEntra { base_url, state }
    }

    /// Serves `keys` from now on (a key rotation).
    pub fn rotate_to(&self, keys: &[&'static TestKey]) {
        *self.state.keys.lock().unwrap() = keys.to_vec();
    }

    pub fn behave(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// JWKS requests received, whatever was answered.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    /// Waits until more than `already` JWKS documents have been served.
    pub async fn served_more_than(&self, already: usize, within: Duration) {
        let mut served = self.state.served.subscribe();
        actix_web::rt::time::timeout(within, served.wait_for(|n| *n > already))
            .await
            .expect("the JWKS was fetched in time")
            .expect("the fake is alive");
    }

    pub fn jwks_served(&self) -> usize {
        *self.state.served.borrow()
    }

    /// Waits until a request is being stalled.
    pub async fn stalling(&self, within: Duration) {
        let mut stalled = self.state.stalled.subscribe();
        actix_web::rt::time::timeout(within, stalled.wait_for(|n| *n > 0))
            .await
            .expect("a request reached the stalled fake in time")
            .expect("the fake is alive");
    }
}

async fn misbehave(state: &State) -> Option<HttpResponse> {
    let behaviour = *state.behaviour.lock().unwrap();
    match behaviour {
        Behaviour::Up => None,
        Behaviour::Unavailable => Some(HttpResponse::ServiceUnavailable().finish()),
        Behaviour::Stall => {
            state.stalled.send_modify(|n| *n += 1);
            std::future::pending::<()>().await;
            unreachable!("a stalled answer never comes")
        }
    }
}

async fn discovery(state: web::Data<State>, tenant: web::Path<String>) -> HttpResponse {
    state.discovery_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(answer) = misbehave(&state).await {
        return answer;
    }
    let mut document: Value = serde_json::from_str(&WIRE_DISCOVERY.replace(TENANT, &tenant)).unwrap();
    document["jwks_uri"] = Value::String(format!("{}/{tenant}/discovery/v2.0/keys", state.base_url));
    HttpResponse::Ok().json(document)
}

async fn jwks(state: web::Data<State>) -> HttpResponse {
    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(answer) = misbehave(&state).await {
        return answer;
    }
    let template: Value = serde_json::from_str(WIRE_JWKS).unwrap();
    let keys: Vec<Value> = state.keys.lock().unwrap().iter().map(|key| jwk(&template["keys"][0], key)).collect();
    state.served.send_modify(|n| *n += 1);
    HttpResponse::Ok().json(serde_json::json!({ "keys": keys }))
}

/// The wire sample's JWK with this key's kid and public numbers.
pub fn jwk(template: &Value, key: &TestKey) -> Value {
    let (n, e) = key.jwk_components();
    let mut entry = template.clone();
    entry["kid"] = key.kid().into();
    entry["x5t"] = key.kid().into();
    entry["n"] = n.into();
    entry["e"] = e.into();
    entry
}
