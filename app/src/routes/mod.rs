//! The HTTP routes, one file each, and `ROUTES`: the one table of what vaultgate serves. The
//! actix configuration and the metrics labels are derived from it, and tests check the Azure
//! Functions routing and each route's protection against it, and the OpenAPI document is built
//! from it (with the `OperationDoc` each line names). A new handler is one line here.

pub mod batch;
pub mod body;
pub mod events;
pub mod events_schema;
pub mod fallback;
pub mod health;
pub mod key_vault;
pub mod limits;
pub mod request_metrics;
pub mod scrape;
pub mod secret_access;
pub mod secret_catalog;
pub mod store_probe;
pub mod vault;

use actix_web::http::Method;
use actix_web::web;

use crate::auth::rule_of;
use crate::openapi::serve as docs;
pub use crate::route_table::{Access, ErrorShape, Route, Switch, Switches};

/// `route!(path, [METHODS], handler, open | protected, switch, doc[, KeyVault])`: the methods
/// are registered for the handler, a protected handler's requirement is read from its
/// attribute (a handler listed as protected that has no `#[protected]` does not compile),
/// `doc` (an `OperationDoc`, beside the handler) describes it in the OpenAPI document, and
/// errors take the catalog's shape unless the line says `KeyVault`.
macro_rules! route {
    ($path:literal, [$($method:ident),+], $handler:path, open, $switch:ident, $doc:path) => {
        route!(@build $path, [$($method),+], $handler, Access::Open, $switch, $doc, Catalog)
    };
    ($path:literal, [$($method:ident),+], $handler:path, protected, $switch:ident, $doc:path $(, $shape:ident)?) => {
        route!(@build $path, [$($method),+], $handler, Access::Protected(rule_of(&$handler)), $switch, $doc,
            $($shape)? Catalog)
    };
    (@build $path:literal, [$($method:ident),+], $handler:path, $access:expr, $switch:ident, $doc:path, $shape:ident $($default:ident)?) => {
        Route {
            path: $path,
            methods: &[$(Method::$method),+],
            access: $access,
            switch: Switch::$switch,
            errors: ErrorShape::$shape,
            handler: stringify!($handler),
            doc: &$doc,
            add: |resource| resource$(.route(web::method(Method::$method).to($handler)))+,
        }
    };
}

pub static ROUTES: &[Route] = &[
    route!("/health", [GET, HEAD], health::health, open, Always, health::HEALTH),
    route!("/health/live", [GET, HEAD], health::live, open, Always, health::LIVE),
    route!("/metrics", [GET, HEAD], scrape::scrape, open, Metrics, scrape::SCRAPE),
    route!("/vault", [GET, HEAD], vault::secret_by_query, protected, Always, vault::SECRET_BY_QUERY),
    route!("/vault", [POST], batch::secrets_batch, protected, Always, batch::SECRETS_BATCH),
    route!("/vault/{name}", [GET, HEAD], vault::secret_by_name, protected, Always, vault::SECRET_BY_NAME),
    // The hot reads come first: actix tries each path in the table's order until one matches.
    route!("/secrets/{name}", [GET, HEAD], key_vault::get_secret, protected, Always, key_vault::GET_SECRET, KeyVault),
    route!(
        "/vault/{name}/{version}",
        [GET, HEAD],
        vault::secret_by_version,
        protected,
        Always,
        vault::SECRET_BY_VERSION
    ),
    route!(
        "/secrets",
        [GET, HEAD],
        secret_catalog::secret_catalog,
        protected,
        Always,
        secret_catalog::SECRET_CATALOG,
        KeyVault
    ),
    route!(
        "/secrets/{name}/",
        [GET, HEAD],
        key_vault::get_secret_slash,
        protected,
        Always,
        key_vault::GET_SECRET_SLASH,
        KeyVault
    ),
    // Before `{version}`, which would take `versions` for a (malformed) version.
    route!(
        "/secrets/{name}/versions",
        [GET, HEAD],
        key_vault::get_secret_versions,
        protected,
        Always,
        key_vault::GET_SECRET_VERSIONS,
        KeyVault
    ),
    route!(
        "/secrets/{name}/{version}",
        [GET, HEAD],
        key_vault::get_secret_version,
        protected,
        Always,
        key_vault::GET_SECRET_VERSION,
        KeyVault
    ),
    route!("/events/keyvault", [POST, OPTIONS], events::keyvault_events, protected, Always, events::KEYVAULT_EVENTS),
    route!("/openapi.json", [GET, HEAD], docs::document, open, Docs, docs::DOCUMENT),
    route!("/docs", [GET, HEAD], docs::docs, open, Docs, docs::DOCS),
    route!("/docs/{file:.*}", [GET, HEAD], docs::docs_file, open, Docs, docs::DOCS_FILE),
];

/// Key Vault's management paths for deleted secrets: answered 405 in Key Vault's shape, with
/// an empty `Allow` (vaultgate reads only; nothing is forwarded). Writes on the read paths
/// above get their 405 from those paths' own resources.
pub static KEY_VAULT_REFUSED: &[&str] =
    &["/deletedsecrets", "/deletedsecrets/{name}", "/deletedsecrets/{name}/recover"];

/// The routes served with these switches.
pub fn served(switches: Switches) -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(move |route| switches.allow(route.switch))
}

/// Registers every served route: one resource per path, answering its methods; any other
/// method gets a JSON 405 naming the allowed ones.
pub fn configure(cfg: &mut web::ServiceConfig, switches: Switches) {
    let mut paths: Vec<&'static str> = served(switches).map(|route| route.path).collect();
    paths.dedup();
    for path in paths {
        let routes: Vec<&Route> = served(switches).filter(|route| route.path == path).collect();
        let allow: Vec<&str> = routes.iter().flat_map(|route| route.methods.iter().map(Method::as_str)).collect();
        let allow = allow.join(", ");
        let labelled = web::resource(path).app_data(request_metrics::RouteLabel(path));
        let resource = routes.iter().fold(labelled, |resource, route| (route.add)(resource));
        let resource = resource.default_service(web::to(move || fallback::method_not_allowed(allow.clone())));
        match shape_of(&routes) {
            ErrorShape::Catalog => cfg.service(resource),
            ErrorShape::KeyVault => cfg.service(resource.wrap(key_vault::errors::InKeyVaultShape)),
        };
    }
    for path in KEY_VAULT_REFUSED {
        let refused = web::resource(*path)
            .app_data(request_metrics::RouteLabel(path))
            .default_service(web::to(|| fallback::method_not_allowed(String::new())));
        cfg.service(refused.wrap(key_vault::errors::InKeyVaultShape));
    }
}

/// The one error shape of the routes on a path (lines on one path cannot differ).
fn shape_of(routes: &[&Route]) -> ErrorShape {
    let shape = routes.first().map_or(ErrorShape::Catalog, |route| route.errors);
    assert!(
        routes.iter().all(|route| route.errors == shape),
        "the routes on {} differ in their error shape",
        routes.first().map_or("", |route| route.path)
    );
    shape
}

/// A route added to a table is documented with its rule, as a new handler would be.
#[cfg(test)]
mod documented;
