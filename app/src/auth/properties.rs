//! Property tests: arbitrary headers, tokens and claims never panic, every refusal is a
//! 4xx from the catalog, and a token passes only when its signature, claims and the
//! route's requirement all hold (checked against a model written independently).

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use futures_util::FutureExt;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::dev_key::{DevKey, LOCAL_AUDIENCE, LOCAL_ISSUER, local_validator};
use super::{Rule, Validator, bearer};

const NOW: i64 = 1_800_000_000;
const LEEWAY: i64 = 60;

/// The trusted key and another one, generated once for all cases.
fn keys() -> &'static (tempfile::TempDir, DevKey, DevKey) {
    static KEYS: OnceLock<(tempfile::TempDir, DevKey, DevKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        crate::crypto::install_providers();
        let dir = tempfile::tempdir().unwrap();
        let trusted = DevKey::load_or_create(&dir.path().join("trusted")).unwrap();
        let other = DevKey::load_or_create(&dir.path().join("other")).unwrap();
        (dir, trusted, other)
    })
}

fn trusted() -> &'static DevKey {
    &keys().1
}

fn other() -> &'static DevKey {
    &keys().2
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| local_validator(trusted(), Duration::from_secs(LEEWAY as u64), 10_000))
}

fn verify(token: &str) -> Result<(), super::TokenRefusal> {
    validator().verify_at(token, NOW).now_or_never().expect("static keys never wait").map(|_| ())
}

/// A claim value: absent, null, or a value of some JSON type.
fn claim_value(good: Value) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        24 => Just(Some(good)),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => any::<i64>().prop_map(|n| Some(json!(n))),
        1 => "[a-z]{0,8}".prop_map(|s| Some(json!(s))),
        1 => Just(Some(json!([1, "x"]))),
        1 => Just(Some(json!({"k": 1}))),
    ]
}

fn time_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        16 => (-200i64..200).prop_map(|d| Some(json!(NOW + d))),
        1 => (-200i64..200).prop_map(|d| Some(json!((NOW + d) as f64 + 0.5))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => Just(Some(json!("1800000000"))),
    ]
}

prop_compose! {
    fn claims()(
        iss in claim_value(json!(LOCAL_ISSUER)),
        aud in prop_oneof![
            claim_value(json!(LOCAL_AUDIENCE)),
            Just(Some(json!(["other", LOCAL_AUDIENCE]))),
            Just(Some(json!(["other"]))),
        ],
        exp in time_value(),
        nbf in time_value(),
        iat in time_value(),
        roles in claim_value(json!(["GetSecret"])),
        scp in claim_value(json!("Secrets.Read")),
        oid in claim_value(json!("0b1c2d3e")),
        azp in claim_value(json!("client")),
        appid in prop_oneof![3 => Just(None), 1 => claim_value(json!("client"))],
        ver in prop_oneof![4 => Just(None), 2 => Just(Some(json!("2.0"))), 2 => Just(Some(json!("1.0"))), 1 => Just(Some(json!(1)))],
        nonce in prop_oneof![12 => Just(None), 1 => Just(Some(json!("n")))],
    ) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        for (name, value) in [("iss", iss), ("aud", aud), ("exp", exp), ("nbf", nbf), ("iat", iat),
                              ("roles", roles), ("scp", scp), ("oid", oid), ("azp", azp), ("appid", appid),
                              ("ver", ver), ("nonce", nonce)] {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        }
        map
    }
}

