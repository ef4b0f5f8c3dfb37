//! Push invalidation over HTTP: Event Grid deliveries of Key Vault events (Event Grid schema
//! and CloudEvents 1.0, in the shapes of `wire/`), both validation handshakes, who may post,
//! which vault an event is about, and bad input. The real server reads a fake Key Vault.

use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, error_with_debug};
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::http::{client, metric, send_body};
use vaultgate_tests::tokens::{self, entra_header};
use vaultgate_tests::{Reply, TestApp, send};

const EVENT_GRID_APP: &str = "4962773b-9cdb-44cf-a8bf-237846a00ab7";
const ROLE: &str = "AzureEventGridSecureWebhookSubscriber";
const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";
const V2: &str = "ee059b2bb5bc48398a53b168c6cdcb10";
/// The host the wire samples name; the fake vault's origin replaces it for "our" events.
const SAMPLE_VAULT: &str = "https://sample-kv.vault.azure.net";

const NEW_VERSION: &str = include_str!("../../wire/eventgrid-keyvault-secret-new-version-created.json");
const BATCH: &str = include_str!("../../wire/eventgrid-keyvault-secret-events-batch.json");
const CLOUD_EVENT: &str = include_str!("../../wire/cloudevents-keyvault-secret-new-version-created.json");
const VALIDATION: &str = include_str!("../../wire/eventgrid-subscription-validation-request.http");
const ENTRA_DELIVERY: &str = include_str!("../../wire/eventgrid-delivery-request-entra.http");
const DELIVERY_TOKEN: &str = include_str!("../../wire/eventgrid-delivery-access-token-v1.json");

/// The body of a recorded `.http` request.
fn http_body(sample: &str) -> Value {
    serde_json::from_str(sample.split_once("\n\n").unwrap().1).unwrap()
}

/// The vault's resource id as Event Grid writes it in `topic` (CloudEvents: `source`).
const SAMPLE_TOPIC: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/sample-kv";

/// The resource id of the vault at `url`: its name is the first label of its host (`127` for
/// the fake's `http://127.0.0.1:PORT`).
fn topic_of(url: &str) -> String {
    let host = url.split("://").nth(1).unwrap().split([':', '/']).next().unwrap();
    let name = host.split('.').next().unwrap();
    format!(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

/// A wire sample whose events come from `vault` (the fake's origin) instead of the sample's
/// vault: its object ids and its topic (or CloudEvents source).
fn about(sample: &str, vault: &str) -> String {
    assert!(sample.contains(SAMPLE_TOPIC) || !sample.contains("/vaults/"), "the samples name the sample vault");
    sample.replace(SAMPLE_VAULT, vault).replace(SAMPLE_TOPIC, &topic_of(vault))
}

/// Event Grid's delivery token, as local mode signs it: Event Grid's app, the role.
fn event_grid() -> String {
    tokens::valid_for(shared_key(), &[ROLE], Some("df247a9a-f64f-431a-873f-ffb36338b683"), Some(EVENT_GRID_APP))
}

async fn post(app: &TestApp, token: &str, content_type: &str, body: impl Into<String>) -> Reply {
    let request = client()
        .post(app.url("/events/keyvault"))
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .insert_header((CONTENT_TYPE, content_type));
    send_body(request, body.into()).await
}

async fn deliver(app: &TestApp, body: impl Into<String>) -> Reply {
    post(app, &event_grid(), "application/json", body).await
}

fn received(events: usize, invalidated: usize, ignored: usize) -> Value {
    json!({"events": events, "invalidated": invalidated, "ignored": ignored})
}

/// The fake vault holding `newsecret` at `V1`, and vaultgate caching it for an hour.
async fn cached_vault() -> (Azure, TestApp) {
    let azure = Azure::start();
    azure.vault.put("newsecret", FakeSecret::new(V1, "first-value"));
    let app = azure.app(&[("SECRET_CACHE_TTL", "3600")]).await;
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "first-value");
    // A new version appears in the vault; the cache still answers the old one.
    azure.vault.put("newsecret", FakeSecret::new(V2, "second-value"));
    assert_eq!(app.get_secret("/vault/NewSecret").await.json()["value"], "first-value");
    assert_eq!(azure.vault.gets_of("newsecret"), 2, "the challenge and one read");
    (azure, app)
}

#[actix_web::test]
async fn a_new_version_event_in_the_event_grid_schema_makes_the_next_read_fetch_it() {
    let (azure, app) = cached_vault().await;
    let answer = deliver(&app, about(NEW_VERSION, &azure.vault.url)).await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json(), received(1, 1, 0));
    let read = app.get_secret("/vault/newsecret").await;
    assert_eq!(read.json()["value"], "second-value");
    assert_eq!(read.json()["version"], V2);
    assert_eq!(azure.vault.gets_of("newsecret"), 3, "one more read, after the event");
    let metrics = app.metrics().await;
    assert_eq!(
        metric(&metrics, "vaultgate_keyvault_event_invalidations_total{event_type=\"SecretNewVersionCreated\"}"),
        1.0
    );
}

