//! Entra ID mode against a fake Entra ID on loopback: v1 and v2 tokens, the attack matrix,
//! key rotation, unknown-kid floods and identity-provider outages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::http::header::AUTHORIZATION;
use aws_lc_rs::signature::RSA_PSS_SHA256;
use serde_json::{Value, json};
use vaultgate_tests::app::extra_key;
use vaultgate_tests::expected::{self, invalid_claims, no_key, unparsable};
use vaultgate_tests::fake_entra::{APP_ID, Behaviour, FakeEntra, TENANT, jwk};
use vaultgate_tests::http::client;
use vaultgate_tests::recorder::Recorder;
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::{b64, entra, entra_header, entra_token, forge, hs256, now};
use vaultgate_tests::{Reply, TestApp, send};

const OTHER_TENANT: &str = "0b1c2d3e-aaaa-4bbb-8ccc-0f1a2b3c4d5e";
const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn key_a() -> &'static TestKey {
    extra_key(0)
}
fn key_b() -> &'static TestKey {
    extra_key(1)
}
fn attacker() -> &'static TestKey {
    extra_key(2)
}

async fn entra_app(fake: &FakeEntra, extra: &[(&str, &str)]) -> TestApp {
    let mut vars =
        vec![("TENANT_ID", TENANT), ("AD_SERVER_APP_ID", APP_ID), ("AUTHORITY_HOST", fake.base_url.as_str())];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

async fn read_demo(app: &TestApp, token: &str) -> Reply {
    app.get_as("/vault/demo", token).await
}

fn sign(key: &TestKey, header: &Value, claims: &Value) -> String {
    key.sign_with_header(header, claims)
}

async fn assert_refused(app: &TestApp, token: &str, body: Value, case: &str) {
    expected::assert_refused_token(&read_demo(app, token).await, body, case);
}

#[actix_web::test]
async fn v1_and_v2_app_tokens_read_secrets() {
    let fake = FakeEntra::start(&[key_a(), key_b()]);
    let app = entra_app(&fake, &[]).await;
    for version in [1, 2] {
        let answer = read_demo(&app, &entra_token(key_a(), version)).await;
        assert_eq!(answer.status, 200, "v{version}: {:?}", answer.json());
        assert_eq!(answer.json()["value"], "hello from vaultgate");
    }
    // Either key of the set signs.
    assert_eq!(read_demo(&app, &entra_token(key_b(), 2)).await.status, 200);
    let health = send(client().get(app.url("/health"))).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["components"]["signing_keys"]["loaded"], 2);
    assert_eq!(fake.discovery_fetches(), 1);
    assert_eq!(fake.jwks_fetches(), 1);
}

#[actix_web::test]
async fn algorithm_attacks_are_refused() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let (header, claims) = entra(2);
    let trusted = entra_header(&header, key_a());
    let with_alg = |alg: &str| {
        let mut h = trusted.clone();
        h["alg"] = alg.into();
        h
    };
    let not_allowed = invalid_claims("The specified alg value is not allowed");

    for alg in ["none", "None", "nOnE"] {
        assert_refused(&app, &forge(&with_alg(alg), &claims, b"sig"), not_allowed.clone(), alg).await;
        let unsigned = format!("{}.{}.", b64(with_alg(alg).to_string()), b64(claims.to_string()));
        assert_refused(&app, &unsigned, unparsable(), alg).await;
    }
    let (n, e) = key_a().jwk_components();
    for secret in [key_a().public_key_der().to_vec(), format!("{n}.{e}").into_bytes()] {
        assert_refused(&app, &hs256(&with_alg("HS256"), &claims, &secret), not_allowed.clone(), "HS256").await;
    }
    // PS256, really signed by the trusted key: still not the one algorithm accepted.
    let signed_part = format!("{}.{}", b64(with_alg("PS256").to_string()), b64(claims.to_string()));
    let pss = key_a().sign_raw(&RSA_PSS_SHA256, signed_part.as_bytes());
    assert_refused(&app, &format!("{signed_part}.{}", b64(pss)), not_allowed.clone(), "PS256").await;
    assert_refused(&app, &forge(&with_alg("ES256"), &claims, &[7u8; 64]), not_allowed.clone(), "ES256").await;
}

