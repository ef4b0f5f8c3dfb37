//! Misses cannot flood the vault: each caller (`oid`, else `azp`/`appid`) has a budget of
//! fruitless store reads per 10 s (`SECRET_MISS_BUDGET`), reserved before the store is asked
//! (reads in flight count), with at most 8 misses under way at once; past it that caller's
//! cache misses answer 429 without a store call, while other callers, cache hits and found
//! secrets are never limited.

use std::time::Instant;

use serde_json::{Value, json};
use vaultgate_tests::TestApp;
use vaultgate_tests::app::shared_key;
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, secret_not_found};
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::http::{Reply, client, metric, send_body};
use vaultgate_tests::{logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

fn caller(oid: &str) -> String {
    tokens::valid_for(shared_key(), &["GetSecret"], Some(oid), Some("shared-client"))
}

fn application(azp: &str) -> String {
    tokens::valid_for(shared_key(), &["GetSecret"], None, Some(azp))
}

fn budget_spent() -> Value {
    error("SecretMissBudgetExceeded", "Too many reads of secrets that could not be found; try again later.")
}

fn assert_budget_spent(answer: &Reply, case: &str) {
    assert_eq!(answer.status, 429, "{case}: {:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json(), budget_spent(), "{case}");
    let retry_after: u64 = answer.header("retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{case}: Retry-After {retry_after}");
}

/// A vault with `warm-up` and ten `real-N` secrets, and vaultgate with a miss budget of `budget`.
async fn setup(budget: &str) -> (Azure, TestApp) {
    setup_with(&[("SECRET_MISS_BUDGET", budget)]).await
}

async fn setup_with(vars: &[(&str, &str)]) -> (Azure, TestApp) {
    let azure = Azure::start();
    azure.vault.put("warm-up", FakeSecret::new(V1, "warm"));
    for i in 0..10 {
        azure.vault.put(&format!("real-{i}"), FakeSecret::new(V1, &format!("value-{i}")));
    }
    let app = azure.app(vars).await;
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

/// `POST /vault` with `names`, as `token`.
async fn batch(app: &TestApp, token: &str, names: &[String]) -> Reply {
    let request = client()
        .post(app.url("/vault"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"));
    send_body(request, json!({ "names": names }).to_string()).await
}

const BUDGET: usize = 30;
const TURNS: usize = 8;
const BATCHES: usize = 250;
const NAMES_PER_BATCH: usize = 100;

/// The review's load (budget 30, ceiling 2,000, 2 workers): one caller sends 250 parallel
/// batches of 100 unknown names. Reads in flight hold their units, so its GETs stay within
/// `SECRET_MISS_BUDGET` + 8 per 10 s (not the whole ceiling), and another caller's cold reads
/// keep answering 200. Prints the figures of docs/SECURITY.md (`-- --nocapture`).
#[actix_web::test]
async fn parallel_batches_of_unknown_names_cost_at_most_the_budget_and_the_turns_under_way() {
    let budget = BUDGET.to_string();
    let (azure, app) =
        setup_with(&[("SECRET_MISS_BUDGET", &budget), ("KEY_VAULT_MAX_GETS_PER_10S", "2000"), ("WORKERS", "2")]).await;
    let (greedy, bystander) = (caller("greedy-batches"), caller("bystander"));
    let batches: Vec<Vec<String>> =
        (0..BATCHES).map(|b| (0..NAMES_PER_BATCH).map(|n| format!("unknown-{b}-{n}")).collect()).collect();
    let before = azure.vault.gets();

    // The vault holds its answers until the greedy caller's first turns and the bystander's
    // cold read are all at the vault.
    azure.vault.hold();
    let started = Instant::now();
    let flood = futures_util::future::join_all(batches.iter().map(|names| batch(&app, &greedy, names)));
    let bystander_during = async {
        azure.vault.holding(TURNS).await;
        let read = app.get_as("/vault/real-0", &bystander);
        let release = async {
            azure.vault.holding(TURNS + 1).await;
            let at_vault = azure.vault.gets() - before;
            azure.vault.release();
            at_vault
        };
        futures_util::future::join(read, release).await
    };
    let (answers, (during, at_vault)) = futures_util::future::join(flood, bystander_during).await;
    let elapsed = started.elapsed();
    assert_eq!(at_vault, TURNS + 1, "the greedy caller's {TURNS} turns and the bystander's read, no more");
    assert_eq!(during.status, 200, "{:?}", String::from_utf8_lossy(&during.body));

    let (mut not_found, mut refused) = (0, 0);
    for (index, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, 200, "batch {index}");
        let body = answer.json();
        assert_eq!(body["secrets"], json!({}), "batch {index}");
        for (name, outcome) in body["errors"].as_object().expect("errors by name") {
            match outcome {
                o if *o == secret_not_found() => not_found += 1,
                o if *o == budget_spent() => refused += 1,
                other => panic!("batch {index}, {name}: {other}"),
            }
        }
    }
    assert_eq!(not_found + refused, BATCHES * NAMES_PER_BATCH);
    let greedy_gets = azure.vault.gets() - before - 1;
    assert_eq!(greedy_gets, not_found, "one GET per name answered SecretNotFound, none for a refusal");
    // Per 10 s; a run longer than that (a slow machine) may spend the budget once per window.
    let windows = elapsed.as_secs_f64().div_euclid(10.0) as usize + 1;
    assert!(greedy_gets <= BUDGET * windows + TURNS, "{greedy_gets} GETs in {elapsed:?}");

    // The bystander's cold reads right after the flood: 200, not 503 for a full ceiling.
    for i in 1..10 {
        let answer = app.get_as(&format!("/vault/real-{i}"), &bystander).await;
        assert_eq!(answer.status, 200, "real-{i}: {:?}", String::from_utf8_lossy(&answer.body));
    }
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_charged_total"), not_found as f64);
    assert_eq!(metric(&metrics, "vaultgate_secret_miss_budget_refusals_total"), refused as f64);
    assert_eq!(metric(&metrics, "vaultgate_keyvault_ceiling_refusals_total"), 0.0);
    eprintln!(
        "miss budget {BUDGET}, ceiling 2000, 2 workers: {BATCHES} parallel batches of {NAMES_PER_BATCH} unknown names \
         from one caller caused {greedy_gets} vault GETs ({refused} names answered 429) in {:.2} s; \
         the other caller's 10 cold reads answered 200",
        elapsed.as_secs_f64()
    );
}
