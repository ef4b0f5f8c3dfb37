//! Catalog errors as OpenAPI responses: one response per status, each code it may carry as a
//! named example with the exact body, and the two body shapes as schemas.

use std::collections::BTreeMap;

use utoipa::openapi::example::Example;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use vaultgate_config::{BodyShape, Challenge, ErrorCode};

use crate::route_table::ErrorShape;

/// The schema of `{"code", "description", "debug"?}`.
pub const ERROR_SCHEMA: &str = "Error";
/// The schema of the `{"message"}` body (`/vault` without `secret`).
pub const MESSAGE_SCHEMA: &str = "Message";
/// The schema of Key Vault's `{"error": {"code", "message", "innererror"?}}`.
pub const KEY_VAULT_ERROR_SCHEMA: &str = "KeyVaultError";

/// What any request may get, whatever its route: headers above `MAX_HEADER_BYTES`.
pub const EVERY_ROUTE: &[ErrorCode] = &[ErrorCode::RequestHeadersTooLarge];

/// What a path or query parameter that does not decode gets.
pub const UNPARSABLE_PARAMETERS: &[ErrorCode] = &[ErrorCode::InvalidRequest];

/// What a route taking a JSON body can answer for the body itself: not JSON of its shape,
/// another content type, too large.
pub const REQUEST_BODY: &[ErrorCode] =
    &[ErrorCode::InvalidRequest, ErrorCode::UnsupportedContentType, ErrorCode::RequestBodyTooLarge];

/// Answered for no route in particular: an unknown path, a method the path does not answer
/// (described once in the document's introduction).
pub const OUTSIDE_ROUTES: &[ErrorCode] = &[ErrorCode::RouteNotFound, ErrorCode::MethodNotAllowed];

/// What `#[protected]` can answer: every entry that challenges the caller (401 and 403, with
/// `WWW-Authenticate`), and the 503 while no signing keys are loaded.
pub fn protection() -> impl Iterator<Item = ErrorCode> {
    ErrorCode::ALL
        .iter()
        .copied()
        .filter(|code| code.challenge() != Challenge::None || *code == ErrorCode::AuthorizationServiceUnavailable)
}

/// The body an entry is answered with (without `debug`, which varies per answer).
pub fn body(code: ErrorCode) -> serde_json::Value {
    match code.body_shape() {
        BodyShape::CodeAndDescription => {
            serde_json::json!({ "code": code.code(), "description": code.description() })
        }
        BodyShape::Message => serde_json::json!({ "message": code.description() }),
    }
}

/// One response per status for `codes` (in any order, repeats ignored), in the route's error
/// shape; without a body for `HEAD`.
pub fn responses(codes: impl IntoIterator<Item = ErrorCode>, head: bool, shape: ErrorShape) -> Vec<(String, Response)> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let group = by_status.entry(code.status()).or_default();
        if !group.contains(&code) {
            group.push(code);
        }
    }
    by_status.into_iter().map(|(status, codes)| (status.to_string(), response(status, &codes, head, shape))).collect()
}

fn response(status: u16, codes: &[ErrorCode], head: bool, shape: ErrorShape) -> Response {
    let lines: Vec<String> = codes.iter().map(|code| format!("- `{}`: {}", code.code(), code.description())).collect();
    let examples = codes.iter().map(|code| {
        let value = match shape {
            ErrorShape::Catalog => body(*code),
            ErrorShape::KeyVault => crate::error::key_vault_body(*code),
        };
        (code.key(), Example::builder().summary(code.code()).value(Some(value)).build())
    });
    let mut response = ResponseBuilder::new().description(lines.join("\n"));
    if !head {
        let schema = match shape {
            ErrorShape::Catalog => shape_schema(codes),
            ErrorShape::KeyVault => Ref::from_schema_name(KEY_VAULT_ERROR_SCHEMA).into(),
        };
        let content = ContentBuilder::new().schema(Some(schema)).examples_from_iter(examples).build();
        response = response.content("application/json", content);
    }
    match shape {
        ErrorShape::Catalog if codes.iter().any(|code| code.challenge() != Challenge::None) => {
            let description = "`Bearer`, with `error=\"invalid_token\"` once a token was presented, or \
                               `error=\"insufficient_scope\"` and the roles that would pass (RFC 6750)";
            response = response.header("WWW-Authenticate", string_header(description));
        }
        ErrorShape::KeyVault if status == 401 => {
            let description = "Key Vault's challenge: `Bearer authorization=\"<authority>/<tenant>\", \
                               resource=\"<resource>\"`; a client asks its credential for `<resource>/.default`";
            response = response.header("WWW-Authenticate", string_header(description));
        }
        _ => {}
    }
    if status == 429 && shape == ErrorShape::KeyVault {
        response = response.header("Retry-After", string_header("Seconds to wait before trying again"));
    }
    if status == 503 {
        response = response.header("Retry-After", string_header("Seconds to wait before trying again"));
    }
    response.build()
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

fn shape_schema(codes: &[ErrorCode]) -> RefOr<Schema> {
    let uses = |shape| codes.iter().any(|code| code.body_shape() == shape);
    match (uses(BodyShape::CodeAndDescription), uses(BodyShape::Message)) {
        (true, true) => AnyOfBuilder::new()
            .item(Ref::from_schema_name(ERROR_SCHEMA))
            .item(Ref::from_schema_name(MESSAGE_SCHEMA))
            .into(),
        (false, true) => Ref::from_schema_name(MESSAGE_SCHEMA).into(),
        _ => Ref::from_schema_name(ERROR_SCHEMA).into(),
    }
}

/// The two body shapes, for the document's components.
pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
    let mut codes: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|code| code.body_shape() == BodyShape::CodeAndDescription)
        .map(|code| code.code())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let error = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An error from vaultgate's catalog."))
        .property("code", text().enum_values(Some(codes)).description(Some("The catalog code.")))
        .required("code")
        .property("description", text().description(Some("The catalog's fixed text for the code.")))
        .required("description")
        .property("debug", text().description(Some("What exactly failed, for some codes; never a token or a secret.")))
        .additional_properties(Some(false_schema()));
    let message = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The answer to `/vault` without `secret`: a `message` instead of a `code`."))
        .property("message", text())
        .required("message")
        .additional_properties(Some(false_schema()));
    let inner = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", text().description(Some("Key Vault's inner code (`ForbiddenByPolicy`, `SecretDisabled`).")))
        .required("code")
        .additional_properties(Some(false_schema()));
    let detail = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", text().description(Some("Key Vault's code, or the catalog's where Key Vault has none.")))
        .required("code")
        .property("message", text().description(Some("The catalog's text, then what exactly failed when known.")))
        .required("message")
        .property("innererror", inner)
        .additional_properties(Some(false_schema()));
    let key_vault = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An error in Key Vault's shape, on the Key Vault-compatible routes."))
        .property("error", detail)
        .required("error")
        .additional_properties(Some(false_schema()));
    vec![
        (ERROR_SCHEMA.to_owned(), error.into()),
        (MESSAGE_SCHEMA.to_owned(), message.into()),
        (KEY_VAULT_ERROR_SCHEMA.to_owned(), key_vault.into()),
    ]
}

/// No further properties.
fn false_schema() -> utoipa::openapi::schema::AdditionalProperties<Schema> {
    utoipa::openapi::schema::AdditionalProperties::FreeForm(false)
}
