//! A fake Azure Key Vault on loopback: `GET /secrets/{name}/{version}` and the paged list
//! `GET /secrets` in the shapes of `wire/`, the 401 challenge for tokens not issued for it, request counts, and faults on
//! demand (429, 503, 500, 403, 401, bad JSON, stalls). Names are case-insensitive, as in
//! Key Vault: a secret is found whatever the request's casing, and its `id` carries the
//! name as it was stored.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::fake_identity::Issued;
use crate::tokens::now;

const WIRE_200: &str = include_str!("../wire/keyvault-get-secret-200.json");
const WIRE_404: &str = include_str!("../wire/keyvault-404-secret-not-found.json");
const WIRE_403_DISABLED: &str = include_str!("../wire/keyvault-403-secret-disabled.json");
const WIRE_403_RBAC: &str = include_str!("../wire/keyvault-403-forbidden-by-rbac.json");
const WIRE_429: &str = include_str!("../wire/keyvault-429-throttled.http");
const WIRE_401: &str = include_str!("../wire/keyvault-401-challenge.http");
const WIRE_LIST_PAGE: &str = include_str!("../wire/keyvault-list-secrets-page-last.json");
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// One version of a secret.
#[derive(Debug, Clone)]
pub struct FakeSecret {
    pub version: String,
    pub value: String,
    pub content_type: Option<String>,
    pub enabled: bool,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    /// Tags, as the list shows them (`None`: no `tags` field, as in the SDK recordings).
    pub tags: Option<Value>,
}

impl FakeSecret {
    pub fn new(version: &str, value: &str) -> Self {
        FakeSecret {
            version: version.into(),
            value: value.into(),
            content_type: Some("text/plain".into()),
            enabled: true,
            nbf: Some(now() - 3600),
            exp: Some(now() + 86_400),
            tags: None,
        }
    }
}

/// How the fake pages its list: Key Vault decides its pages itself, and answers empty pages
/// that still carry a `nextLink` (as recorded), which a pager must follow.
#[derive(Debug, Clone)]
pub struct Paging {
    /// Items per page (Key Vault's default is 25; the request's `maxresults` lowers it).
    pub page_size: usize,
    /// Empty pages (with a `nextLink`) answered before the first item.
    pub empty_pages_first: usize,
    /// When set, `nextLink`s point at this origin instead of the vault's own.
    pub link_origin: Option<String>,
}

impl Default for Paging {
    fn default() -> Self {
        Paging { page_size: 25, empty_pages_first: 0, link_origin: None }
    }
}