#[actix_web::test]
async fn tampered_signatures_are_refused() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let token = entra_token(key_a(), 2);
    let (signed_part, signature) = token.rsplit_once('.').unwrap();

    assert_refused(&app, &format!("{signed_part}."), unparsable(), "stripped").await;
    assert_refused(&app, signed_part, unparsable(), "two segments").await;

    let mut flipped = base64_decode(signature);
    flipped[10] ^= 0x01;
    let flipped = format!("{signed_part}.{}", b64(flipped));
    assert_refused(&app, &flipped, invalid_claims("Signature verification failed"), "flipped").await;

    let other = entra_token(key_a(), 1);
    let swapped = format!("{signed_part}.{}", other.rsplit_once('.').unwrap().1);
    assert_refused(&app, &swapped, invalid_claims("Signature verification failed"), "swapped").await;

    let forged = sign(attacker(), &entra_header(&entra(2).0, key_a()), &entra(2).1);
    assert_refused(&app, &forged, invalid_claims("Signature verification failed"), "other key, trusted kid").await;
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

#[actix_web::test]
async fn keys_named_by_the_token_are_never_used() {
    let fake = FakeEntra::start(&[key_a()]);
    let recorder = Recorder::start();
    let app = entra_app(&fake, &[]).await;
    let (header, claims) = entra(2);
    let attacker_jwk = jwk(&json!({"kty": "RSA", "use": "sig"}), attacker());

    let mut with_jku = entra_header(&header, attacker());
    with_jku["jku"] = format!("{}/keys", recorder.base_url).into();
    with_jku["x5u"] = format!("{}/cert", recorder.base_url).into();
    assert_refused(&app, &sign(attacker(), &with_jku, &claims), no_key(), "jku").await;

    let mut with_jwk = entra_header(&header, attacker());
    with_jwk["jwk"] = attacker_jwk.clone();
    assert_refused(&app, &sign(attacker(), &with_jwk, &claims), no_key(), "embedded jwk").await;

    // The embedded key under the trusted kid: the trusted key decides, so the signature fails.
    let mut trusted_kid_with_jwk = entra_header(&header, key_a());
    trusted_kid_with_jwk["jwk"] = attacker_jwk;
    trusted_kid_with_jwk["x5c"] = json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]);
    let forged = sign(attacker(), &trusted_kid_with_jwk, &claims);
    assert_refused(&app, &forged, invalid_claims("Signature verification failed"), "jwk + trusted kid").await;

    assert_eq!(recorder.hits(), 0, "vaultgate fetched a URL named in a token");
}

#[actix_web::test]
async fn unknown_and_hostile_kids_are_refused_after_one_refetch() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let (header, claims) = entra(2);
    let before = fake.jwks_fetches();

    let mut unknown = header.clone();
    unknown["kid"] = "not-a-known-kid".into();
    assert_refused(&app, &sign(key_a(), &unknown, &claims), no_key(), "unknown kid").await;
    assert_eq!(fake.jwks_fetches(), before + 1, "one refetch for an unknown kid");

    for kid in [json!("../../../etc/passwd"), json!(""), json!(42), json!(null)] {
        let mut hostile = header.clone();
        hostile["kid"] = kid.clone();
        let token = sign(key_a(), &hostile, &claims);
        let expected = if kid.is_number() { unparsable() } else { no_key() };
        assert_refused(&app, &token, expected, &kid.to_string()).await;
    }
    assert_eq!(fake.jwks_fetches(), before + 1, "further unknown kids wait for the refresh interval");
}

#[actix_web::test]
async fn unknown_critical_headers_are_refused() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let (header, claims) = entra(2);
    let mut critical = entra_header(&header, key_a());
    critical["crit"] = json!(["exp"]);
    critical["exp"] = json!(0);
    assert_refused(
        &app,
        &sign(key_a(), &critical, &claims),
        invalid_claims("Unsupported critical header parameter"),
        "crit",
    )
    .await;
}