#[actix_web::test]
async fn an_event_for_one_secret_leaves_a_read_of_another_under_way_cached() {
    let (azure, app) = cached_vault().await;
    azure.vault.put("other", FakeSecret::new(V1, "other-value"));
    azure.vault.hold();
    let read = actix_web::rt::spawn({
        let request = client()
            .get(app.url("/vault/other"))
            .insert_header((AUTHORIZATION, format!("Bearer {}", tokens::valid(shared_key(), &["GetSecret"]))));
        send(request)
    });
    azure.vault.holding(1).await; // the read of `other` waits on Key Vault
    let answer = deliver(&app, about(NEW_VERSION, &azure.vault.url)).await;
    assert_eq!(answer.json(), received(1, 1, 0), "an event about newsecret");
    azure.vault.release();
    assert_eq!(read.await.unwrap().json()["value"], "other-value");
    assert_eq!(app.get_secret("/vault/other").await.json()["value"], "other-value");
    assert_eq!(azure.vault.gets_of("other"), 1, "the read under way was cached: the event named another secret");
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");
}

#[actix_web::test]
async fn a_new_version_cloud_event_does_the_same_as_an_object_or_in_a_batch() {
    let (azure, app) = cached_vault().await;
    let event = about(CLOUD_EVENT, &azure.vault.url);
    let answer = post(&app, &event_grid(), "application/cloudevents+json; charset=utf-8", event.clone()).await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json(), received(1, 1, 0));
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");

    let batch = format!("[{event},{event}]");
    let answer = post(&app, &event_grid(), "application/cloudevents-batch+json", batch).await;
    assert_eq!(answer.json(), received(2, 2, 0));
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");
    assert_eq!(azure.vault.gets_of("newsecret"), 4, "each invalidation costs one read");
}

