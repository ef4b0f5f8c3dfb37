//! Local mode end to end: the real server on a free port, spoken to over HTTP.

use actix_web::http::header::AUTHORIZATION;
use serde_json::{Value, json};
use vaultgate_tests::app::shared_key;
use vaultgate_tests::expected::{self, error, invalid_claims};
use vaultgate_tests::http::client;
use vaultgate_tests::signing::TestKey;
use vaultgate_tests::tokens::{self, claims, forge, hs256, now};
use vaultgate_tests::{Reply, TestApp, send};

const UNPARSABLE: (&str, &str) = ("InvalidAuthorizationHeader", "Unable to parse authentication token");
const NO_KEY: (&str, &str) = ("InvalidAuthorizationHeader", "Unable to find appropriate key");

fn assert_refused_token(reply: &Reply, body: Value) {
    expected::assert_refused_token(reply, body, "");
}

#[actix_web::test]
async fn the_right_role_reads_a_secret() {
    let app = TestApp::spawn().await;
    let answer = app.get_as("/vault/demo", &tokens::valid(shared_key(), &["GetSecret"])).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json();
    assert_eq!(body["name"], "demo");
    assert_eq!(body["value"], "hello from vaultgate");
    assert_eq!(body["version"].as_str().unwrap().len(), 32);
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

#[actix_web::test]
async fn a_secret_reads_by_its_version_and_by_the_query_form() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["Reader", "GetSecret"]);
    let current = app.get_as("/vault/db-password", &token).await.json();
    let version = current["version"].as_str().unwrap();

    let by_version = app.get_as(&format!("/vault/db-password/{version}"), &token).await;
    assert_eq!(by_version.status, 200);
    assert_eq!(by_version.json(), current);

    let by_query = app.get_as("/vault?secret=db-password", &token).await;
    assert_eq!(by_query.status, 200);
    assert_eq!(by_query.json(), current);

    let other_version = app.get_as(&format!("/vault/db-password/{}", "0".repeat(32)), &token).await;
    assert_eq!(other_version.status, 404);
    assert_eq!(other_version.json(), error("SecretNotFound", "Requested secret not found in Key Vault."));
}

#[actix_web::test]
async fn no_header_is_refused_with_a_plain_challenge() {
    let app = TestApp::spawn().await;
    let answer = app.get("/vault/demo").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(answer.json(), error("AuthorizationHeaderMissing", "Authorization header is missing from the request"));
}

#[actix_web::test]
async fn malformed_headers_get_their_catalog_answers() {
    let app = TestApp::spawn().await;
    let cases: &[(&[u8], (&str, &str))] = &[
        (b"", ("AuthorizationHeaderMissing", "Authorization header is missing from the request")),
        (b"   ", ("AuthorizationHeaderMissing", "Authorization header is missing from the request")),
        (b"Basic dXNlcjpwYXNz", ("InvalidAuthorizationHeader", "Authorization header must start with Bearer")),
        (b"Token abc", ("InvalidAuthorizationHeader", "Authorization header must start with Bearer")),
        (b"\xffBearer abc", ("InvalidAuthorizationHeader", "Authorization header must start with Bearer")),
        (b"Bearer", ("AuthorizationTokenNotFound", "Authorization does not contain Token")),
        (b"bearer   ", ("AuthorizationTokenNotFound", "Authorization does not contain Token")),
        (b"Bearer a b", ("InvalidAuthorizationHeaderFormat", "Authorization header must be Bearer token")),
        (b"Bearer not-a-jwt", UNPARSABLE),
        (b"Bearer \xff\xfe\xfd", UNPARSABLE),
        (b"Bearer a.b.c", UNPARSABLE),
    ];
    for (header, (code, description)) in cases {
        let answer = app.get_with_authorization("/vault/demo", header).await;
        assert_eq!(answer.status, 401, "{:?}", String::from_utf8_lossy(header));
        assert_eq!(answer.json(), error(code, description), "{:?}", String::from_utf8_lossy(header));
        assert!(answer.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
}

#[actix_web::test]
async fn the_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    let answer = app.get_with_authorization("/vault/demo", format!("bEARer {token}").as_bytes()).await;
    assert_eq!(answer.status, 200);
}

#[actix_web::test]
async fn a_token_signed_by_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = TestKey::load_or_create(other_dir.path());

    // Another key under its own kid: no trusted key has that kid.
    let answer = app.get_as("/vault/demo", &tokens::valid(&other, &["GetSecret"])).await;
    assert_refused_token(&answer, error(NO_KEY.0, NO_KEY.1));

    // Another key claiming the trusted kid: the signature does not verify.
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": shared_key().kid()});
    let forged = other.sign_with_header(&header, &claims(&["GetSecret"]));
    let answer = app.get_as("/vault/demo", &forged).await;
    assert_refused_token(&answer, invalid_claims("Signature verification failed"));
}