#[actix_web::test]
async fn claims_attacks_are_refused() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let (header, base) = entra(2);
    let header = entra_header(&header, key_a());
    let with = |changes: &[(&str, Value)]| {
        let mut claims = base.clone();
        for (name, value) in changes {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(*name);
            } else {
                claims[*name] = value.clone();
            }
        }
        sign(key_a(), &header, &claims)
    };

    let expired = json!({"code": "AuthorizationTokenExpired", "description": "Authorization bearer token is expired."});
    assert_refused(&app, &with(&[("exp", json!(now() - 3600))]), expired, "expired").await;
    assert_refused(
        &app,
        &with(&[("nbf", json!(now() + 3600))]),
        invalid_claims("The token is not yet valid (nbf)"),
        "nbf",
    )
    .await;
    assert_refused(
        &app,
        &with(&[("exp", Value::Null)]),
        invalid_claims("Token is missing the \"exp\" claim"),
        "no exp",
    )
    .await;
    for aud in [
        "api://someone-else",
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
        "https://vault.azure.net",
    ] {
        assert_refused(&app, &with(&[("aud", json!(aud))]), invalid_claims("Invalid audience"), aud).await;
    }
    let other_tenant = [
        ("tid", json!(OTHER_TENANT)),
        ("iss", json!(format!("https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"))),
    ];
    assert_refused(&app, &with(&other_tenant), invalid_claims("Invalid tenant"), "another tenant").await;
    let consumer = [
        ("tid", json!(CONSUMER_TENANT)),
        ("iss", json!(format!("https://login.microsoftonline.com/{CONSUMER_TENANT}/v2.0"))),
    ];
    assert_refused(&app, &with(&consumer), invalid_claims("Invalid tenant"), "consumer tenant").await;
    assert_refused(&app, &with(&[("tid", Value::Null)]), invalid_claims("Invalid tenant"), "no tid").await;
    assert_refused(&app, &with(&[("ver", json!("1.0"))]), invalid_claims("Invalid issuer"), "v2 issuer, ver 1.0").await;
    assert_refused(&app, &with(&[("ver", Value::Null)]), invalid_claims("Invalid token version"), "no ver").await;
    let wrong_issuer = [("iss", json!(format!("https://login.microsoftonline.com/{TENANT}/")))];
    assert_refused(&app, &with(&wrong_issuer), invalid_claims("Invalid issuer"), "wrong issuer").await;
    let id_token = [("nonce", json!("abc123")), ("aud", json!(APP_ID))];
    assert_refused(
        &app,
        &with(&id_token),
        invalid_claims("Token has a nonce: not an access token for this API"),
        "id token",
    )
    .await;

    // The v1 issuer with a v2 version is just as wrong.
    let (v1_header, mut v1) = entra(1);
    v1["ver"] = json!("2.0");
    let token = sign(key_a(), &entra_header(&v1_header, key_a()), &v1);
    assert_refused(&app, &token, invalid_claims("Invalid issuer"), "v1 issuer, ver 2.0").await;
}

#[actix_web::test]
async fn malformed_tokens_are_unparsable() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let token = entra_token(key_a(), 2);
    let parts: Vec<&str> = token.split('.').collect();
    let (header, _) = entra(2);
    let header = entra_header(&header, key_a());
    let cases = [
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.{}", parts[2]),
        format!("{token}.{}.{}", parts[1], parts[2]),
        format!("{}.{}!.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], "a*b"),
        format!("{}.{}.{}", b64("not json"), parts[1], parts[2]),
        sign(key_a(), &header, &json!([1, 2, 3])),
        sign(key_a(), &header, &json!("a string")),
    ];
    for (i, bad) in cases.iter().enumerate() {
        assert_refused(&app, bad, unparsable(), &format!("case {i}")).await;
    }
}

#[actix_web::test]
async fn multi_tenant_apps_list_their_tenants() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[("ALLOWED_TENANTS", OTHER_TENANT)]).await;
    let (header, mut claims) = entra(2);
    claims["tid"] = json!(OTHER_TENANT);
    claims["iss"] = json!(format!("https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"));
    let answer = read_demo(&app, &sign(key_a(), &entra_header(&header, key_a()), &claims)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    // Its issuer must still name its own tenant.
    claims["iss"] = json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
    let token = sign(key_a(), &entra_header(&header, key_a()), &claims);
    assert_refused(&app, &token, invalid_claims("Invalid issuer"), "issuer of another tenant").await;
}

#[actix_web::test]
async fn a_rotated_key_passes_on_its_first_request() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    assert_eq!(read_demo(&app, &entra_token(key_a(), 2)).await.status, 200);
    fake.rotate_to(&[key_b()]);
    let answer = read_demo(&app, &entra_token(key_b(), 2)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    assert_eq!(fake.jwks_fetches(), 2);
}

#[actix_web::test]
async fn a_flood_of_random_kids_costs_at_most_one_refetch() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    let (header, claims) = entra(2);
    let client = client();
    let mut refused = 0;
    for batch in 0..20 {
        let requests = (0..50).map(|i| {
            let mut random = header.clone();
            random["kid"] = format!("random-{batch}-{i}-{}", now()).into();
            let token = sign(key_a(), &random, &claims);
            send(client.get(app.url("/vault/demo")).insert_header((AUTHORIZATION, format!("Bearer {token}"))))
        });
        for answer in futures_util::future::join_all(requests).await {
            assert_eq!(answer.json(), no_key());
            refused += 1;
        }
    }
    assert_eq!(refused, 1000);
    assert!(fake.jwks_fetches() <= 2, "{} JWKS fetches", fake.jwks_fetches());
    // Known keys were never in question.
    assert_eq!(read_demo(&app, &entra_token(key_a(), 2)).await.status, 200);
}