#[actix_web::test]
async fn a_batch_drops_every_secret_it_names_and_ignores_other_events() {
    let azure = Azure::start();
    for name in ["newsecret", "db-password", "api-key", "democert"] {
        azure.vault.put(name, FakeSecret::new(V1, &format!("{name}-value")));
    }
    let app = azure.app(&[("SECRET_CACHE_TTL", "3600")]).await;
    for name in ["newsecret", "db-password", "api-key", "democert"] {
        assert_eq!(app.get_secret(&format!("/vault/{name}")).await.status, 200);
    }
    let mut events: Vec<Value> = serde_json::from_str(&about(BATCH, &azure.vault.url)).unwrap();
    // A certificate event (not a secret's: ignored) and one about another vault.
    events.extend(http_body(&about(ENTRA_DELIVERY, &azure.vault.url)).as_array().unwrap().iter().cloned());
    events.extend(serde_json::from_str::<Vec<Value>>(NEW_VERSION).unwrap());
    let answer = deliver(&app, Value::from(events).to_string()).await;
    assert_eq!(answer.json(), received(5, 3, 2));
    for name in ["newsecret", "db-password", "api-key", "democert"] {
        app.get_secret(&format!("/vault/{name}")).await;
    }
    assert_eq!(azure.vault.gets_of("db-password"), 2, "read again after SecretNearExpiry");
    assert_eq!(azure.vault.gets_of("api-key"), 2, "read again after SecretExpired");
    assert_eq!(azure.vault.gets_of("democert"), 1, "a certificate event drops no secret");
    let metrics = app.metrics().await;
    for label in ["SecretNewVersionCreated", "SecretNearExpiry", "SecretExpired"] {
        let name = format!("vaultgate_keyvault_event_invalidations_total{{event_type=\"{label}\"}}");
        assert_eq!(metric(&metrics, &name), 1.0, "{label}");
    }
    assert_eq!(metric(&metrics, "vaultgate_keyvault_events_ignored_total"), 2.0);
}

#[actix_web::test]
async fn events_about_another_vault_are_accepted_and_ignored() {
    let (azure, app) = cached_vault().await;
    let origin = azure.vault.url.clone(); // http://127.0.0.1:PORT
    let port: u16 = origin.rsplit(':').next().unwrap().parse().unwrap();
    let foreign_ids = [
        format!("{SAMPLE_VAULT}/secrets/newsecret/{V2}"),
        format!("http://127.0.0.1:{}/secrets/newsecret/{V2}", port + 1),
        format!("https://127.0.0.1:{port}/secrets/newsecret/{V2}"),
        format!("http://127.0.0.1.evil.example:{port}/secrets/newsecret/{V2}"),
        format!("http://user@127.0.0.1:{port}/secrets/newsecret/{V2}"),
        "not a URL".to_owned(),
    ];
    for id in &foreign_ids {
        let mut events: Vec<Value> = serde_json::from_str(NEW_VERSION).unwrap();
        events[0]["data"]["Id"] = json!(id);
        let answer = deliver(&app, Value::from(events).to_string()).await;
        assert_eq!(answer.status, 200, "{id}");
        assert_eq!(answer.json(), received(1, 0, 1), "{id}");
    }
    // Without an Id, the vault's name decides: the first label of KEY_VAULT_URL's host.
    let mut events: Vec<Value> = serde_json::from_str(NEW_VERSION).unwrap();
    events[0]["data"].as_object_mut().unwrap().remove("Id");
    assert_eq!(deliver(&app, Value::from(events.clone()).to_string()).await.json(), received(1, 0, 1), "sample-kv");
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "first-value", "still cached");
    assert_eq!(azure.vault.gets_of("newsecret"), 2);
    events[0]["data"]["VaultName"] = json!("127");
    assert_eq!(
        deliver(&app, Value::from(events.clone()).to_string()).await.json(),
        received(1, 0, 1),
        "topic sample-kv"
    );
    events[0]["topic"] = json!(topic_of(&azure.vault.url));
    assert_eq!(deliver(&app, Value::from(events).to_string()).await.json(), received(1, 1, 0), "our vault's name");
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");
}