#[actix_web::test]
async fn tampered_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["Reader"]);
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, _) = signed.split_once('.').unwrap();
    // Claims swapped for ones granting the role, original signature kept.
    let swapped = format!("{header}.{}.{signature}", tokens::b64(claims(&["GetSecret"]).to_string()));
    let answer = app.get_as("/vault/demo", &swapped).await;
    assert_refused_token(&answer, invalid_claims("Signature verification failed"));
    // Signature stripped.
    let answer = app.get_as("/vault/demo", &format!("{signed}.")).await;
    assert_refused_token(&answer, error(UNPARSABLE.0, UNPARSABLE.1));
}

#[actix_web::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let key = shared_key();

    let mut expired = claims(&["GetSecret"]);
    expired["exp"] = json!(now() - 120);
    let answer = app.get_as("/vault/demo", &key.sign(&expired)).await;
    assert_refused_token(&answer, error("AuthorizationTokenExpired", "Authorization bearer token is expired."));

    // Within the default 60 s leeway an expired token still passes.
    let mut just_expired = claims(&["GetSecret"]);
    just_expired["exp"] = json!(now() - 10);
    assert_eq!(app.get_as("/vault/demo", &key.sign(&just_expired)).await.status, 200);

    let mut early = claims(&["GetSecret"]);
    early["nbf"] = json!(now() + 600);
    let answer = app.get_as("/vault/demo", &key.sign(&early)).await;
    assert_refused_token(&answer, invalid_claims("The token is not yet valid (nbf)"));

    let mut issued_later = claims(&["GetSecret"]);
    issued_later["iat"] = json!(now() + 600);
    let answer = app.get_as("/vault/demo", &key.sign(&issued_later)).await;
    assert_refused_token(&answer, invalid_claims("The token is not yet valid (iat)"));

    let mut no_exp = claims(&["GetSecret"]);
    no_exp.as_object_mut().unwrap().remove("exp");
    let answer = app.get_as("/vault/demo", &key.sign(&no_exp)).await;
    assert_refused_token(&answer, invalid_claims("Token is missing the \"exp\" claim"));
}

#[actix_web::test]
async fn wrong_audience_and_issuer_are_refused() {
    let app = TestApp::spawn().await;
    let key = shared_key();
    for aud in [json!("api://someone-else"), json!("https://vault.azure.net"), json!(["a", "b"]), json!(42)] {
        let mut wrong = claims(&["GetSecret"]);
        wrong["aud"] = aud.clone();
        let answer = app.get_as("/vault/demo", &key.sign(&wrong)).await;
        let debug = if aud.is_number() { "A claim has an invalid type" } else { "Invalid audience" };
        assert_refused_token(&answer, invalid_claims(debug));
    }
    let mut wrong = claims(&["GetSecret"]);
    wrong["iss"] = json!("https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    let answer = app.get_as("/vault/demo", &key.sign(&wrong)).await;
    assert_refused_token(&answer, invalid_claims("Invalid issuer"));
}

#[actix_web::test]
async fn algorithm_confusion_is_refused() {
    let app = TestApp::spawn().await;
    let key = shared_key();
    let kid = key.kid();
    let body = claims(&["GetSecret"]);

    for alg in ["none", "None", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        // The usual form: an empty signature.
        let unsigned = format!("{}.{}.", tokens::b64(header.to_string()), tokens::b64(body.to_string()));
        let answer = app.get_as("/vault/demo", &unsigned).await;
        assert_refused_token(&answer, error(UNPARSABLE.0, UNPARSABLE.1));
        // With some signature bytes: the algorithm itself is refused.
        let answer = app.get_as("/vault/demo", &forge(&header, &body, b"x")).await;
        assert_refused_token(&answer, invalid_claims("The specified alg value is not allowed"));
    }

    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let answer = app.get_as("/vault/demo", &hs256(&header, &body, key.public_key_der())).await;
    assert_refused_token(&answer, invalid_claims("The specified alg value is not allowed"));

    // RS256 signature bytes under a header naming another algorithm.
    let header = json!({"alg": "RS512", "typ": "JWT", "kid": kid});
    let answer = app.get_as("/vault/demo", &key.sign_with_header(&header, &body)).await;
    assert_refused_token(&answer, invalid_claims("The specified alg value is not allowed"));

    // No kid at all.
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let answer = app.get_as("/vault/demo", &key.sign_with_header(&header, &body)).await;
    assert_refused_token(&answer, error(NO_KEY.0, NO_KEY.1));
}

#[actix_web::test]
async fn tokens_without_the_role_are_forbidden() {
    let app = TestApp::spawn().await;
    let key = shared_key();

    let answer = app.get_as("/vault/demo", &tokens::valid(key, &[])).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json(), error("MissingRoles", "Access token missing roles."));
    assert_eq!(answer.header("www-authenticate"), Some(r#"Bearer error="insufficient_scope", scope="GetSecret""#));

    let answer = app.get_as("/vault/demo", &tokens::valid(key, &["Reader"])).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json(),
        json!({
            "code": "MissingRequiredRole",
            "description": "Access token missing required roles.",
            "debug": "Missing required role for accessing path /vault/demo"
        })
    );
    assert_eq!(answer.header("www-authenticate"), Some(r#"Bearer error="insufficient_scope", scope="GetSecret""#));

    // A delegated token whose scopes do not include what the route needs.
    let mut delegated = claims(&[]);
    delegated["scp"] = json!("User.Read");
    let answer = app.get_as("/vault/demo", &key.sign(&delegated)).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["code"], "MissingRequiredRole");
}

#[actix_web::test]
async fn secret_names_and_versions_are_checked_before_the_store() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    let bad_name = error("InvalidSecretName", "Secret name must be 1 to 127 letters, digits and dashes.");
    let too_long = format!("/vault/{}", "a".repeat(128));
    for path in [
        "/vault/bad_name",
        "/vault/a.b",
        "/vault/%2e%2e",
        "/vault/%2Fetc%2Fpasswd",
        "/vault/%ff",
        too_long.as_str(),
        "/vault?secret=..%2Fx",
    ] {
        let answer = app.get_as(path, &token).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json(), bad_name, "{path}");
    }
    let answer = app.get_as("/vault/demo/latest", &token).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json(), error("InvalidSecretVersion", "Secret version must be 32 hexadecimal characters."));

    let answer = app.get_as("/vault/no-such-secret", &token).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json(), error("SecretNotFound", "Requested secret not found in Key Vault."));
}

