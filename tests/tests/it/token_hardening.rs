//! Token hardening, as callers see it: access tokens only, signing keys bound to
//! their issuer, key rollovers that do not flicker, cancelled requests that leave nothing
//! behind, and bad-signature floods that cannot push good tokens out of the verdict cache.

use actix_web::http::header::AUTHORIZATION;
use serde_json::{Value, json};
use vaultgate_tests::app::{extra_key, shared_key};
use vaultgate_tests::expected::{assert_refused_token, invalid_claims, no_key};
use vaultgate_tests::fake_entra::{APP_ID, Behaviour, FakeEntra, TENANT};
use vaultgate_tests::http::{client, metric};
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::{self, entra, entra_header};
use vaultgate_tests::{Reply, TestApp, send};

fn key_a() -> &'static TestKey {
    extra_key(0)
}

async fn entra_app(fake: &FakeEntra, extra: &[(&str, &str)]) -> TestApp {
    let mut vars =
        vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP_ID), ("AUTHORITY_HOST", fake.base_url.as_str())];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

async fn read_demo(app: &TestApp, token: &str) -> Reply {
    send(client().get(app.url("/vault/demo")).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await
}

/// An Entra token of `version` signed by `key`, with `changes` applied to the wire sample's
/// claims (`null` removes a claim).
fn entra_token_with(key: &TestKey, version: u8, changes: &[(&str, Value)]) -> String {
    let (header, mut claims) = entra(version);
    for (name, value) in changes {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(*name);
        } else {
            claims[*name] = value.clone();
        }
    }
    key.sign_with_header(&entra_header(&header, key), &claims)
}

// Point 3: access tokens only.

#[actix_web::test]
async fn id_tokens_without_a_nonce_are_refused_for_lack_of_appid_or_azp() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    // An id token of the same app registration: right aud, iss, tid, even roles; no nonce.
    let v2_id_token = entra_token_with(key_a(), 2, &[("azp", Value::Null), ("azpacr", Value::Null)]);
    let answer = read_demo(&app, &v2_id_token).await;
    assert_refused_token(
        &answer,
        invalid_claims("Token is missing the \"azp\" claim: not an access token"),
        "v2 without azp",
    );
    let v1_id_token = entra_token_with(key_a(), 1, &[("appid", Value::Null), ("appidacr", Value::Null)]);
    let answer = read_demo(&app, &v1_id_token).await;
    assert_refused_token(
        &answer,
        invalid_claims("Token is missing the \"appid\" claim: not an access token"),
        "v1 without appid",
    );
    // Each version's own claim counts: a v1 token with `azp` only is still refused.
    let v1_with_azp = entra_token_with(key_a(), 1, &[("appid", Value::Null), ("azp", json!("x"))]);
    assert_refused_token(
        &read_demo(&app, &v1_with_azp).await,
        invalid_claims("Token is missing the \"appid\" claim: not an access token"),
        "v1 with azp only",
    );
    let empty_azp = entra_token_with(key_a(), 2, &[("azp", json!(""))]);
    assert_refused_token(
        &read_demo(&app, &empty_azp).await,
        invalid_claims("Token is missing the \"azp\" claim: not an access token"),
        "v2 with an empty azp",
    );
    // The access tokens themselves still pass.
    for version in [1, 2] {
        let answer = read_demo(&app, &tokens::entra_token(key_a(), version)).await;
        assert_eq!(answer.status, 200, "v{version}: {:?}", answer.json());
    }
}

#[actix_web::test]
async fn local_mode_wants_access_tokens_too() {
    let app = TestApp::spawn().await;
    let mut claims = tokens::claims(&["GetSecret"]);
    claims.as_object_mut().unwrap().remove("azp");
    let answer = app.get_as("/vault/demo", &shared_key().sign(&claims)).await;
    assert_refused_token(
        &answer,
        invalid_claims("Token is missing the \"azp\" claim: not an access token"),
        "local token without azp",
    );
    // What `vaultgate token` mints carries azp.
    let minted = shared_key().mint(&vaultgate::auth::dev_key::MintRequest {
        roles: vec!["GetSecret".into()],
        scopes: vec![],
        ttl_secs: 60,
    });
    assert_eq!(app.get_as("/vault/demo", &minted).await.status, 200);
}

// Point 4: signing keys bound to their issuer.

const OTHER_TENANT: &str = "0b1c2d3e-aaaa-4bbb-8ccc-0f1a2b3c4d5e";

fn key_b() -> &'static TestKey {
    extra_key(1)
}

fn key_issuer_mismatch() -> Value {
    invalid_claims("The signing key is not bound to the token's issuer")
}

/// A v2 token of `tenant` (its `tid` and issuer), signed by `key`.
fn v2_token_of(tenant: &str, key: &TestKey) -> String {
    let iss = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    entra_token_with(key, 2, &[("tid", json!(tenant)), ("iss", json!(iss))])
}

