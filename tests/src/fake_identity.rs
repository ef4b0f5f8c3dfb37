//! Fake Azure token endpoints on loopback, answering in the shapes of `wire/`: App Service
//! managed identity (`IDENTITY_ENDPOINT`), Service Fabric, Azure Arc, Cloud Shell, Azure ML,
//! VM IMDS, and the Entra token endpoint (client secret, federated or certificate assertion). Every token issued is recorded with its resource, so the
//! fake Key Vault can check what it is shown.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::tokens::now;

const WIRE_APP_SERVICE: &str = include_str!("../wire/managed-identity-app-service.json");
const WIRE_IMDS: &str = include_str!("../wire/managed-identity-imds.json");
const WIRE_TOKEN_ENDPOINT: &str = include_str!("../wire/token-endpoint-client-credentials.json");
const WIRE_SERVICE_FABRIC: &str = include_str!("../wire/managed-identity-service-fabric.http");
const WIRE_APP_SERVICE_2017: &str = include_str!("../wire/managed-identity-app-service-2017-09-01.json");
const WIRE_CLOUD_SHELL_ERROR: &str = include_str!("../wire/managed-identity-cloud-shell-error.json");
const WIRE_SERVICE_FABRIC_ERROR: &str = include_str!("../wire/managed-identity-service-fabric-error.json");

/// The `IDENTITY_HEADER` secret the fake App Service endpoint expects.
pub const IDENTITY_HEADER: &str = "fake-identity-header-7f3a";
/// The `MSI_SECRET` the fake Azure ML endpoint expects.
pub const MSI_SECRET: &str = "fake-msi-secret-5d21";
/// The client secret the fake token endpoint expects.
pub const CLIENT_SECRET: &str = "fake-client-secret-91c2";

#[derive(Default)]
pub struct Issued {
    /// token → the resource it was issued for (`https://vault.azure.net`, ...).
    pub tokens: HashMap<String, String>,
    /// Client assertions seen by the token endpoint, in order.
    pub assertions: Vec<String>,
    /// Tenants named in token endpoint URLs, in order.
    pub tenants: Vec<String>,
}

struct State {
    issued: Arc<Mutex<Issued>>,
    requests: AtomicUsize,
    lifetime_secs: Mutex<u64>,
    /// `refresh_in` put in token endpoint answers.
    refresh_in: Mutex<Option<u64>>,
    /// Answers given, in order, before any token is issued (status, body).
    scripted: Mutex<VecDeque<(u16, Value)>>,
    /// While false, requests wait (a stalled endpoint).
    open: watch::Receiver<bool>,
    open_sender: watch::Sender<bool>,
    /// Every request seen, answered or not.
    seen: watch::Sender<usize>,
    /// Azure Arc: the key file its challenge names, and the content it expects back.
    arc_key: Mutex<Option<(String, String)>>,
    /// Azure ML: the `clientid` of each request.
    ml_client_ids: Mutex<Vec<String>>,
    /// App Service and IMDS: the user-assigned identity each request named (parameter, value).
    selectors: Mutex<Vec<(String, String)>>,
}

pub struct FakeIdentity {
    pub base_url: String,
    state: Arc<State>,
    server: actix_web::dev::ServerHandle,
}

