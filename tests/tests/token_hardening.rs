//! Issue 11's token hardening, as callers see it: access tokens only, signing keys bound to
//! their issuer, key rollovers that do not flicker, cancelled requests that leave nothing
//! behind, and bad-signature floods that cannot push good tokens out of the verdict cache.

use actix_web::http::header::AUTHORIZATION;
use serde_json::{Value, json};
use vaultgate_tests::app::{extra_key, shared_key};
use vaultgate_tests::expected::{assert_refused_token, invalid_claims};
use vaultgate_tests::fake_entra::{APP_ID, FakeEntra, TENANT};
use vaultgate_tests::http::client;
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