#[actix_web::test]
async fn events_whose_topic_or_source_is_not_our_vaults_resource_id_are_ignored() {
    let (azure, app) = cached_vault().await;
    let ours = topic_of(&azure.vault.url);
    let foreign_topics = [
        json!(SAMPLE_TOPIC),
        json!(ours.replace("/vaults/127", "/vaults/1270")),
        json!(format!("{ours}/secrets/newsecret")),
        json!(ours.replace("Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts")),
        json!(ours.replace("/resourceGroups/sample-rg", "/resourceGroups/")),
        json!(ours.replace("/subscriptions/00000000-0000-0000-0000-000000000000", "/subscriptions/a/b")),
        json!(format!("https://evil.example{ours}")),
        json!(ours.trim_start_matches('/')),
        json!(""),
        json!(7),
        Value::Null,
    ];
    let event_grid_event: Vec<Value> = serde_json::from_str(&about(NEW_VERSION, &azure.vault.url)).unwrap();
    let cloud_event: Value = serde_json::from_str(&about(CLOUD_EVENT, &azure.vault.url)).unwrap();
    for topic in &foreign_topics {
        let mut events = event_grid_event.clone();
        events[0]["topic"] = topic.clone();
        assert_eq!(deliver(&app, Value::from(events).to_string()).await.json(), received(1, 0, 1), "topic {topic}");
        let mut event = cloud_event.clone();
        event["source"] = topic.clone();
        let answer = post(&app, &event_grid(), "application/cloudevents+json", event.to_string()).await;
        assert_eq!(answer.json(), received(1, 0, 1), "source {topic}");
    }
    // Neither field at all.
    let mut events = event_grid_event.clone();
    events[0].as_object_mut().unwrap().remove("topic");
    assert_eq!(deliver(&app, Value::from(events).to_string()).await.json(), received(1, 0, 1), "no topic");
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "first-value", "still cached");
    assert_eq!(azure.vault.gets_of("newsecret"), 2);
    let metrics = app.metrics().await;
    let ignored = 2 * foreign_topics.len() + 1;
    assert_eq!(metric(&metrics, "vaultgate_keyvault_events_ignored_total"), ignored as f64);

    // Our resource id in any case (Azure resource ids are case-insensitive) is ours.
    let mut event = cloud_event.clone();
    event["source"] = json!(ours.to_lowercase());
    let answer = post(&app, &event_grid(), "application/cloudevents+json", event.to_string()).await;
    assert_eq!(answer.json(), received(1, 1, 0));
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");
}

#[actix_web::test]
async fn only_deliveries_from_the_home_tenant_count_in_a_multi_tenant_setup() {
    const OTHER_TENANT: &str = "3c6a8f0e-2b1d-4e5f-9a7b-8c9d0e1f2a3b";
    let key = vaultgate_tests::app::extra_key(0);
    let entra = FakeEntra::start(&[key]);
    let azure = Azure::start();
    azure.vault.put("newsecret", FakeSecret::new(V1, "first-value"));
    let app = azure
        .app(&[
            ("VAULTGATE_MODE", "azure"),
            ("TENANT_ID", TENANT),
            ("ALLOWED_TENANTS", OTHER_TENANT),
            ("AD_SERVER_APP_ID", APP_ID),
            ("AUTHORITY_HOST", entra.base_url.as_str()),
        ])
        .await;
    // Event Grid's delivery token (the wire sample's claims) as issued in `tenant`.
    let delivery_token = |tenant: &str| {
        let sample: Value = serde_json::from_str(DELIVERY_TOKEN).unwrap();
        let mut claims = sample["claims"].clone();
        let now = tokens::now();
        claims["aud"] = json!(APP_ID);
        claims["iss"] = json!(format!("https://sts.windows.net/{tenant}/"));
        claims["idp"] = claims["iss"].clone();
        claims["tid"] = json!(tenant);
        claims["iat"] = json!(now);
        claims["nbf"] = json!(now);
        claims["exp"] = json!(now + 3600);
        claims["roles"] = json!([ROLE]);
        key.sign_with_header(&entra_header(&sample["header"], key), &claims)
    };
    let (home, other) = (delivery_token(TENANT), delivery_token(OTHER_TENANT));
    let event = about(NEW_VERSION, &azure.vault.url);

    // The other tenant's Event Grid passes authentication (its tenant is allowed) but its
    // events, the validation handshake included, are ignored and counted.
    let answer = post(&app, &other, "application/json", event.clone()).await;
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json(), received(1, 0, 1));
    let validation = post(&app, &other, "application/json", http_body(VALIDATION).to_string()).await;
    assert_eq!(validation.json(), received(1, 0, 1), "no validationResponse for another tenant");
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_keyvault_events_ignored_total"), 2.0);
    let options = |token: &str| {
        send(
            client()
                .request(Method::OPTIONS, app.url("/events/keyvault"))
                .insert_header((AUTHORIZATION, format!("Bearer {token}")))
                .insert_header(("WebHook-Request-Origin", "eventgrid.azure.net")),
        )
    };
    let refused = options(&other).await;
    assert_eq!(refused.status, 403, "no CloudEvents consent for another tenant");
    assert_eq!(refused.header("webhook-allowed-origin"), None);
    assert_eq!(
        refused.json(),
        error_with_debug(
            "MissingRequiredRole",
            "Access token missing required roles.",
            "Key Vault events are accepted from the home tenant's Event Grid only"
        )
    );
    assert_eq!(options(&home).await.header("webhook-allowed-origin"), Some("eventgrid.azure.net"));

    let answer = post(&app, &home, "application/json", event).await;
    assert_eq!(answer.json(), received(1, 1, 0));
    let validation = post(&app, &home, "application/json", http_body(VALIDATION).to_string()).await;
    assert_eq!(validation.json(), json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}));
}

