//! `#[protected(...)]`: guards an actix-web handler with an Entra ID app role or scope.
//!
//! ```ignore
//! #[get("/vault/{name}")]
//! #[protected(role = "GetSecret")]
//! async fn read(name: web::Path<String>, caller: Claims) -> Result<HttpResponse, AppError> { ... }
//! ```
//!
//! The attribute adds a first parameter of type `vaultgate::auth::Authorized<R>`, an
//! extractor that verifies the bearer token and the requirement `R` before the body runs.
//! Parsing, checking and expansion live in separate files; every misuse is a compile error
//! spanned on the user's own tokens.

mod expand;
mod parse;
mod requirement;

use proc_macro::TokenStream;

/// Accepted forms (a caller passes when it holds any listed role or any listed scope;
/// `all_roles` needs every one):
/// `role = "R"`, `roles = ["A", "B"]`, `all_roles = ["A", "B"]`, `scope = "S"`,
/// `scopes = ["S", "T"]`, and a roles form combined with a scopes form.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::protected(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
