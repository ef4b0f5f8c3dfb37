//! Fuzzes the `Authorization` header parser and the token validator together. The first
//! byte picks the mode: the rest is either a raw header value, or a claims payload that is
//! signed by the trusted key (so claim parsing and checking run past the signature).

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;
use vaultgate::auth::dev_key::local_validator;
use vaultgate::auth::{Validator, bearer};
use vaultgate_tests::signing::TestKey;

struct Fixture {
    _dir: tempfile::TempDir,
    key: TestKey,
    validator: Validator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        vaultgate::crypto::install_providers();
        let dir = tempfile::tempdir().unwrap();
        let key = TestKey::load_or_create(dir.path());
        let validator = local_validator(key.dev_key(), Duration::from_secs(60), 10_000);
        Fixture { _dir: dir, key, validator }
    })
}

fn check(token: &str) {
    let outcome = fixture().validator.verify(token).now_or_never().expect("static keys never wait");
    if let Err(refusal) = outcome {
        let status = refusal.code().status();
        assert!(status == 401, "a token refusal must be a 401, got {status}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let Ok(value) = HeaderValue::from_bytes(rest) else { return };
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        match bearer::token(&headers) {
            Ok(token) => check(token),
            Err(error) => assert_eq!(error.code().status(), 401),
        }
    } else {
        let fixture = fixture();
        let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, fixture.key.kid());
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(rest));
        let signature = fixture.key.sign_raw(&RSA_PKCS1_SHA256, signed.as_bytes());
        check(&format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)));
    }
});
