//! Adding a route to a table is all the OpenAPI document needs: these handlers, with rules
//! the served routes do not use, appear with their roles and scopes, in both modes.

use actix_web::HttpResponse;
use serde_json::{Value, json};
use vaultgate_config::Settings;

use super::*;
use crate::openapi::document::document_of;
use crate::protected;
use crate::route_table::{Answer, OperationDoc, Param, ParamIn, Tag};

#[protected(roles = ["Reports.Read", "Reports.Admin"], scopes = ["reports.read"])]
async fn report() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[protected(all_roles = ["Audit", "Export"])]
async fn export() -> HttpResponse {
    HttpResponse::Ok().finish()
}

const DOC: OperationDoc = OperationDoc {
    summary: "A report",
    description: "A test route.",
    tag: Tag::Secrets,
    params: &[Param { name: "id", location: ParamIn::Path, description: "Its id", pattern: None, required: true }],
    body: None,
    answer: Answer::Body { description: "The report", media_types: &["text/plain"] },
    errors: &[],
};

static TABLE: &[Route] = &[
    route!("/reports/{id}", [GET], report, protected, Always, DOC),
    route!("/exports/{id:[0-9]+}", [POST], export, protected, Always, DOC),
];

const APP: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

fn document(azure: bool) -> Value {
    let vars: &[(&str, &str)] = if azure {
        &[("TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"), ("AD_SERVER_APP_ID", APP), ("SECRETS_DIR", "x")]
    } else {
        &[]
    };
    let settings = Settings::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
        .expect("valid settings");
    serde_json::to_value(document_of(&settings, TABLE.iter())).unwrap()
}

#[test]
fn a_new_protected_route_is_documented_with_its_rule() {
    for azure in [false, true] {
        let doc = document(azure);
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/exports/{id}", "/reports/{id}"], "the regex of {{id:[0-9]+}} is not part of the path");

        let report = &doc["paths"]["/reports/{id}"]["get"];
        assert_eq!(
            report["x-vaultgate-roles"],
            json!({"roles": ["Reports.Read", "Reports.Admin"], "allRoles": [], "scopes": ["reports.read"]})
        );
        let security = report["security"].as_array().unwrap();
        for role in ["Reports.Read", "Reports.Admin", "reports.read"] {
            assert!(security.contains(&json!({"bearerToken": [role]})), "{role}: {security:?}");
        }
        assert_eq!(security.contains(&json!({"entraAuthorizationCode": [format!("api://{APP}/reports.read")]})), azure);
        assert!(report["responses"]["401"].is_object() && report["responses"]["403"].is_object());

        let export = &doc["paths"]["/exports/{id}"]["post"];
        let security = export["security"].as_array().unwrap();
        assert!(security.contains(&json!({"bearerToken": ["Audit", "Export"]})), "all roles, together: {security:?}");
        assert!(!security.contains(&json!({"bearerToken": ["Audit"]})), "one of all_roles is not enough");
        assert!(export["description"].as_str().unwrap().contains("all of the app roles `Audit`, `Export`"));

        if azure {
            // The authorization-code flow offers the scopes the routes name.
            let flow = &doc["components"]["securitySchemes"]["entraAuthorizationCode"]["flows"]["authorizationCode"];
            assert!(flow["scopes"][format!("api://{APP}/reports.read")].is_string(), "{flow}");
        }
    }
}