fn v1_token_of(tenant: &str, key: &TestKey) -> String {
    let iss = format!("https://sts.windows.net/{tenant}/");
    entra_token_with(key, 1, &[("tid", json!(tenant)), ("iss", json!(iss))])
}

#[actix_web::test]
async fn a_key_bound_to_one_tenant_signs_for_that_tenant_only() {
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    // Key B is published for the other tenant alone, as Entra does for app-specific keys.
    fake.bind_key_issuer(key_b(), Some(&format!("https://login.microsoftonline.com/{OTHER_TENANT}/v2.0")));
    let app = entra_app(&fake, &[("ALLOWED_TENANTS", OTHER_TENANT)]).await;

    let answer = read_demo(&app, &v2_token_of(OTHER_TENANT, key_b())).await;
    assert_eq!(answer.status, 200, "its own tenant: {:?}", answer.json());
    for (case, token) in [("v2", v2_token_of(TENANT, key_b())), ("v1", v1_token_of(TENANT, key_b()))] {
        assert_refused_token(&read_demo(&app, &token).await, key_issuer_mismatch(), case);
    }
    // Key A carries Entra's `{tenantid}` template: it signs for either tenant, v1 tokens too
    // (their sts.windows.net issuer is matched through the tenant's v2 issuer).
    for token in [
        v2_token_of(TENANT, key_a()),
        v1_token_of(TENANT, key_a()),
        v2_token_of(OTHER_TENANT, key_a()),
        v1_token_of(OTHER_TENANT, key_a()),
    ] {
        let answer = read_demo(&app, &token).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json());
    }
}

#[actix_web::test]
async fn a_key_of_another_authority_is_refused_and_a_key_without_an_issuer_is_unaffected() {
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    fake.bind_key_issuer(key_a(), Some("https://login.microsoftonline.us/{tenantid}/v2.0"));
    fake.bind_key_issuer(key_b(), None);
    let app = entra_app(&fake, &[]).await;
    for (case, token) in [("v2", v2_token_of(TENANT, key_a())), ("v1", v1_token_of(TENANT, key_a()))] {
        assert_refused_token(&read_demo(&app, &token).await, key_issuer_mismatch(), case);
    }
    for token in [v2_token_of(TENANT, key_b()), v1_token_of(TENANT, key_b())] {
        let answer = read_demo(&app, &token).await;
        assert_eq!(answer.status, 200, "{:?}", answer.json());
    }
}

#[actix_web::test]
async fn an_issuer_that_does_not_name_the_tokens_tenant_cannot_use_a_tenant_bound_key() {
    // With ISSUER set, `iss` is whatever the operator named; a key bound to Entra's tenant
    // issuers still wants `iss` to name the token's tenant.
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    fake.bind_key_issuer(key_b(), None);
    let custom = "https://issuer.example/custom";
    let app = entra_app(&fake, &[("ISSUER", custom)]).await;
    let custom_token = |key| entra_token_with(key, 2, &[("iss", json!(custom))]);
    assert_refused_token(&read_demo(&app, &custom_token(key_a())).await, key_issuer_mismatch(), "bound key");
    assert_eq!(read_demo(&app, &custom_token(key_b())).await.status, 200, "key without an issuer");
}

// Point 5: key rollovers that flicker.

fn key_c() -> &'static TestKey {
    extra_key(2)
}

#[actix_web::test]
async fn a_key_missing_from_a_newer_set_stays_trusted_for_the_grace_period() {
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    let app = entra_app(&fake, &[]).await;
    assert_eq!(read_demo(&app, &tokens::entra_token(key_a(), 2)).await.status, 200);
    // Mid-rollover, a front end answers a set that lacks key A but has the new key C.
    fake.rotate_to(&[key_b(), key_c()]);
    let answer = read_demo(&app, &tokens::entra_token(key_c(), 2)).await;
    assert_eq!(answer.status, 200, "the new key, after one refresh: {:?}", answer.json());
    assert_eq!(fake.jwks_fetches(), 2);
    // Key A is still in use elsewhere: a fresh token of it passes, within JWKS_KEY_GRACE_SECS.
    let answer = read_demo(&app, &tokens::entra_token(key_a(), 1)).await;
    assert_eq!(answer.status, 200, "key A in its grace period: {:?}", answer.json());
    let health = app.get("/health").await;
    assert_eq!(health.json()["components"]["signing_keys"]["loaded"], 3, "A, B and C");
}

#[actix_web::test]
async fn with_no_grace_a_key_missing_from_a_newer_set_is_dropped_at_once() {
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    let app = entra_app(&fake, &[("JWKS_KEY_GRACE_SECS", "0")]).await;
    fake.rotate_to(&[key_b(), key_c()]);
    assert_eq!(read_demo(&app, &tokens::entra_token(key_c(), 2)).await.status, 200);
    assert_refused_token(&read_demo(&app, &tokens::entra_token(key_a(), 2)).await, no_key(), "key A");
}

