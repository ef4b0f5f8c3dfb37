//! The shape of the route table: what one line of `routes::ROUTES` says (path, methods,
//! access, switch, and its `OperationDoc`). Apart from the routes themselves, so that what is
//! derived from the table (the OpenAPI document) depends on this shape, not on the handlers.

mod operation;

use actix_web::Resource;
use actix_web::http::Method;

use crate::auth::Rule;
pub use operation::{Answer, OperationDoc, Param, ParamIn, RequestBody, ResponseHeader, SchemaOf, Tag};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Open,
    /// `#[protected(...)]`, with the requirement its attribute wrote.
    Protected(Rule),
}

/// The shape a route's errors take: the catalog's (`{"code","description"}`), or Key Vault's
/// (`{"error":{"code","message"}}`, with Key Vault's challenge on a 401) on the routes that
/// answer Key Vault's own API, so that its official clients can read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    Catalog,
    KeyVault,
}

/// Routes served only when a setting turns them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    Always,
    /// `METRICS=on` (the default).
    Metrics,
    /// `DOCS=on` (the default): the OpenAPI document and the docs page.
    Docs,
}

/// One served route: a path, the methods one handler answers there, who may call it, and
/// what the OpenAPI document says of it.
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [Method],
    pub access: Access,
    pub switch: Switch,
    pub errors: ErrorShape,
    /// The handler's path as written in the table (its last segment is the operation id).
    pub handler: &'static str,
    pub doc: &'static OperationDoc,
    /// Registers the handler for the methods on the path's resource.
    pub(crate) add: fn(Resource) -> Resource,
}

/// Which switched routes are on.
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    pub metrics: bool,
    pub docs: bool,
}

impl Switches {
    pub fn allow(self, switch: Switch) -> bool {
        match switch {
            Switch::Always => true,
            Switch::Metrics => self.metrics,
            Switch::Docs => self.docs,
        }
    }
}
