//! Builds the OpenAPI 3.1 document from the routes served with the current switches: every
//! route of the table and its methods, nothing else.

use std::collections::BTreeMap;

use actix_web::http::Method;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder,
};
use vaultgate_config::{ErrorCode, Settings};

use super::errors;

use super::security::{self, Security};
use crate::auth::ConfiguredRoles;
use crate::auth::dev_key::{LOCAL_AUDIENCE, LOCAL_ISSUER};
use crate::route_table::{Access, Answer, Param, ParamIn, RequestBody, Route, Tag};

/// The document of `routes` (the served ones, or a test's own table) for these settings.
pub fn document_of<'a>(settings: &Settings, routes: impl Iterator<Item = &'a Route>) -> OpenApi {
    let security = Security::new(settings);
    let roles = ConfiguredRoles::new(settings);
    let routes: Vec<&Route> = routes.collect();
    let mut paths = Paths::new();
    let mut schemas: BTreeMap<String, RefOr<Schema>> = errors::schemas().into_iter().collect();
    for route in &routes {
        for method in route.methods {
            let operation = operation(route, method, &security, &roles, &mut schemas);
            paths.add_path_operation(openapi_path(route.path), vec![http_method(method)], operation);
        }
    }
    let scopes = delegated_scopes(&routes);
    let components = security
        .schemes(&scopes)
        .into_iter()
        .fold(ComponentsBuilder::new().schemas_from_iter(schemas), |components, (name, scheme)| {
            components.security_scheme(name, scheme)
        })
        .build();
    let tags = Tag::ALL
        .iter()
        .filter(|tag| routes.iter().any(|route| route.doc.tag == **tag))
        .map(|tag| TagBuilder::new().name(tag.name()).description(Some(tag.description())).build());
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("vaultgate")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(introduction(settings))),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(tags))
        .build()
}

/// The table's actix pattern as an OpenAPI path template: `{file:.*}` becomes `{file}` (a
/// parameter's regex may not hold braces of its own).
pub fn openapi_path(pattern: &str) -> String {
    let mut path = String::with_capacity(pattern.len());
    let (mut in_param, mut in_regex) = (false, false);
    for c in pattern.chars() {
        match c {
            '{' if !in_param => {
                in_param = true;
                path.push(c);
            }
            '}' if in_param => {
                (in_param, in_regex) = (false, false);
                path.push(c);
            }
            ':' if in_param => in_regex = true,
            _ if in_regex => {}
            _ => path.push(c),
        }
    }
    path
}

/// The names of a pattern's path parameters, in order.
pub fn path_parameters(pattern: &str) -> Vec<String> {
    openapi_path(pattern)
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::HEAD => HttpMethod::Head,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::OPTIONS => HttpMethod::Options,
        Method::TRACE => HttpMethod::Trace,
        ref other => panic!("the route table serves {other}, which OpenAPI 3.1 has no operation for"),
    }
}

fn operation(
    route: &Route,
    method: &Method,
    security: &Security,
    roles: &ConfiguredRoles,
    schemas: &mut BTreeMap<String, RefOr<Schema>>,
) -> Operation {
    let doc = &route.doc;
    let head = *method == Method::HEAD;
    let mut description = doc.description.to_owned();
    let mut builder = OperationBuilder::new()
        .tag(doc.tag.name())
        .summary(Some(if head { format!("{} (headers only)", doc.summary) } else { doc.summary.to_owned() }))
        .operation_id(Some(operation_id(route, method)));

    let names = path_parameters(route.path);
    for name in &names {
        let param = doc.params.iter().find(|p| p.location == ParamIn::Path && p.name == name);
        builder = builder.parameter(parameter(name, ParamIn::Path, param));
    }
    for param in doc.params.iter().filter(|p| p.location == ParamIn::Query) {
        builder = builder.parameter(parameter(param.name, ParamIn::Query, Some(param)));
    }

    let mut codes: Vec<ErrorCode> = Vec::new();
    if let Access::Protected(rule) = route.access {
        // A role named by a setting is documented as configured.
        let rule = roles.resolve(&rule);
        description = format!("{description}\n\n{}", security::describe(&rule));
        builder = builder.securities(Some(security.requirements(&rule)));
        let extensions: Extensions =
            [(security::ROLES_EXTENSION, security::roles_extension(&rule))].into_iter().collect();
        builder = builder.extensions(Some(extensions));
        codes.extend(errors::protection());
    } else {
        // Open: say so explicitly, whatever a document-wide default might be.
        builder = builder.securities(Some(Vec::new()));
    }
    if !names.is_empty() || doc.params.iter().any(|p| p.location == ParamIn::Query) {
        codes.extend(errors::UNPARSABLE_PARAMETERS);
    }
    if let Some(body) = &doc.body {
        builder = builder.request_body(Some(request_body(body, schemas)));
        codes.extend(errors::REQUEST_BODY);
    }
    codes.extend(doc.errors.iter().flat_map(|group| group.iter().copied()));
    codes.extend(errors::EVERY_ROUTE);

    builder = builder.response(success_status(&doc.answer), success(&doc.answer, head, schemas));
    for (status, response) in errors::responses(codes, head, route.errors) {
        builder = builder.response(status, response);
    }
    builder.description(Some(description)).build()
}