#[actix_web::test]
async fn an_empty_or_unparsable_key_set_never_replaces_a_good_one() {
    for (case, served) in [("empty", Served::Keys(&[])), ("unparsable", Served::Garbage)] {
        let fake = FakeEntra::start(&[key_a()]);
        let app = entra_app(&fake, &[("JWKS_KEY_GRACE_SECS", "0")]).await;
        match served {
            Served::Keys(keys) => fake.rotate_to(keys),
            Served::Garbage => fake.behave(Behaviour::Garbage),
        }
        // An unknown kid makes vaultgate refresh: the answer is refused, the old set stays.
        assert_refused_token(&read_demo(&app, &tokens::entra_token(key_b(), 2)).await, no_key(), case);
        assert_eq!(fake.jwks_fetches(), 2, "{case}");
        let answer = read_demo(&app, &tokens::entra_token(key_a(), 2)).await;
        assert_eq!(answer.status, 200, "{case}: {:?}", answer.json());
        assert_eq!(metric(&app.metrics().await, "vaultgate_jwks_fetch_failures_total"), 1.0, "{case}");
    }
}

enum Served {
    Keys(&'static [&'static TestKey]),
    Garbage,
}

// Point 7: cancelled requests leave nothing behind.

/// Sends `GET path` with `token` on a connection of its own, then resets it (RST, as a client
/// that crashes or gives up does): the server drops that request's handler.
async fn send_then_reset(app: &TestApp, path: &str, token: &str, before_reset: impl Future<Output = ()>) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    stream.set_nonblocking(true).unwrap();
    let stream = tokio::net::TcpStream::from_std(stream).unwrap();
    before_reset.await;
    stream.set_zero_linger().unwrap();
    drop(stream);
    // A round trip behind the reset on the one worker: the reset has been seen by then.
    assert_eq!(app.get("/health").await.status, 200);
}

#[actix_web::test]
async fn a_key_refresh_outlives_the_request_that_started_it() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[("UPSTREAM_TIMEOUT_SECS", "60")]).await;
    fake.rotate_to(&[key_a(), key_b()]);
    fake.behave(Behaviour::Stall);
    // A token of the new key B starts an on-demand refresh, which hangs on the stalled IdP;
    // its caller resets the connection meanwhile.
    let stalled = fake.stalling(std::time::Duration::from_secs(10));
    send_then_reset(&app, "/vault/demo", &tokens::entra_token(key_b(), 2), stalled).await;
    fake.behave(Behaviour::Up);
    fake.release_stalled();
    // The refresh the reset caller started still completes (this request joins it if it has
    // not yet): key B is trusted, and the on-demand budget it took was not spent for nothing.
    let answer = read_demo(&app, &tokens::entra_token(key_b(), 2)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    assert_eq!(fake.jwks_fetches(), 2, "one fetch at start, one on demand");
}

// Point 8: bad signatures do not evict good tokens.

async fn token_cache_counts(app: &TestApp) -> (f64, f64) {
    let text = app.metrics().await;
    (metric(&text, "vaultgate_token_cache_hits_total"), metric(&text, "vaultgate_token_cache_misses_total"))
}

#[actix_web::test]
async fn a_flood_of_bad_signatures_under_a_trusted_kid_keeps_good_tokens_cached() {
    let app = TestApp::spawn_with(&[("TOKEN_CACHE_MAX_ENTRIES", "16")]).await;
    let good = tokens::valid(shared_key(), &["GetSecret"]);
    assert_eq!(app.get_as("/vault/demo", &good).await.status, 200);
    assert_eq!(app.get_as("/vault/demo", &good).await.status, 200);
    let (hits, misses) = token_cache_counts(&app).await;
    assert_eq!((hits, misses), (1.0, 1.0), "verified once, then from the cache");

    // Distinct tokens under the trusted kid, each with a signature that does not verify: each
    // costs a full check, and is many times the cache's size.
    for i in 0..100 {
        let mut claims = tokens::claims(&["GetSecret"]);
        claims["jti"] = json!(format!("flood-{i}"));
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": shared_key().kid()});
        let forged = tokens::forge(&header, &claims, &[i as u8; 256]);
        let answer = app.get_as("/vault/demo", &forged).await;
        assert_refused_token(&answer, invalid_claims("Signature verification failed"), "forged");
    }
    let (hits_after_flood, misses_after_flood) = token_cache_counts(&app).await;
    assert_eq!((hits_after_flood, misses_after_flood), (hits, misses + 100.0));

    assert_eq!(app.get_as("/vault/demo", &good).await.status, 200);
    assert_eq!(
        token_cache_counts(&app).await,
        (hits + 1.0, misses + 100.0),
        "the good token is still answered from the cache"
    );
    let turnovers = metric(&app.metrics().await, "vaultgate_token_cache_turnovers_total");
    assert_eq!(turnovers, 0.0, "and the verified tokens' generations never turned over");
}