#[actix_web::test]
async fn data_fields_match_in_any_case_and_nbf_exp_may_be_numbers() {
    let (azure, app) = cached_vault().await;
    let event = json!([{
        "id": "1", "topic": topic_of(&azure.vault.url).to_uppercase(), "subject": "newsecret",
        "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
        "eventTime": "2023-11-23T15:53:16.3658314Z",
        "data": {"id": format!("{}/secrets/newsecret/{V2}", azure.vault.url), "vaultName": "x", "objectName": "NEWSECRET", "nbf": 1, "exp": 2},
        "dataVersion": "1", "metadataVersion": "1"
    }]);
    assert_eq!(deliver(&app, event.to_string()).await.json(), received(1, 1, 0));
    assert_eq!(app.get_secret("/vault/newsecret").await.json()["value"], "second-value");
}

#[actix_web::test]
async fn the_event_grid_validation_handshake_answers_the_code() {
    let app = TestApp::spawn().await;
    let answer = deliver(&app, http_body(VALIDATION).to_string()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}));
    // Without a token there is no handshake: Event Grid's Entra delivery sends one.
    let anonymous = send_body(
        client().post(app.url("/events/keyvault")).insert_header((CONTENT_TYPE, "application/json")),
        http_body(VALIDATION).to_string(),
    )
    .await;
    assert_eq!(anonymous.status, 401);
}

#[actix_web::test]
async fn the_cloud_events_handshake_grants_the_origin() {
    let app = TestApp::spawn().await;
    let options = |token: Option<String>, origin: Option<&str>| {
        let mut request = client().request(Method::OPTIONS, app.url("/events/keyvault"));
        if let Some(token) = token {
            request = request.insert_header((AUTHORIZATION, format!("Bearer {token}")));
        }
        if let Some(origin) = origin {
            request = request.insert_header(("WebHook-Request-Origin", origin));
        }
        send(request)
    };
    let answer = options(Some(event_grid()), Some("eventgrid.azure.net")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("webhook-allowed-origin"), Some("eventgrid.azure.net"));
    assert_eq!(answer.header("webhook-allowed-rate"), Some("*"));
    assert_eq!(answer.header("allow"), Some("POST"));
    assert!(answer.body.is_empty());

    let no_origin = options(Some(event_grid()), None).await;
    assert_eq!(no_origin.status, 400);
    assert_eq!(
        no_origin.json(),
        error_with_debug(
            "InvalidRequest",
            "The request could not be parsed.",
            "the handshake needs WebHook-Request-Origin: a host name"
        )
    );
    assert_eq!(options(Some(event_grid()), Some("evil.example/../x")).await.status, 400);
    assert_eq!(options(None, Some("eventgrid.azure.net")).await.status, 401);
    let other_app = tokens::valid_for(shared_key(), &[ROLE], None, Some("test-client"));
    assert_eq!(options(Some(other_app), Some("eventgrid.azure.net")).await.status, 403);
}

