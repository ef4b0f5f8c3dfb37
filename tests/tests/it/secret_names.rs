//! Secret names are case-insensitive, as in Key Vault: `/vault/payroll-token`,
//! `/vault/PAYROLL-TOKEN` and `/vault?secret=Payroll-Token` are one secret, with one cache entry,
//! one vault GET, one exposure and role decision, and the stored name in the answer and the
//! audit line.

use std::collections::HashMap;

use serde_json::json;
use vaultgate::Settings;
use vaultgate::startup::Application;
use vaultgate_tests::app::{shared_key, shared_key_dir};
use vaultgate_tests::azure::Azure;
use vaultgate_tests::expected::{error, secret_not_found};
use vaultgate_tests::fake_keyvault::FakeSecret;
use vaultgate_tests::{TestApp, logs, tokens};

const V1: &str = "41cce6796d81438f9dad0d96bf85d50d";

/// A vault holding `Payroll-Token` (stored with that casing).
fn azure() -> Azure {
    let azure = Azure::start();
    azure.vault.put("Payroll-Token", FakeSecret::new(V1, "payroll-value-4412"));
    azure
}

#[actix_web::test]
async fn every_casing_reads_one_cached_secret_under_its_stored_name() {
    let azure = azure();
    let app = azure.app(&[]).await;
    let expected =
        json!({"name": "Payroll-Token", "value": "payroll-value-4412", "version": V1, "contentType": "text/plain"});
    for path in ["/vault/payroll-token", "/vault/PAYROLL-TOKEN", "/vault?secret=PayRoll-Token", "/vault/Payroll-Token"]
    {
        let answer = app.get_secret(path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.json(), expected, "{path}");
    }
    // The first read met the challenge (two GETs); every later casing was a cache hit.
    assert_eq!(azure.vault.gets_of("payroll-token"), 2);

    let audit: Vec<String> = logs::lines().into_iter().filter(|l| l.starts_with("INFO audit ")).collect();
    let served = |l: &&String| l.contains("outcome=ok") && l.to_ascii_lowercase().contains("secret=payroll-token ");
    let served: Vec<&String> = audit.iter().filter(served).collect();
    assert!(served.len() >= 4, "{audit:#?}");
    assert!(
        served.iter().all(|l| l.contains(&format!("secret=Payroll-Token version={V1} outcome=ok"))),
        "audit lines name the stored secret: {served:#?}"
    );
}

#[actix_web::test]
async fn concurrent_reads_in_different_casings_share_one_get() {
    let azure = azure();
    let app = azure.app(&[]).await;
    azure.vault.put("warm-up", FakeSecret::new(V1, "warm"));
    assert_eq!(app.get_secret("/vault/warm-up").await.status, 200, "warms the credential");
    azure.vault.hold();
    let paths = ["/vault/payroll-token", "/vault/PAYROLL-TOKEN", "/vault/PayRoll-Token", "/vault?secret=pAyRoLl-ToKeN"];
    let reads = futures_util::future::join_all((0..40).map(|i| app.get_secret(paths[i % paths.len()])));
    let releaser = async {
        azure.vault.holding(1).await;
        azure.vault.release();
    };
    let (answers, ()) = futures_util::future::join(reads, releaser).await;
    assert!(answers.iter().all(|a| a.status == 200 && a.json()["name"] == "Payroll-Token"));
    assert_eq!(azure.vault.gets_of("payroll-token"), 1);
}

#[actix_web::test]
async fn a_missing_name_is_one_negative_entry_in_every_casing() {
    let azure = azure();
    let app = azure.app(&[]).await;
    for path in ["/vault/no-such", "/vault/NO-SUCH", "/vault?secret=No-Such", "/vault/nO-sUcH"] {
        let answer = app.get_secret(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.json(), secret_not_found(), "{path}");
    }
    assert_eq!(azure.vault.gets_of("no-such"), 2, "the challenged GET and one answered GET");
}

#[actix_web::test]
async fn exposure_and_roles_decide_the_same_for_every_casing() {
    let azure = azure();
    azure.vault.put("api-key", FakeSecret::new(V1, "api-value"));
    let app = azure.app(&[("EXPOSED_SECRETS", "PAYROLL-*"), ("SECRET_ROLES", "payroll-*=PayrollReader")]).await;
    let reader = tokens::valid(shared_key(), &["GetSecret", "PayrollReader"]);
    let plain = tokens::valid(shared_key(), &["GetSecret"]);
    for path in ["/vault/payroll-token", "/vault/PAYROLL-TOKEN", "/vault?secret=PayRoll-Token"] {
        assert_eq!(app.get_as(path, &reader).await.json()["name"], "Payroll-Token", "{path}");
        let refused = app.get_as(path, &plain).await;
        assert_eq!(refused.status, 403, "{path}");
        assert_eq!(refused.json()["code"], "MissingRequiredRole", "{path}");
    }
    for path in ["/vault/api-key", "/vault/API-KEY"] {
        assert_eq!(app.get_as(path, &reader).await.json(), secret_not_found(), "{path}");
    }
    assert_eq!(azure.vault.gets_of("api-key"), 0);
}

#[actix_web::test]
async fn the_folder_store_answers_with_the_files_name() {
    logs::start_capture();
    let app = TestApp::spawn().await;
    std::fs::write(app.secrets_dir.join("Api-Key"), "folder-api-value").unwrap();
    for path in ["/vault/api-key", "/vault/API-KEY", "/vault?secret=Api-Key", "/vault/DEMO"] {
        let answer = app.get_secret(path).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", String::from_utf8_lossy(&answer.body));
        let expected = if path.ends_with("DEMO") { "demo" } else { "Api-Key" };
        assert_eq!(answer.json()["name"], expected, "{path}");
    }
    let version = app.get_secret("/vault/api-key").await.json()["version"].as_str().unwrap().to_owned();
    let answer = app.get_secret(&format!("/vault/API-key/{}", version.to_uppercase())).await;
    assert_eq!(answer.json()["name"], "Api-Key");
    assert_eq!(answer.json()["value"], "folder-api-value");
}

#[actix_web::test]
async fn two_files_differing_only_in_case_stop_the_start() {
    logs::start_capture();
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("PayRoll-Token"), "one").unwrap();
    std::fs::write(secrets.path().join("payroll-token"), "two").unwrap();
    std::fs::write(secrets.path().join("demo"), "fine").unwrap();
    let env = HashMap::from([
        ("PORT", "0".to_owned()),
        ("DEV_KEY_DIR", shared_key_dir().display().to_string()),
        ("SECRETS_DIR", secrets.path().display().to_string()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("valid settings");
    shared_key();
    let Err(error) = Application::build(settings).await else { panic!("the server started with ambiguous files") };
    let message = error.to_string();
    assert!(message.contains("PayRoll-Token") && message.contains("payroll-token"), "{message}");
    assert!(message.contains("differ only in case"), "{message}");
}

#[actix_web::test]
async fn a_file_differing_only_in_case_added_later_is_refused_not_guessed() {
    logs::start_capture();
    let app = TestApp::spawn().await;
    std::fs::write(app.secrets_dir.join("DEMO"), "a second demo").unwrap();
    let answer = app.get_secret("/vault/demo").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json(), error("AzureKeyVaultFatalError", "Error getting response from Azure Key Vault."));
    // Bad names are still refused before any store, whatever their case.
    let answer = app.get_secret("/vault/DB_PASSWORD").await;
    assert_eq!(answer.json(), error("InvalidSecretName", "Secret name must be 1 to 127 letters, digits and dashes."));
}