impl FakeIdentity {
    pub fn start() -> FakeIdentity {
        let (open_sender, open) = watch::channel(true);
        let state = Arc::new(State {
            issued: Arc::new(Mutex::new(Issued::default())),
            requests: AtomicUsize::new(0),
            lifetime_secs: Mutex::new(3600),
            refresh_in: Mutex::new(None),
            scripted: Mutex::new(VecDeque::new()),
            open,
            open_sender,
            seen: watch::channel(0).0,
            arc_key: Mutex::new(None),
            ml_client_ids: Mutex::new(Vec::new()),
            selectors: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(actix_web::middleware::from_fn(faults))
                .route("/msi/token", web::get().to(app_service))
                .route("/cloudshell/token", web::post().to(cloud_shell))
                .route("/azureml/token", web::get().to(azure_ml))
                // IMDS, Service Fabric and Azure Arc share the path; the api-version tells them apart.
                .route("/metadata/identity/oauth2/token", web::get().to(metadata_identity))
                .route("/{tenant}/oauth2/v2.0/token", web::post().to(token_endpoint))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("a free loopback port");
        let base_url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeIdentity { base_url, state, server: handle }
    }

    /// Tokens requested so far (all endpoints).
    pub fn token_requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn issued(&self) -> Arc<Mutex<Issued>> {
        self.state.issued.clone()
    }

    /// Every token issued so far.
    pub fn tokens(&self) -> Vec<String> {
        self.state.issued.lock().unwrap().tokens.keys().cloned().collect()
    }

    /// How long issued tokens live (short lives force vaultgate to fetch anew).
    pub fn token_lifetime(&self, seconds: u64) {
        *self.state.lifetime_secs.lock().unwrap() = seconds;
    }

    /// Token endpoint answers carry `refresh_in` (0: renew at once).
    pub fn refresh_in(&self, seconds: Option<u64>) {
        *self.state.refresh_in.lock().unwrap() = seconds;
    }

    /// The next requests, on any endpoint, get these answers (status, JSON body) in order.
    pub fn script(&self, answers: impl IntoIterator<Item = (u16, Value)>) {
        self.state.scripted.lock().unwrap().extend(answers);
    }

    /// Azure Arc: challenge with `Basic realm=<path>` and accept `Basic <content>`.
    pub fn arc_key_file(&self, path: &str, content: &str) {
        *self.state.arc_key.lock().unwrap() = Some((path.to_owned(), content.to_owned()));
    }

    /// Azure ML: the `clientid` of every request so far.
    pub fn ml_client_ids(&self) -> Vec<String> {
        self.state.ml_client_ids.lock().unwrap().clone()
    }

    /// App Service and IMDS: the user-assigned identity parameters of every request so far.
    pub fn selectors(&self) -> Vec<(String, String)> {
        self.state.selectors.lock().unwrap().clone()
    }

    /// While stalled, requests are held without an answer.
    pub fn stall(&self, stalled: bool) {
        self.state.open_sender.send_replace(!stalled);
    }

    /// Stops listening: from now on, connections to the endpoints are refused (an identity
    /// endpoint that is down).
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }

    /// Waits until the endpoints have seen `count` requests in all (a test failure after 30 s).
    pub async fn wait_for_requests(&self, count: usize) {
        let mut seen = self.state.seen.subscribe();
        let waited = actix_web::rt::time::timeout(Duration::from_secs(30), seen.wait_for(|seen| *seen >= count)).await;
        assert!(waited.is_ok(), "the identity endpoints saw fewer than {count} requests within 30 s");
    }
}

/// Counts every request, holds it while stalled, and answers from the script first.
async fn faults(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<State>>().expect("state").clone();
    state.seen.send_modify(|seen| *seen += 1);
    let _ = state.open.clone().wait_for(|open| *open).await;
    let scripted = state.scripted.lock().unwrap().pop_front();
    match scripted {
        Some((status, body)) => {
            let status = actix_web::http::StatusCode::from_u16(status).expect("a status");
            Ok(req.into_response(HttpResponse::build(status).json(body)))
        }
        None => next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_boxed_body),
    }
}

impl State {
    fn issue(&self, resource: &str) -> (String, u64) {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("eyJ0eXAiOiJKV1Qi.fake-access-token-{n}-{}", now());
        self.issued.lock().unwrap().tokens.insert(token.clone(), resource.to_owned());
        (token, *self.lifetime_secs.lock().unwrap())
    }
}

/// Records the user-assigned identity a request names, by the parameter names App Service
/// (`client_id`, `principal_id`, `mi_res_id`) and IMDS (`client_id`, `object_id`, `msi_res_id`) take.
fn record_selector(req: &HttpRequest, state: &State) {
    for name in ["client_id", "object_id", "msi_res_id", "principal_id", "mi_res_id"] {
        if let Some(value) = query_param(req, name) {
            state.selectors.lock().unwrap().push((name.to_owned(), value));
        }
    }
}

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok()?.get(name).cloned()
}

async fn app_service(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let header_ok = req.headers().get("X-IDENTITY-HEADER").is_some_and(|v| v == IDENTITY_HEADER);
    let (Some("2019-08-01"), Some(resource), true) =
        (query_param(&req, "api-version").as_deref(), query_param(&req, "resource"), header_ok)
    else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    };
    record_selector(&req, &state);
    let (token, lifetime) = state.issue(&resource);
    let mut answer: Value = serde_json::from_str(WIRE_APP_SERVICE).unwrap();
    answer["access_token"] = token.into();
    answer["expires_on"] = (now() as u64 + lifetime).to_string().into();
    answer["resource"] = resource.into();
    HttpResponse::Ok().json(answer)
}

/// The JSON body of a `.http` wire sample (what follows its last blank line).
fn http_body(sample: &str) -> Value {
    let body = sample.rsplit("\n\n").next().expect("a body");
    serde_json::from_str(body).expect("a JSON body")
}

async fn metadata_identity(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    match query_param(&req, "api-version").as_deref() {
        Some("2019-07-01-preview") => service_fabric(req, state).await,
        Some("2020-06-01") => azure_arc(req, state).await,
        _ => imds(req, state).await,
    }
}