#[actix_web::test]
async fn only_event_grid_holding_the_role_may_post() {
    let app = TestApp::spawn().await;
    let body = http_body(VALIDATION).to_string();
    let anonymous = send_body(
        client().post(app.url("/events/keyvault")).insert_header((CONTENT_TYPE, "application/json")),
        body.clone(),
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.json(),
        error("AuthorizationHeaderMissing", "Authorization header is missing from the request")
    );

    // A reader of secrets is not Event Grid.
    let reader = tokens::valid_for(shared_key(), &["GetSecret"], None, Some(EVENT_GRID_APP));
    let answer = post(&app, &reader, "application/json", body.clone()).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        error_with_debug(
            "MissingRequiredRole",
            "Access token missing required roles.",
            "Missing required role for accessing path /events/keyvault"
        )
    );
    assert!(answer.header("www-authenticate").unwrap().contains(ROLE), "the challenge names the role");

    // The role held by another application (a role assigned by mistake) is not enough.
    let other_app = tokens::valid_for(shared_key(), &[ROLE], None, Some("test-client"));
    let answer = post(&app, &other_app, "application/json", body.clone()).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        error_with_debug(
            "MissingRequiredRole",
            "Access token missing required roles.",
            "Key Vault events are accepted from Azure Event Grid's application only"
        )
    );

    // No roles claim at all (Event Grid's token before the role is assigned to it).
    let no_roles = tokens::valid_for(shared_key(), &[], None, Some(EVENT_GRID_APP));
    assert_eq!(post(&app, &no_roles, "application/json", body).await.status, 403);
}

#[actix_web::test]
async fn event_grid_role_names_the_role_to_hold() {
    let app = TestApp::spawn_with(&[("EVENT_GRID_ROLE", "Events.Deliver")]).await;
    let body = http_body(VALIDATION).to_string();
    assert_eq!(post(&app, &event_grid(), "application/json", body.clone()).await.status, 403, "the default role");
    let custom = tokens::valid_for(shared_key(), &["Events.Deliver"], None, Some(EVENT_GRID_APP));
    assert_eq!(post(&app, &custom, "application/json", body).await.status, 200);
}

#[actix_web::test]
async fn event_grids_own_delivery_token_passes_in_azure_mode_once_the_role_is_assigned() {
    let key = vaultgate_tests::app::extra_key(0);
    let entra = FakeEntra::start(&[key]);
    let app = TestApp::spawn_with(&[
        ("TENANT_ID", TENANT),
        ("AD_SERVER_APP_ID", APP_ID),
        ("AUTHORITY_HOST", entra.base_url.as_str()),
    ])
    .await;
    let sample: Value = serde_json::from_str(DELIVERY_TOKEN).unwrap();
    let mut claims = sample["claims"].clone();
    let now = tokens::now();
    claims["aud"] = json!(APP_ID); // the webhook app's client id, as the subscription names it
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(now + 86_700);
    let header = entra_header(&sample["header"], key);
    let body = http_body(VALIDATION).to_string();

    let as_captured = key.sign_with_header(&header, &claims);
    let answer = post(&app, &as_captured, "application/json", body.clone()).await;
    assert_eq!(answer.status, 403, "no roles claim: the app role was not assigned to Event Grid");
    assert_eq!(answer.json(), error("MissingRoles", "Access token missing roles."));

    claims["roles"] = json!([ROLE]);
    let assigned = key.sign_with_header(&header, &claims);
    let answer = post(&app, &assigned, "application/json", body).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}));
}