#[actix_web::test]
async fn vault_without_secret_answers_its_message_after_the_token_check() {
    let app = TestApp::spawn().await;
    let answer = app.get("/vault").await;
    assert_eq!(answer.status, 401, "the token is checked first");

    let token = tokens::valid(shared_key(), &["GetSecret"]);
    for path in ["/vault", "/vault?secret=", "/vault?other=1"] {
        let answer = app.get_as(path, &token).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json(), json!({"message": "Secret name is missing. Please use QP secret=<secret_name>"}));
    }
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    let answer =
        send(client().head(app.url("/vault/demo")).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(answer.body.is_empty());

    let answer = send(client().head(app.url("/vault/demo"))).await;
    assert_eq!(answer.status, 401);
    let answer = send(client().head(app.url("/health"))).await;
    assert_eq!(answer.status, 200);
}

#[actix_web::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = TestApp::spawn().await;
    let answer = app.get("/nope").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json(), error("RouteNotFound", "The requested route does not exist."));

    let answer = send(client().post(app.url("/vault/demo"))).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, HEAD"));
    assert_eq!(answer.json(), error("MethodNotAllowed", "The requested method is not allowed on this route."));

    let answer = send(client().delete(app.url("/health"))).await;
    assert_eq!(answer.status, 405);
}

#[actix_web::test]
async fn health_is_open() {
    let app = TestApp::spawn().await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["status"], "healthy");
}

#[actix_web::test]
async fn error_bodies_never_echo_the_token() {
    let app = TestApp::spawn().await;
    let key = shared_key();
    let mut expired = claims(&["GetSecret"]);
    expired["exp"] = json!(now() - 3600);
    for token in [key.sign(&expired), tokens::valid(key, &["Reader"]), "x.y.z".to_owned()] {
        let answer = app.get_as("/vault/demo", &token).await;
        let text = String::from_utf8_lossy(&answer.body);
        assert!(!text.contains(&token), "{text}");
        assert!(!answer.headers.iter().any(|(_, v)| v.as_bytes().windows(token.len()).any(|w| w == token.as_bytes())));
    }
}

#[actix_web::test]
async fn an_oversized_authorization_header_is_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let huge = format!("Bearer {}", "a".repeat(17 * 1024));
    let answer = app.get_with_authorization("/vault/demo", huge.as_bytes()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json(), error("InvalidAuthorizationHeaderFormat", "Authorization header must be Bearer token"));
}

#[actix_web::test]
async fn two_authorization_headers_are_refused() {
    let app = TestApp::spawn().await;
    let token = tokens::valid(shared_key(), &["GetSecret"]);
    let request = client()
        .get(app.url("/vault/demo"))
        .append_header((AUTHORIZATION, format!("Bearer {token}")))
        .append_header((AUTHORIZATION, "Bearer other"));
    let answer = send(request).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json(), error("InvalidAuthorizationHeaderFormat", "Authorization header must be Bearer token"));
}