/// Service Fabric: `Secret` header, api-version `2019-07-01-preview`; `expires_on` a number.
async fn service_fabric(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    if req.headers().get("Secret").is_none_or(|v| v != IDENTITY_HEADER) {
        return HttpResponse::Unauthorized()
            .json(serde_json::from_str::<Value>(WIRE_SERVICE_FABRIC_ERROR).expect("a JSON sample"));
    }
    let Some(resource) = query_param(&req, "resource") else {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"code": "ArgumentNullOrEmpty", "message": "resource"}}));
    };
    let (token, lifetime) = state.issue(&resource);
    let mut answer = http_body(WIRE_SERVICE_FABRIC);
    answer["access_token"] = token.into();
    answer["expires_on"] = (now() as u64 + lifetime).into();
    answer["resource"] = resource.into();
    HttpResponse::Ok().json(answer)
}

/// An answer in IMDS's shape (Azure Arc's agent and Cloud Shell answer as IMDS does: MSAL
/// reads them with its IMDS parser).
fn imds_shaped(state: &State, resource: String) -> HttpResponse {
    let (token, lifetime) = state.issue(&resource);
    let mut answer: Value = serde_json::from_str(WIRE_IMDS).unwrap();
    answer["access_token"] = token.into();
    answer["expires_in"] = lifetime.to_string().into();
    answer["expires_on"] = (now() as u64 + lifetime).to_string().into();
    answer["not_before"] = now().to_string().into();
    answer["resource"] = resource.into();
    HttpResponse::Ok().json(answer)
}

/// Azure Arc: a request without the key gets 401 naming the key file; one with it, a token.
async fn azure_arc(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let metadata = req.headers().get("Metadata").is_some_and(|v| v == "true");
    let (Some(resource), true) = (query_param(&req, "resource"), metadata) else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    };
    let Some((path, content)) = state.arc_key.lock().unwrap().clone() else {
        return HttpResponse::NotFound().finish();
    };
    match req.headers().get("Authorization") {
        None => {
            HttpResponse::Unauthorized().insert_header(("WWW-Authenticate", format!("Basic realm={path}"))).finish()
        }
        Some(value) if value.as_bytes() == format!("Basic {content}").as_bytes() => imds_shaped(&state, resource),
        Some(_) => HttpResponse::Unauthorized().finish(),
    }
}

/// Cloud Shell: `POST` with `Metadata: true` and a form with the resource.
async fn cloud_shell(
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    let metadata = req.headers().get("Metadata").is_some_and(|v| v == "true");
    match (form.get("resource"), metadata) {
        (Some(resource), true) => imds_shaped(&state, resource.clone()),
        _ => HttpResponse::BadRequest().json(serde_json::from_str::<Value>(WIRE_CLOUD_SHELL_ERROR).unwrap()),
    }
}

/// Azure ML: App Service 2017-09-01's shape with `secret` and `clientid`; `expires_on` an integer.
async fn azure_ml(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let secret_ok = req.headers().get("secret").is_some_and(|v| v == MSI_SECRET);
    let (Some("2017-09-01"), Some(resource), Some(client_id), true) = (
        query_param(&req, "api-version").as_deref(),
        query_param(&req, "resource"),
        query_param(&req, "clientid"),
        secret_ok,
    ) else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    };
    state.ml_client_ids.lock().unwrap().push(client_id);
    let (token, lifetime) = state.issue(&resource);
    let mut answer: Value = serde_json::from_str(WIRE_APP_SERVICE_2017).unwrap();
    answer["access_token"] = token.into();
    answer["expires_on"] = (now() as u64 + lifetime).into();
    answer["resource"] = resource.into();
    HttpResponse::Ok().json(answer)
}

async fn imds(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let metadata = req.headers().get("Metadata").is_some_and(|v| v == "true");
    let (Some("2018-02-01"), Some(resource), true) =
        (query_param(&req, "api-version").as_deref(), query_param(&req, "resource"), metadata)
    else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_request"}));
    };
    record_selector(&req, &state);
    imds_shaped(&state, resource)
}

async fn token_endpoint(
    tenant: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    let field = |name: &str| form.get(name).map(String::as_str);
    let proof_ok = match (field("client_secret"), field("client_assertion_type"), field("client_assertion")) {
        (Some(CLIENT_SECRET), None, None) => true,
        (None, Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), Some(assertion)) => {
            state.issued.lock().unwrap().assertions.push(assertion.to_owned());
            true
        }
        _ => false,
    };
    let scope = field("scope").unwrap_or_default();
    if field("grant_type") != Some("client_credentials") || field("client_id").is_none() || !proof_ok {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let Some(resource) = scope.strip_suffix("/.default") else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_scope"}));
    };
    state.issued.lock().unwrap().tenants.push(tenant.into_inner());
    let (token, lifetime) = state.issue(resource);
    let mut answer: Value = serde_json::from_str(WIRE_TOKEN_ENDPOINT).unwrap();
    answer["access_token"] = token.into();
    answer["expires_in"] = lifetime.into();
    answer["ext_expires_in"] = lifetime.into();
    if let Some(refresh_in) = *state.refresh_in.lock().unwrap() {
        answer["refresh_in"] = refresh_in.into();
    }
    HttpResponse::Ok().json(answer)
}