/// What the next request gets instead of its answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with these headers (e.g. `("retry-after-ms", "20")`).
    Throttled(Vec<(&'static str, String)>),
    /// 503 with these headers.
    Unavailable(Vec<(&'static str, String)>),
    ServerError,
    /// This status with a Key Vault error body (408, 502, 504, ...).
    Status(u16),
    ForbiddenByRbac,
    /// 401 with the challenge, even for a good token.
    Unauthorized,
    BadJson,
    /// 404 from something that is not Key Vault (a misrouted host): no `SecretNotFound` code.
    ForeignNotFound,
    /// Never answers.
    Stall,
}

struct State {
    origin: String,
    /// What resource a token must have been issued for; `None` accepts the public cloud's.
    resource: String,
    issued: Arc<Mutex<Issued>>,
    /// By lower-cased name: the name as stored, and its versions.
    secrets: Mutex<HashMap<String, (String, Vec<FakeSecret>)>>,
    faults: Mutex<VecDeque<Fault>>,
    /// The tenant the challenge names (the wire sample's by default).
    tenant: Mutex<String>,
    gets: AtomicUsize,
    challenged: AtomicUsize,
    /// Secret GETs that carried no `Authorization` header at all.
    unauthenticated: AtomicUsize,
    gets_by_name: Mutex<HashMap<String, usize>>,
    /// List pages answered (`GET /secrets`), and how the list is paged.
    list_pages: AtomicUsize,
    paging: Mutex<Paging>,
    /// Secret GETs being answered right now, and a gate that holds them when closed.
    held: watch::Sender<usize>,
    gate: watch::Sender<bool>,
}

pub struct FakeKeyVault {
    pub url: String,
    state: Arc<State>,
}

impl FakeKeyVault {
    /// A vault that accepts tokens `issued` for its own origin (so the first request with a
    /// default-scope token meets the challenge flow), or for `https://vault.azure.net`
    /// when `accept_public_cloud_tokens`.
    pub fn start(issued: Arc<Mutex<Issued>>, accept_public_cloud_tokens: bool) -> FakeKeyVault {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let resource = if accept_public_cloud_tokens { "https://vault.azure.net".to_owned() } else { origin.clone() };
        let state = Arc::new(State {
            origin: origin.clone(),
            resource,
            issued,
            secrets: Mutex::new(HashMap::new()),
            faults: Mutex::new(VecDeque::new()),
            tenant: Mutex::new(TENANT.to_owned()),
            gets: AtomicUsize::new(0),
            challenged: AtomicUsize::new(0),
            unauthenticated: AtomicUsize::new(0),
            gets_by_name: Mutex::new(HashMap::new()),
            list_pages: AtomicUsize::new(0),
            paging: Mutex::new(Paging::default()),
            held: watch::channel(0).0,
            gate: watch::channel(true).0,
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/secrets", web::get().to(list_secrets))
                .route("/secrets/{name}/", web::get().to(get_secret))
                .route("/secrets/{name}/versions", web::get().to(list_versions))
                .route("/secrets/{name}/{version}", web::get().to(get_secret))
        })
        .workers(1)
        .listen(listener)
        .expect("the fake Key Vault listens")
        .run();
        actix_web::rt::spawn(server);
        FakeKeyVault { url: origin, state }
    }

    /// Adds a version of `name`; the first `put` of a name fixes its stored casing.
    pub fn put(&self, name: &str, secret: FakeSecret) {
        let mut secrets = self.state.secrets.lock().unwrap();
        secrets.entry(name.to_ascii_lowercase()).or_insert_with(|| (name.to_owned(), Vec::new())).1.push(secret);
    }

    /// Disables one version of `name`, as an administrator would in the portal.
    pub fn disable(&self, name: &str, version: &str) {
        let mut secrets = self.state.secrets.lock().unwrap();
        let (_, versions) = secrets.get_mut(&name.to_ascii_lowercase()).expect("a stored secret");
        versions.iter_mut().filter(|s| s.version == version).for_each(|s| s.enabled = false);
    }

    /// How the list is paged from now on.
    pub fn page_list(&self, paging: Paging) {
        *self.state.paging.lock().unwrap() = paging;
    }

    /// List pages answered (`GET /secrets`, challenged requests not included).
    pub fn list_pages(&self) -> usize {
        self.state.list_pages.load(Ordering::SeqCst)
    }

    /// Makes the challenge name another tenant (a vault in another directory, or a forged one).
    pub fn challenge_tenant(&self, tenant: &str) {
        *self.state.tenant.lock().unwrap() = tenant.to_owned();
    }

    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults.lock().unwrap().extend(faults);
    }

    /// Secret GETs received (challenged ones included).
    pub fn gets(&self) -> usize {
        self.state.gets.load(Ordering::SeqCst)
    }

    /// Secret GETs of `name`, in any casing.
    pub fn gets_of(&self, name: &str) -> usize {
        self.state.gets_by_name.lock().unwrap().get(&name.to_ascii_lowercase()).copied().unwrap_or(0)
    }

    /// Requests answered with the 401 challenge.
    pub fn challenges(&self) -> usize {
        self.state.challenged.load(Ordering::SeqCst)
    }

    /// Secret GETs that carried no token (the SDKs' first request to a vault).
    pub fn unauthenticated(&self) -> usize {
        self.state.unauthenticated.load(Ordering::SeqCst)
    }

    /// Holds secret answers until `release` (to make callers overlap).
    pub fn hold(&self) {
        self.state.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.state.gate.send_replace(true);
    }

    /// Waits until `count` answers are being held.
    pub async fn holding(&self, count: usize) {
        let mut held = self.state.held.subscribe();
        let wait = held.wait_for(|n| *n >= count);
        actix_web::rt::time::timeout(std::time::Duration::from_secs(10), wait)
            .await
            .expect("requests reached the fake Key Vault in time")
            .expect("the fake is alive");
    }
}

/// Status line, headers and body of a recorded `.http` sample.
fn recorded(sample: &str) -> (u16, Vec<(String, String)>, String) {
    let (head, body) = sample.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    (status, headers, body.trim().to_owned())
}

fn answer_recorded(sample: &str, extra: &[(&'static str, String)], replace: &[(&str, &str)]) -> HttpResponse {
    let (status, headers, body) = recorded(sample);
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    for (name, value) in headers {
        let value = replace.iter().fold(value, |v, (from, to)| v.replace(from, to));
        response.insert_header((name, value));
    }
    for (name, value) in extra {
        response.insert_header((*name, value.clone()));
    }
    response.body(body)
}

fn challenge(state: &State) -> HttpResponse {
    state.challenged.fetch_add(1, Ordering::SeqCst);
    let tenant = state.tenant.lock().unwrap().clone();
    answer_recorded(WIRE_401, &[], &[("https://vault.azure.net", &state.resource), (TENANT, &tenant)])
}

/// Whether the request carries a token issued for this vault (counting token-less ones).
fn token_ok(req: &HttpRequest, state: &State) -> bool {
    let token =
        req.headers().get("Authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if req.headers().get("Authorization").is_none() {
        state.unauthenticated.fetch_add(1, Ordering::SeqCst);
    }
    token.is_some_and(|t| state.issued.lock().unwrap().tokens.get(t) == Some(&state.resource))
}

/// A list request as Key Vault checks it (the api-version, then the token), counted as a list
/// page answered: its query, or the answer refusing it.
fn list_request(req: &HttpRequest, state: &State) -> Result<HashMap<String, String>, Box<HttpResponse>> {
    let query: HashMap<String, String> = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    if query.get("api-version").map(String::as_str) != Some("2025-07-01") {
        let refused =
            HttpResponse::BadRequest().json(json!({"error": {"code": "BadParameter", "message": "api-version"}}));
        return Err(Box::new(refused));
    }
    if !token_ok(req, state) {
        return Err(Box::new(challenge(state)));
    }
    state.list_pages.fetch_add(1, Ordering::SeqCst);
    Ok(query)
}

/// `GET /secrets?api-version=...[&maxresults=N][&$skiptoken=T]`: one page of the list in the
/// wire sample's shape (items without values or versions), `nextLink` null on the last page.
/// The skip token is opaque to clients (here: the offset of the page it starts).
async fn list_secrets(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let query = match list_request(&req, &state) {
        Ok(query) => query,
        Err(refused) => return *refused,
    };
    match state.faults.lock().unwrap().pop_front() {
        None => {}
        // As users report it for a list: the same shape, for the list's own action.
        Some(Fault::ForbiddenByRbac) => {
            let body = WIRE_403_RBAC.trim().replace("secrets/getSecret/action", "secrets/readMetadata/action");
            return HttpResponse::Forbidden().content_type("application/json").body(body);
        }
        Some(Fault::ServerError) => {
            return HttpResponse::InternalServerError()
                .json(json!({"error": {"code": "InternalError", "message": "oops"}}));
        }
        Some(Fault::BadJson) => return HttpResponse::Ok().content_type("application/json").body("{\"value\": [tr"),
        Some(other) => return HttpResponse::NotImplemented().body(format!("the fake's list does not play {other:?}")),
    }
    let paging = state.paging.lock().unwrap().clone();
    let size = query.get("maxresults").and_then(|m| m.parse().ok()).unwrap_or(25).min(paging.page_size).max(1);
    // Tokens: `empty-N` for the empty pages that come first, `at-N` for the page starting at item N.
    let token = query
        .get("$skiptoken")
        .cloned()
        .unwrap_or_else(|| if paging.empty_pages_first > 0 { "empty-0".to_owned() } else { "at-0".to_owned() });
    let link_origin = paging.link_origin.clone().unwrap_or_else(|| state.origin.clone());
    let link = |token: String| {
        Value::String(format!("{link_origin}/secrets?api-version=2025-07-01&$skiptoken={token}&maxresults={size}"))
    };
    let mut page: Value = serde_json::from_str(WIRE_LIST_PAGE).unwrap();
    if let Some(empty) = token.strip_prefix("empty-").and_then(|n| n.parse::<usize>().ok()) {
        let next = if empty + 1 < paging.empty_pages_first { format!("empty-{}", empty + 1) } else { "at-0".into() };
        page["value"] = json!([]);
        page["nextLink"] = link(next);
        return HttpResponse::Ok().json(page);
    }
    let Some(start) = token.strip_prefix("at-").and_then(|n| n.parse::<usize>().ok()) else {
        return HttpResponse::BadRequest().json(json!({"error": {"code": "BadParameter", "message": "$skiptoken"}}));
    };
    let secrets = state.secrets.lock().unwrap();
    let mut names: Vec<&(String, Vec<FakeSecret>)> = secrets.values().collect();
    names.sort_by_key(|(stored, _)| stored.clone());
    let template = page["value"][0].clone();
    let items: Vec<Value> = names
        .iter()
        .skip(start)
        .take(size)
        .map(|(stored, versions)| {
            let current = versions.last().expect("a stored secret has a version");
            let mut item = template.clone();
            let object = item.as_object_mut().unwrap();
            object.remove("managed");
            object.insert("id".into(), format!("{}/secrets/{stored}", state.origin).into());
            match &current.content_type {
                Some(content_type) => object.insert("contentType".into(), content_type.clone().into()),
                None => object.remove("contentType"),
            };
            if let Some(tags) = &current.tags {
                object.insert("tags".into(), tags.clone());
            }
            let attributes = object["attributes"].as_object_mut().unwrap();
            attributes.insert("enabled".into(), current.enabled.into());
            for (field, value) in [("nbf", current.nbf), ("exp", current.exp)] {
                match value {
                    Some(value) => attributes.insert(field.into(), value.into()),
                    None => attributes.remove(field),
                };
            }
            item
        })
        .collect();
    page["nextLink"] = if start + size < names.len() { link(format!("at-{}", start + size)) } else { Value::Null };
    page["value"] = Value::Array(items);
    HttpResponse::Ok().json(page)
}

/// Get Secret Versions: every version of one secret, oldest first, paged by the fake's page
/// size (or `maxresults`) with `at-N` skip tokens; 404 `SecretNotFound` for an unknown name.
async fn list_versions(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let query = match list_request(&req, &state) {
        Ok(query) => query,
        Err(refused) => return *refused,
    };
    let name = req.match_info().get("name").unwrap_or_default().to_owned();
    let secrets = state.secrets.lock().unwrap();
    let Some((stored, versions)) = secrets.get(&name.to_ascii_lowercase()) else {
        return HttpResponse::NotFound()
            .content_type("application/json")
            .body(WIRE_404.trim().replace("db-password", &name));
    };
    let paging = state.paging.lock().unwrap().clone();
    let size = query.get("maxresults").and_then(|m| m.parse().ok()).unwrap_or(25).min(paging.page_size).max(1);
    let start = match query.get("$skiptoken") {
        None => 0,
        Some(token) => match token.strip_prefix("at-").and_then(|n| n.parse::<usize>().ok()) {
            Some(start) => start,
            None => {
                return HttpResponse::BadRequest()
                    .json(json!({"error": {"code": "BadParameter", "message": "$skiptoken"}}));
            }
        },
    };
    let items: Vec<Value> = versions
        .iter()
        .skip(start)
        .take(size)
        .map(|version| {
            let mut item = json!({
                "id": format!("{}/secrets/{stored}/{}", state.origin, version.version),
                "attributes": {"enabled": version.enabled, "created": 1_665_617_931, "updated": 1_665_617_931,
                               "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
            });
            if let Some(content_type) = &version.content_type {
                item["contentType"] = content_type.clone().into();
            }
            for (field, value) in [("nbf", version.nbf), ("exp", version.exp)] {
                if let Some(value) = value {
                    item["attributes"][field] = value.into();
                }
            }
            item
        })
        .collect();
    let next_link = (start + size < versions.len()).then(|| {
        format!(
            "{}/secrets/{stored}/versions?api-version=2025-07-01&$skiptoken=at-{}&maxresults={size}",
            state.origin,
            start + size
        )
    });
    HttpResponse::Ok().json(json!({"value": items, "nextLink": next_link}))
}

async fn get_secret(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    state.gets.fetch_add(1, Ordering::SeqCst);
    let name = req.match_info().get("name").unwrap_or_default().to_owned();
    let version = req.match_info().get("version").map(str::to_owned);
    *state.gets_by_name.lock().unwrap().entry(name.to_ascii_lowercase()).or_default() += 1;
    if !req.query_string().contains("api-version=2025-07-01") {
        return HttpResponse::BadRequest().json(json!({"error": {"code": "BadParameter", "message": "api-version"}}));
    }
    if !token_ok(&req, &state) {
        return challenge(&state);
    }

    state.held.send_modify(|n| *n += 1);
    let mut gate = state.gate.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    state.held.send_modify(|n| *n -= 1);

    let fault = state.faults.lock().unwrap().pop_front();
    match fault {
        None => {}
        Some(Fault::Throttled(headers)) => return answer_recorded(WIRE_429, &headers, &[]),
        Some(Fault::Unavailable(headers)) => {
            let mut response = HttpResponse::ServiceUnavailable();
            for (name, value) in headers {
                response.insert_header((name, value));
            }
            return response.json(json!({"error": {"code": "ServiceUnavailable", "message": "Try again later."}}));
        }
        Some(Fault::ServerError) => {
            return HttpResponse::InternalServerError()
                .json(json!({"error": {"code": "InternalError", "message": "oops"}}));
        }
        Some(Fault::Status(status)) => {
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .json(json!({"error": {"code": "ServiceError", "message": "Try again."}}));
        }
        Some(Fault::ForbiddenByRbac) => {
            return HttpResponse::Forbidden().content_type("application/json").body(WIRE_403_RBAC.trim());
        }
        Some(Fault::Unauthorized) => return challenge(&state),
        Some(Fault::BadJson) => return HttpResponse::Ok().content_type("application/json").body("{\"value\": \"trunc"),
        Some(Fault::ForeignNotFound) => {
            return HttpResponse::NotFound().content_type("text/html").body("<h1>404 Not Found</h1>");
        }
        Some(Fault::Stall) => std::future::pending::<()>().await,
    }

    let secrets = state.secrets.lock().unwrap();
    let found = secrets.get(&name.to_ascii_lowercase()).and_then(|(stored, versions)| {
        let secret = match &version {
            None => versions.last(),
            Some(v) => versions.iter().find(|s| &s.version == v),
        };
        secret.map(|secret| (stored.as_str(), secret))
    });
    let Some((stored, secret)) = found else {
        return HttpResponse::NotFound()
            .content_type("application/json")
            .body(WIRE_404.trim().replace("db-password", &name));
    };
    if !secret.enabled {
        return HttpResponse::Forbidden().content_type("application/json").body(WIRE_403_DISABLED.trim());
    }
    let mut bundle: Value = serde_json::from_str(WIRE_200).unwrap();
    bundle["value"] = secret.value.clone().into();
    bundle["id"] = format!("{}/secrets/{stored}/{}", state.origin, secret.version).into();
    bundle["contentType"] = secret.content_type.clone().map_or(Value::Null, Value::String);
    bundle["attributes"]["enabled"] = secret.enabled.into();
    bundle["attributes"]["nbf"] = secret.nbf.map_or(Value::Null, Value::from);
    bundle["attributes"]["exp"] = secret.exp.map_or(Value::Null, Value::from);
    HttpResponse::Ok().json(bundle)
}