#[actix_web::test]
async fn an_outage_after_start_up_keeps_the_last_good_keys() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[]).await;
    fake.behave(Behaviour::Unavailable);
    assert_eq!(read_demo(&app, &entra_token(key_a(), 1)).await.status, 200);
    // An unknown kid triggers a refresh that fails; the old keys stay.
    assert_refused(&app, &entra_token(key_b(), 2), no_key(), "kid while down").await;
    assert_eq!(read_demo(&app, &entra_token(key_a(), 2)).await.status, 200);
    assert_eq!(send(client().get(app.url("/health"))).await.status, 200);
}

#[actix_web::test]
async fn an_outage_from_the_start_answers_503_then_recovers_without_a_restart() {
    let fake = FakeEntra::start(&[key_a()]);
    fake.behave(Behaviour::Unavailable);
    let app = entra_app(&fake, &[]).await;

    let answer = read_demo(&app, &entra_token(key_a(), 2)).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert_eq!(
        answer.json(),
        json!({"code": "AuthorizationServiceUnavailable", "description": "Signing keys are not available yet; try again later."})
    );
    let health = send(client().get(app.url("/health"))).await;
    assert_eq!(health.status, 500);
    assert_eq!(health.json()["code"], "ServiceHealthCheckDown");

    // Back up: the background retry loads the keys.
    let served = fake.jwks_served();
    fake.behave(Behaviour::Up);
    fake.served_more_than(served, Duration::from_secs(30)).await;
    let answer = read_demo(&app, &entra_token(key_a(), 2)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    assert_eq!(send(client().get(app.url("/health"))).await.status, 200);
}

#[actix_web::test]
async fn a_stalled_refresh_never_delays_known_keys() {
    let fake = FakeEntra::start(&[key_a()]);
    let app = entra_app(&fake, &[("UPSTREAM_TIMEOUT_SECS", "10")]).await;
    fake.behave(Behaviour::Stall);

    // An unknown kid starts a refresh that hangs on the stalled IdP.
    let finished = Arc::new(AtomicBool::new(false));
    let waiting = {
        let token = entra_token(key_b(), 2);
        let url = app.url("/vault/demo");
        let finished = finished.clone();
        actix_web::rt::spawn(async move {
            let answer = send(client().get(url).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await;
            finished.store(true, Ordering::SeqCst);
            answer.status
        })
    };
    fake.stalling(Duration::from_secs(10)).await;

    // Meanwhile a known kid is answered at once.
    let answer = read_demo(&app, &entra_token(key_a(), 2)).await;
    assert_eq!(answer.status, 200);
    assert!(!finished.load(Ordering::SeqCst), "the stalled refresh should still be pending");
    waiting.abort();
}

#[actix_web::test]
async fn a_stalled_idp_times_out() {
    let fake = FakeEntra::start(&[key_a()]);
    fake.behave(Behaviour::Stall);
    // Start-up waits for the first fetch at most the upstream timeout, then serves.
    let app = entra_app(&fake, &[("UPSTREAM_TIMEOUT_SECS", "1")]).await;
    let answer = read_demo(&app, &entra_token(key_a(), 2)).await;
    assert_eq!(answer.status, 503);
}

#[actix_web::test]
async fn a_cached_token_stops_passing_once_its_key_leaves_the_set() {
    let fake = FakeEntra::start(&[key_a()]);
    // Without a grace period a key leaves with the first set that lacks it (with one, when the
    // grace ends: `rollover` unit tests, `token_hardening.rs`).
    let app = entra_app(&fake, &[("JWKS_KEY_GRACE_SECS", "0")]).await;
    let token_a = entra_token(key_a(), 2);
    assert_eq!(read_demo(&app, &token_a).await.status, 200);
    assert_eq!(read_demo(&app, &token_a).await.status, 200, "now from the verified-token cache");
    // Entra retires key A; a token with the new kid makes vaultgate refresh.
    fake.rotate_to(&[key_b()]);
    assert_eq!(read_demo(&app, &entra_token(key_b(), 2)).await.status, 200);
    assert_refused(&app, &token_a, no_key(), "token of a retired key").await;
}

#[actix_web::test]
async fn callers_arriving_while_the_first_keys_load_wait_for_them() {
    let fake = FakeEntra::start(&[key_a()]);
    fake.behave(Behaviour::Unavailable);
    let app = entra_app(&fake, &[]).await;
    fake.behave(Behaviour::Up);

    // One caller's request starts the on-demand load; the others arrive before it is under way
    // and must wait for it too, not be told that no keys are loaded.
    let token = entra_token(key_a(), 2);
    let burst = (0..32).map(|_| read_demo(&app, &token));
    let answers = futures_util::future::join_all(burst).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(fake.jwks_fetches(), 1, "one load for the whole burst (the outage failed at discovery)");
}
