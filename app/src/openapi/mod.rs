//! The OpenAPI 3.1 document of what vaultgate serves, derived from the route table (paths,
//! methods, each protected handler's `#[protected]` rule) and each route's `OperationDoc`,
//! and the docs page that renders it.

pub mod docs_page;
pub mod document;
pub mod errors;
pub mod security;
pub mod serve;

pub use document::document_of;