/// The model: what a correct validator accepts, written from the rules, not the code.
fn model_accepts(claims: &serde_json::Map<String, Value>) -> bool {
    let get = |name: &str| claims.get(name).filter(|v| !v.is_null());
    let date = |name: &str| -> Result<Option<i64>, ()> {
        match get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_i64().unwrap_or_else(|| n.as_f64().unwrap() as i64))),
            Some(_) => Err(()),
        }
    };
    let string = |name: &str| matches!(get(name), None | Some(Value::String(_)));
    let Ok(exp) = date("exp") else { return false };
    let Ok(nbf) = date("nbf") else { return false };
    let Ok(iat) = date("iat") else { return false };
    let roles_ok = match get("roles") {
        None => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    let aud_ok = match get("aud") {
        Some(Value::String(aud)) => aud == LOCAL_AUDIENCE,
        Some(Value::Array(items)) => items.iter().all(Value::is_string) && items.iter().any(|a| a == LOCAL_AUDIENCE),
        _ => false,
    };
    // Access tokens only: `appid` in ver 1.0, `azp` otherwise, each a non-empty string.
    let client_claim = if get("ver") == Some(&json!("1.0")) { "appid" } else { "azp" };
    let names_client = matches!(get(client_claim), Some(Value::String(id)) if !id.is_empty());
    string("iss")
        && string("scp")
        && string("azp")
        && string("appid")
        && string("ver")
        && names_client
        && string("oid")
        && roles_ok
        && exp.is_some_and(|exp| exp + LEEWAY >= NOW)
        && nbf.is_none_or(|nbf| nbf - LEEWAY <= NOW)
        && iat.is_none_or(|iat| iat - LEEWAY <= NOW)
        && get("iss") == Some(&json!(LOCAL_ISSUER))
        && aud_ok
        && get("nonce").is_none()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_authorization_header_gets_a_catalog_answer(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        match bearer::token(&headers) {
            Ok(token) => {
                // The model: after trimming, exactly two words, the first "bearer" in any case.
                let words: Vec<&[u8]> = bytes.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()).collect();
                prop_assert_eq!(words.len(), 2);
                prop_assert!(words[0].eq_ignore_ascii_case(b"bearer"));
                prop_assert_eq!(token.as_bytes(), words[1]);
            }
            Err(error) => prop_assert_eq!(error.code().status(), 401),
        }
    }

    #[test]
    fn any_token_string_is_refused_with_a_401(token in "[A-Za-z0-9_.=+/-]{0,200}") {
        let error = verify(&token).unwrap_err();
        prop_assert_eq!(error.code().status(), 401);
    }

    #[test]
    fn signed_claims_pass_exactly_when_the_model_says(claims in claims()) {
        let token = trusted().sign(&Value::Object(claims.clone()));
        let outcome = verify(&token);
        prop_assert_eq!(outcome.is_ok(), model_accepts(&claims), "claims {:?}: {:?}", claims, outcome);
        if let Err(error) = outcome {
            prop_assert_eq!(error.code().status(), 401);
        }
        // The same claims under any other key never pass.
        let forged = other().sign_with_header(&json!({"alg": "RS256", "kid": trusted().kid()}), &Value::Object(claims));
        prop_assert!(verify(&forged).is_err());
    }

    #[test]
    fn a_requirement_passes_exactly_when_a_role_or_scope_matches(
        held_roles in proptest::option::of(proptest::collection::vec("[A-C]", 0..3)),
        held_scopes in proptest::option::of(proptest::collection::vec("[s-u]", 0..3)),
    ) {
        let rule = Rule::new(&["A"], &["B", "C"], &["s"]);
        let claims = super::Claims {
            oid: None, appid: None, tid: None, sub: None,
            roles: held_roles.clone(), scopes: held_scopes.clone(),
            issuer: String::new(), expires_at: 0,
        };
        let has = |list: &Option<Vec<String>>, x: &str| list.iter().flatten().any(|v| v == x);
        let model = has(&held_roles, "A") || (has(&held_roles, "B") && has(&held_roles, "C")) || has(&held_scopes, "s");
        let outcome = rule.check(&claims, "/p");
        prop_assert_eq!(outcome.is_ok(), model);
        if let Err(error) = outcome {
            let expected = if held_roles.is_none() && held_scopes.is_none() { "missing_role" } else { "missing_path_role" };
            prop_assert_eq!(error.code().key(), expected);
        }
    }
}
