//! `OperationDoc`: what a route says about itself in the OpenAPI document, written beside
//! its handler. The route table adds the rest: the path and its parameters, the methods,
//! who may call (from `#[protected]`) and the errors that access and path imply.

use std::borrow::Cow;

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use vaultgate_config::ErrorCode;

pub struct OperationDoc {
    /// One line, shown beside the path on the docs page.
    pub summary: &'static str,
    pub description: &'static str,
    /// The group the docs page shows it under (`Tag`).
    pub tag: Tag,
    /// Path parameters (by the name in the path) and query parameters.
    pub params: &'static [Param],
    /// The request body, for routes that take one.
    pub body: Option<RequestBody>,
    /// The successful answer.
    pub answer: Answer,
    /// Catalog errors the handler itself can answer, in groups (e.g. `SecretAccess::ERRORS`).
    /// Authentication's errors, a bad path's and the header limit's are added from the table.
    pub errors: &'static [&'static [ErrorCode]],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Secrets,
    Operations,
    Documentation,
}

impl Tag {
    pub const ALL: &'static [Tag] = &[Tag::Secrets, Tag::Operations, Tag::Documentation];

    pub const fn name(self) -> &'static str {
        match self {
            Tag::Secrets => "secrets",
            Tag::Operations => "operations",
            Tag::Documentation => "documentation",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Tag::Secrets => "Secrets from Azure Key Vault (or local mode's folder), for callers with the right role.",
            Tag::Operations => {
                "Health and metrics for probes and monitoring (open: keep them internal), and Key Vault events \
                 from Azure Event Grid (its token only)."
            }
            Tag::Documentation => "This document and the page that renders it; open, `DOCS=off` removes them.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
}

pub struct Param {
    pub name: &'static str,
    pub location: ParamIn,
    pub description: &'static str,
    /// The value's rule as a regular expression, when it has one.
    pub pattern: Option<&'static str>,
    pub required: bool,
}

pub enum Answer {
    /// 200 with a JSON body of a type that derives `utoipa::ToSchema` (`SchemaOf::of::<T>()`).
    Json { description: &'static str, schema: SchemaOf, headers: &'static [ResponseHeader] },
    /// 200 with a body of one of these media types.
    Body { description: &'static str, media_types: &'static [&'static str] },
    /// A redirect (`Location` relative to the request).
    Redirect { status: u16, description: &'static str },
}

/// A JSON request body of a type that derives `utoipa::ToSchema`.
pub struct RequestBody {
    pub description: &'static str,
    pub schema: SchemaOf,
}

pub struct ResponseHeader {
    pub name: &'static str,
    pub description: &'static str,
}

/// A Rust type's JSON schema: its component name, its schema and the schemas it refers to.
pub struct SchemaOf {
    pub name: fn() -> Cow<'static, str>,
    pub schema: fn() -> RefOr<Schema>,
    pub referenced: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl SchemaOf {
    pub const fn of<T: ToSchema>() -> SchemaOf {
        SchemaOf { name: T::name, schema: T::schema, referenced: T::schemas }
    }
}