/// The handler's name, with `_head` for HEAD (operation ids are unique in a document).
fn operation_id(route: &Route, method: &Method) -> String {
    let name = route.handler.rsplit("::").next().unwrap_or(route.handler).trim();
    match *method {
        Method::GET => name.to_owned(),
        ref other => format!("{name}_{}", other.as_str().to_ascii_lowercase()),
    }
}

fn parameter(name: &str, location: ParamIn, param: Option<&Param>) -> utoipa::openapi::path::Parameter {
    let schema = ObjectBuilder::new().schema_type(Type::String).pattern(param.and_then(|p| p.pattern));
    let required = location == ParamIn::Path || param.is_some_and(|p| p.required);
    ParameterBuilder::new()
        .name(name)
        .parameter_in(match location {
            ParamIn::Path => ParameterIn::Path,
            ParamIn::Query => ParameterIn::Query,
        })
        .required(if required { Required::True } else { Required::False })
        .description(param.map(|p| p.description))
        .schema(Some(schema))
        .build()
}

/// A required JSON body of the route's schema (its component added to `schemas`).
fn request_body(
    body: &RequestBody,
    schemas: &mut BTreeMap<String, RefOr<Schema>>,
) -> utoipa::openapi::request_body::RequestBody {
    let name = (body.schema.name)().into_owned();
    let mut referenced = Vec::new();
    (body.schema.referenced)(&mut referenced);
    schemas.extend(referenced);
    schemas.insert(name.clone(), (body.schema.schema)());
    RequestBodyBuilder::new()
        .description(Some(body.description))
        .required(Some(Required::True))
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name(name))).build())
        .build()
}

fn success_status(answer: &Answer) -> String {
    match answer {
        Answer::Redirect { status, .. } => status.to_string(),
        Answer::Json { .. } | Answer::Body { .. } => "200".to_owned(),
    }
}

fn success(answer: &Answer, head: bool, schemas: &mut BTreeMap<String, RefOr<Schema>>) -> utoipa::openapi::Response {
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(description))
            .build()
    };
    match answer {
        Answer::Json { description, schema, headers } => {
            let name = (schema.name)().into_owned();
            let mut referenced = Vec::new();
            (schema.referenced)(&mut referenced);
            schemas.extend(referenced);
            schemas.insert(name.clone(), (schema.schema)());
            let mut response = ResponseBuilder::new().description(*description);
            if !head {
                response = response.content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name(name))).build(),
                );
            }
            for h in *headers {
                response = response.header(h.name, header(h.description));
            }
            response.build()
        }
        Answer::Body { description, media_types } => {
            let mut response = ResponseBuilder::new().description(*description);
            if !head {
                for media_type in *media_types {
                    let json = media_type.starts_with("application/json");
                    let body = ObjectBuilder::new().schema_type(if json { Type::Object } else { Type::String });
                    response = response.content(*media_type, ContentBuilder::new().schema(Some(body)).build());
                }
            }
            response.build()
        }
        Answer::Redirect { description, .. } => ResponseBuilder::new()
            .description(*description)
            .header("Location", header("Where the page is, relative to this path"))
            .build(),
    }
}

/// The delegated scopes any served rule names (for the authorization-code flow's list).
fn delegated_scopes(routes: &[&Route]) -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = routes
        .iter()
        .filter_map(|route| match route.access {
            Access::Protected(rule) => Some(rule.any_scopes),
            Access::Open => None,
        })
        .flatten()
        .copied()
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

fn introduction(settings: &Settings) -> String {
    let mode = if settings.is_local() {
        LOCAL_MODE.replace("{issuer}", LOCAL_ISSUER).replace("{audience}", LOCAL_AUDIENCE)
    } else {
        AZURE_MODE.to_owned()
    };
    let outside: Vec<String> = errors::OUTSIDE_ROUTES
        .iter()
        .map(|code| format!("{} `{}` ({})", code.status(), code.code(), code.description()))
        .collect();
    format!(
        "{INTRODUCTION}\n\n{mode}\n\nAny other path answers {}; a method a path does not serve, {} with `Allow`.",
        outside[0], outside[1]
    )
}

const INTRODUCTION: &str = "vaultgate serves Azure Key Vault secrets to callers holding a valid \
Microsoft Entra ID access token with the right app role. This document is derived from its route \
table and its handlers' `#[protected]` attributes: every operation lists the roles or scopes it \
requires (in `security` and in `x-vaultgate-roles`) and every catalog error it can answer, with \
the exact body as an example per code.";

const LOCAL_MODE: &str = "**Local mode**: no Azure. Tokens are signed by a development key \
(issuer `{issuer}`, audience `{audience}`): get one with \
`vaultgate token --role GetSecret` and use it as the bearer token.";

const AZURE_MODE: &str = "**Azure mode**: Entra ID access tokens. Applications use the \
client-credentials flow with the scope `api://<app id>/.default`; a person on the docs page uses \
the authorization-code flow with PKCE.";
