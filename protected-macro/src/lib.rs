//! `#[protected(...)]`: guards an actix-web handler with an Entra ID app role or scope.
//!
//! ```ignore
//! #[get("/vault/{name}")]
//! #[protected(role = "GetSecret")]
//! async fn read(name: web::Path<String>, caller: Caller) -> Result<HttpResponse, AppError> { ... }
//! ```
//!
//! The generated handler takes `vaultgate::auth::Authorized<R>` (the bearer token verified and
//! the requirement `R` checked) and extracts the handler's own parameters only once that has
//! passed, so no other extractor answers or reads the body before authentication does. A
//! `Caller` parameter receives the verified caller without verifying again.
//! Parsing, checking and expansion live in separate files; every misuse is a compile error
//! spanned on the user's own tokens.

mod expand;
mod parse;
mod requirement_args;

use proc_macro::TokenStream;

/// Accepted forms (a caller passes when it holds any listed role or any listed scope;
/// `all_roles` needs every one):
/// `role = "R"`, `roles = ["A", "B"]`, `all_roles = ["A", "B"]`, `scope = "S"`,
/// `scopes = ["S", "T"]`, and a roles form combined with a scopes form.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::protected(args.into(), item.into()).into()
}
