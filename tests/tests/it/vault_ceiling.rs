//! vaultgate's own ceiling on Key Vault GETs (`KEY_VAULT_MAX_GETS_PER_10S`, under Key Vault's
//! 4,000 per 10 s): past it, misses answer 503 `AzureKeyVaultThrottled` without a vault call,
//! and cached secrets keep being served within their TTL, never past it (the ceiling is not a
//! vault failure, so stale-if-error does not cover it).

use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::error;
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::http::metric;

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

fn azure() -> Azure {
    let azure = Azure::start();
    for name in ["one", "two", "three", "four"] {
        azure.vault.put(name, FakeSecret::new(V1, &format!("{name}-value")));
    }
    azure
}

#[actix_web::test]
async fn past_the_ceiling_misses_answer_503_and_cached_secrets_are_served() {
    let azure = azure();
    let app = azure.app(&[("KEY_VAULT_MAX_GETS_PER_10S", "4")]).await;
    // `one` costs two GETs (the challenge, then the read); `two` and `three` one each.
    for name in ["one", "two", "three"] {
        assert_eq!(app.get_secret(&format!("/vault/{name}")).await.status, 200, "{name}");
    }
    assert_eq!(azure.vault.gets(), 4);

    let answer = app.get_secret("/vault/four").await;
    assert_eq!(answer.status, 503, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(
        answer.json(),
        error("AzureKeyVaultThrottled", "Azure Key Vault is throttling requests; try again later.")
    );
    let retry_after: u64 = answer.header("retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(azure.vault.gets(), 4, "refused without calling the vault");

    for name in ["one", "two", "three"] {
        assert_eq!(app.get_secret(&format!("/vault/{name}")).await.json()["value"], format!("{name}-value"));
    }
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_keyvault_ceiling_refusals_total"), 1.0);
}

fn assert_throttled(answer: &vaultgate_tests::Reply, case: &str) {
    assert_eq!(answer.status, 503, "{case}: {:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(
        answer.json(),
        error("AzureKeyVaultThrottled", "Azure Key Vault is throttling requests; try again later."),
        "{case}"
    );
    let retry_after: u64 = answer.header("retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{case}: Retry-After {retry_after}");
}

#[actix_web::test]
async fn the_ceiling_never_serves_a_value_past_its_ttl() {
    let azure = azure();
    let app = azure.app(&[("KEY_VAULT_MAX_GETS_PER_10S", "3"), ("SECRET_CACHE_TTL", "0")]).await;
    assert_eq!(app.get_secret("/vault/one").await.status, 200);
    // An administrator disables `one`; with no TTL, its next read must ask the vault.
    azure.vault.disable("one", V1);
    assert_eq!(app.get_secret("/vault/two").await.status, 200);
    assert_eq!(azure.vault.gets(), 3);
    // At the ceiling the read is not sent, and the value past its TTL is not served for it.
    assert_throttled(&app.get_secret("/vault/one").await, "a cached secret past its TTL");
    assert_throttled(&app.get_secret("/vault/three").await, "an uncached secret");
    assert_eq!(azure.vault.gets(), 3, "refused without calling the vault");
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "vaultgate_keyvault_ceiling_refusals_total"), 2.0);
    assert_eq!(metric(&metrics, "vaultgate_secret_cache_stale_served_total"), 0.0);
}
