//! The catalog holds the public error catalog's entries to the letter (how they are sent is
//! the app's `error` module's to test).

use vaultgate_config::ErrorCode;

const PUBLIC_CATALOG: &str = include_str!("../data/public-error-catalog.json");

/// The one deliberate change from the public catalog: an unsupported Content-Type is the
/// client's fault.
const STATUS_OVERRIDES: &[(&str, u16)] = &[("unsupported_content_type", 415)];

fn public_entries() -> Vec<(String, serde_json::Value)> {
    let public: serde_json::Map<String, serde_json::Value> = serde_json::from_str(PUBLIC_CATALOG).unwrap();
    public.into_iter().filter(|(key, _)| !key.starts_with('_')).collect()
}

#[test]
fn every_public_entry_keeps_its_key_code_description_and_status() {
    let entries = public_entries();
    assert_eq!(entries.len(), 12, "the public catalog defines twelve entries");
    for (key, entry) in entries {
        let code = ErrorCode::ALL
            .iter()
            .find(|c| c.key() == key)
            .unwrap_or_else(|| panic!("public entry {key} is missing from the catalog"));
        assert_eq!(code.code(), entry["code"], "code of {key}");
        assert_eq!(code.description(), entry["description"], "description of {key}");
        let expected_status = STATUS_OVERRIDES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| *s)
            .unwrap_or(entry["status"].as_u64().unwrap() as u16);
        assert_eq!(code.status(), expected_status, "status of {key}");
    }
}

#[test]
fn answers_the_public_catalog_does_not_list_are_present() {
    let find = |key: &str| *ErrorCode::ALL.iter().find(|c| c.key() == key).unwrap();
    assert_eq!((find("missing_role").code(), find("missing_role").status()), ("MissingRoles", 403));
    assert_eq!((find("missing_path_role").code(), find("missing_path_role").status()), ("MissingRequiredRole", 403));
    assert_eq!((find("invalid_secret_name").code(), find("invalid_secret_name").status()), ("InvalidSecretName", 400));
}

#[test]
fn keys_and_statuses_are_unique_and_sane() {
    let mut keys: Vec<_> = ErrorCode::ALL.iter().map(|c| c.key()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), ErrorCode::ALL.len(), "catalog keys are unique");
    for code in ErrorCode::ALL {
        let status = code.status();
        assert!((400..600).contains(&status), "{} has status {status}", code.key());
        assert!(!code.description().is_empty());
    }
}
