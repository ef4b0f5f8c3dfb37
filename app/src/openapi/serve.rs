//! `GET /openapi.json`, `GET /docs` and the docs page's files: open routes, removed by `DOCS=off`.

use crate::AppError;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue, LOCATION, X_CONTENT_TYPE_OPTIONS};
use actix_web::{HttpResponse, web};
use vaultgate_config::ErrorCode;

use crate::app_state::AppState;
use crate::route_table::{Answer, OperationDoc, Param, ParamIn, Tag};

pub async fn document(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(state.openapi_document.clone())
}

pub const DOCUMENT: OperationDoc = OperationDoc {
    summary: "This OpenAPI 3.1 document",
    description: "Derived from the route table at start-up, for the settings in force: the security \
                  schemes of the mode (local or Entra ID) and the routes its switches serve.",
    tag: Tag::Documentation,
    params: &[],
    body: None,
    answer: Answer::Body { description: "The document", media_types: &["application/json"] },
    errors: &[],
};

/// `/docs` → `/docs/`: the page's files are named relative to the folder.
pub async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((LOCATION, HeaderValue::from_static("docs/"))).finish()
}

pub const DOCS: OperationDoc = OperationDoc {
    summary: "The docs page",
    description: "Redirects to `docs/`, where Swagger UI renders this document.",
    tag: Tag::Documentation,
    params: &[],
    body: None,
    answer: Answer::Redirect { status: 308, description: "The page is at `docs/`" },
    errors: &[],
};

/// The page's own files, from the binary; no other origin is allowed to serve it anything.
pub async fn docs_file(file: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = &state.docs_page;
    let file = page.file(&file).ok_or(ErrorCode::RouteNotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((CONTENT_SECURITY_POLICY, page.content_security_policy()))
        .body(file.bytes))
}

pub const DOCS_FILE: OperationDoc = OperationDoc {
    summary: "A file of the docs page",
    description: "Swagger UI, built into vaultgate: `index.html` (also served for an empty name), \
                  its scripts, styles and the OAuth2 redirect page. Nothing is loaded from elsewhere.",
    tag: Tag::Documentation,
    params: &[Param {
        name: "file",
        location: ParamIn::Path,
        description: "The file's name, e.g. `index.html`",
        pattern: None,
        required: true,
    }],
    body: None,
    answer: Answer::Body {
        description: "The file",
        media_types: &["text/html", "text/javascript", "text/css", "image/png"],
    },
    errors: &[&[ErrorCode::RouteNotFound]],
};
