//! Misses cannot flood the vault: each caller (`oid`, else `azp`/`appid`) has a budget of
//! fruitless store reads per 10 s (`SECRET_MISS_BUDGET`); past it that caller's cache misses
//! answer 429 without a store call, while other callers, cache hits and found secrets are
//! never limited.

use vaultgate_tests::TestApp;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, secret_not_found};
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::http::{Reply, metric};
use vaultgate_tests::{logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

fn caller(oid: &str) -> String {
    tokens::valid_for(shared_key(), &["GetSecret"], Some(oid), Some("shared-client"))
}

fn application(azp: &str) -> String {
    tokens::valid_for(shared_key(), &["GetSecret"], None, Some(azp))
}

fn assert_budget_spent(answer: &Reply, case: &str) {
    assert_eq!(answer.status, 429, "{case}: {:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(
        answer.json(),
        error("SecretMissBudgetExceeded", "Too many reads of secrets that could not be found; try again later."),
        "{case}"
    );
    let retry_after: u64 = answer.header("retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{case}: Retry-After {retry_after}");
}

/// A vault with `warm-up` and ten `real-N` secrets, and vaultgate with a miss budget of `budget`.
async fn setup(budget: &str) -> (Azure, TestApp) {
    let azure = Azure::start();
    azure.vault.put("warm-up", FakeSecret::new(V1, "warm"));
    for i in 0..10 {
        azure.vault.put(&format!("real-{i}"), FakeSecret::new(V1, &format!("value-{i}")));
    }
    let app = azure.app(&[("SECRET_MISS_BUDGET", budget)]).await;
    // Another caller warms the credential (the challenge) and caches `warm-up`.
    assert_eq!(app.get_as("/vault/warm-up", &caller("warming-caller")).await.status, 200);
    (azure, app)
}

#[actix_web::test]
async fn past_its_budget_a_callers_misses_answer_429_without_a_vault_call() {
    let (azure, app) = setup("3").await;
    let greedy = caller("greedy-caller");
    for i in 0..3 {
        assert_eq!(app.get_as(&format!("/vault/missing-{i}"), &greedy).await.json(), secret_not_found());
    }
    let before = azure.vault.gets();
    assert_budget_spent(&app.get_as("/vault/missing-3", &greedy).await, "a fourth missing name");
    assert_budget_spent(&app.get_as("/vault/real-0", &greedy).await, "an existing but uncached name");
    assert_eq!(azure.vault.gets(), before, "refused without calling the vault");

    // Cache hits are still served: a cached secret, and a remembered miss.
    assert_eq!(app.get_as("/vault/warm-up", &greedy).await.status, 200);
    assert_eq!(app.get_as("/vault/missing-0", &greedy).await.json(), secret_not_found());
    // Another caller is unaffected, even for the same names.
    assert_eq!(app.get_as("/vault/missing-7", &caller("other-caller")).await.json(), secret_not_found());
    assert_eq!(app.get_as("/vault/real-0", &caller("other-caller")).await.status, 200);
    // ... and once `real-0` is cached, the greedy caller reads it too.
    assert_eq!(app.get_as("/vault/real-0", &greedy).await.status, 200);

    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_refusals_total"), 2.0);
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_charged_total"), 4.0);
}

#[actix_web::test]
async fn found_secrets_never_count() {
    let (_azure, app) = setup("3").await;
    let loader = caller("loader");
    for i in 0..10 {
        assert_eq!(app.get_as(&format!("/vault/real-{i}"), &loader).await.status, 200, "real-{i}");
    }
    for i in 0..3 {
        assert_eq!(app.get_as(&format!("/vault/missing-{i}"), &loader).await.status, 404);
    }
    assert_budget_spent(&app.get_as("/vault/missing-3", &loader).await, "the fourth miss");
}

#[actix_web::test]
async fn refused_secrets_count_as_fruitless() {
    let (azure, app) = setup("2").await;
    azure.vault.put("switched-off", FakeSecret { enabled: false, ..FakeSecret::new(V1, "off") });
    let prober = caller("prober");
    assert_eq!(app.get_as("/vault/switched-off", &prober).await.status, 403);
    assert_eq!(app.get_as("/vault/missing-0", &prober).await.status, 404);
    assert_budget_spent(&app.get_as("/vault/missing-1", &prober).await, "after a refusal and a miss");
}

#[actix_web::test]
async fn callers_without_an_oid_are_told_apart_by_their_application() {
    let (_azure, app) = setup("2").await;
    assert_eq!(app.get_as("/vault/missing-0", &application("app-one")).await.status, 404);
    assert_eq!(app.get_as("/vault/missing-1", &application("app-one")).await.status, 404);
    assert_budget_spent(&app.get_as("/vault/missing-2", &application("app-one")).await, "app-one");
    assert_eq!(app.get_as("/vault/missing-2", &application("app-two")).await.status, 404);
}

#[actix_web::test]
async fn the_folder_store_is_budgeted_too() {
    logs::start_capture();
    let app = TestApp::spawn_with(&[("SECRET_MISS_BUDGET", "1")]).await;
    let token = caller("folder-reader");
    assert_eq!(app.get_as("/vault/nothing-here", &token).await.status, 404);
    assert_budget_spent(&app.get_as("/vault/nothing-there", &token).await, "the folder store");
    assert_eq!(app.get_as("/vault/demo", &token).await.status, 429, "an uncached secret is a miss too");
}
