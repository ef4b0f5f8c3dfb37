//! Hostile input over HTTP: arbitrary Authorization bytes and arbitrary secret names never
//! get a 5xx, and every refusal is catalog JSON. (The exhaustive properties, with a model of
//! the rules, live beside the code in `app/src/auth/properties.rs`.)

use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::http::client;
use vaultgate_tests::{Reply, TestApp, send, tokens};

const CASES: usize = 200;

fn samples<S: Strategy>(strategy: S) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..CASES).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect()
}

fn assert_catalog_answer(answer: &Reply, case: &str) {
    assert!(answer.status.as_u16() < 500, "{case}: {}", answer.status);
    if answer.status.as_u16() >= 400 {
        let body = answer.json();
        let ok = body["code"].is_string() && body["description"].is_string() || body["message"].is_string();
        assert!(ok, "{case}: not catalog JSON: {body}");
    }
}

#[actix_web::test]
async fn arbitrary_authorization_bytes_never_get_a_5xx() {
    let app = TestApp::spawn().await;
    let valid = tokens::valid(shared_key(), &["GetSecret"]);
    let headers = samples(proptest::collection::vec(proptest::num::u8::ANY, 0..400));
    for bytes in headers {
        // Mix in the shape of a real header half of the time, so parsing goes deep.
        let bytes = if bytes.first().is_some_and(|b| b % 2 == 0) {
            let mut real = format!("Bearer {}", &valid[..valid.len().min(bytes.len())]).into_bytes();
            real.extend_from_slice(&bytes);
            real
        } else {
            bytes
        };
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { continue };
        let answer = send(client().get(app.url("/vault/demo")).insert_header((AUTHORIZATION, value))).await;
        assert_catalog_answer(&answer, &format!("{bytes:?}"));
        assert_ne!(answer.status, 200, "{bytes:?}");
    }
}

#[actix_web::test]
async fn arbitrary_secret_names_never_get_a_5xx() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    let names = samples("[\\PC%./\\\\-]{0,140}");
    for name in names {
        let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        for path in [format!("/vault/{encoded}"), format!("/vault?secret={encoded}"), format!("/vault/demo/{encoded}")]
        {
            let answer =
                send(client().get(app.url(&path)).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await;
            assert_catalog_answer(&answer, &path);
        }
    }
}