#[actix_web::test]
async fn bad_deliveries_get_400_or_415_from_the_catalog() {
    let azure = Azure::start();
    let app = azure.app(&[]).await;
    let invalid = |debug: &str| error_with_debug("InvalidRequest", "The request could not be parsed.", debug);
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "the body is not JSON"),
        ("\"events\"".into(), "a delivery is a JSON array of events or one event object"),
        ("[]".into(), "a delivery holds at least one event"),
        ("[1]".into(), "each event is a JSON object"),
        ("[{\"data\": {}}]".into(), "each event has a type (`eventType`, or `type` with `specversion`)"),
        (
            "{\"specversion\": \"1.0\", \"eventType\": \"x\"}".into(),
            "each event has a type (`eventType`, or `type` with `specversion`)",
        ),
        ("[{\"eventType\": \"x\", \"data\": \"text\"}]".into(), "an event's data is an object"),
        (
            "[{\"eventType\": \"Microsoft.EventGrid.SubscriptionValidationEvent\", \"data\": {}}]".into(),
            "a validation event carries data.validationCode",
        ),
        ("[{\"eventType\": \"Microsoft.KeyVault.SecretExpired\"}]".into(), "a Key Vault event carries data"),
        (
            "[{\"eventType\": \"Microsoft.KeyVault.SecretExpired\", \"data\": {\"VaultName\": \"127\"}}]".into(),
            "a Key Vault event carries data.ObjectName",
        ),
        (
            "[{\"eventType\": \"Microsoft.KeyVault.SecretExpired\", \"data\": {\"ObjectName\": \"no/such name\"}}]"
                .into(),
            "data.ObjectName is not a secret name",
        ),
        (
            "[{\"eventType\": \"Microsoft.KeyVault.SecretExpired\", \"data\": {\"ObjectName\": \"a\", \"Id\": 7}}]"
                .into(),
            "data.Id is a string",
        ),
    ];
    for (body, debug) in cases {
        let answer = deliver(&app, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.json(), invalid(debug), "{body}");
    }
    let unsupported = error_with_debug(
        "InvalidContentType",
        "Content-Type is not supported",
        "deliveries are application/json or application/cloudevents(-batch)+json",
    );
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
        let answer = post(&app, &event_grid(), content_type, NEW_VERSION).await;
        assert_eq!(answer.status, 415, "{content_type}");
        assert_eq!(answer.json(), unsupported, "{content_type}");
    }
    let without = send_body(
        client().post(app.url("/events/keyvault")).insert_header((AUTHORIZATION, format!("Bearer {}", event_grid()))),
        NEW_VERSION,
    )
    .await;
    assert_eq!(without.status, 415);
}

#[actix_web::test]
async fn a_batch_of_event_grids_maximum_is_one_request_and_more_is_refused() {
    let app = TestApp::spawn().await;
    let event = json!({"eventType": "Microsoft.Storage.BlobCreated", "data": {}});
    let batch = |n: usize| Value::from(vec![event.clone(); n]).to_string();
    assert_eq!(deliver(&app, batch(5_000)).await.json(), received(5_000, 0, 5_000));
    let answer = deliver(&app, batch(5_001)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        error_with_debug("InvalidRequest", "The request could not be parsed.", "a delivery holds at most 5000 events")
    );
    // A body past 2 MiB is refused without being read whole.
    let padding = "x".repeat(2 * 1024 * 1024);
    let answer = deliver(&app, format!("[{{\"eventType\": \"{padding}\"}}]")).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.json(),
        error_with_debug(
            "RequestBodyTooLarge",
            "Request body is too large.",
            "The body may hold at most 2097152 bytes"
        )
    );
    // A delivery near Event Grid's 1 MB is read.
    let big = json!([{"eventType": "Microsoft.Storage.BlobCreated", "data": {"blob": "y".repeat(1_000_000)}}]);
    assert_eq!(deliver(&app, big.to_string()).await.json(), received(1, 0, 1));
}
