//! vaultgate's own ceiling on Key Vault GETs (`KEY_VAULT_MAX_GETS_PER_10S`, under Key Vault's
//! 4,000 per 10 s): past it, misses answer 503 `AzureKeyVaultThrottled` without a vault call,
//! and cached secrets keep being served.

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

#[actix_web::test]
async fn without_a_ttl_the_last_good_value_covers_the_ceiling() {
    let azure = azure();
    let app = azure.app(&[("KEY_VAULT_MAX_GETS_PER_10S", "3"), ("SECRET_CACHE_TTL", "0")]).await;
    assert_eq!(app.get_secret("/vault/one").await.status, 200);
    assert_eq!(app.get_secret("/vault/two").await.status, 200);
    assert_eq!(azure.vault.gets(), 3);
    // Every read goes to the store (no TTL); at the ceiling, the last good value is served.
    assert_eq!(app.get_secret("/vault/one").await.json()["value"], "one-value");
    assert_eq!(app.get_secret("/vault/three").await.status, 503);
    assert_eq!(azure.vault.gets(), 3);
}
