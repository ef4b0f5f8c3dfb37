//! Parses and checks the attribute's arguments: `key = "value"` or `key = ["a", "b"]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, bracketed};

use crate::requirement_args::RequirementArgs;

const KEYS: &str = "`role`, `roles`, `all_roles`, `scope` or `scopes`";

/// One `key = value` pair as written.
struct Argument {
    key: Ident,
    values: Vec<LitStr>,
    /// Where the value stands, for errors about an empty list.
    value_span: Span,
    is_list: bool,
}

impl Parse for Argument {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        if input.peek(syn::token::Bracket) {
            let content;
            let brackets = bracketed!(content in input);
            let values = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
            Ok(Argument { key, values: values.into_iter().collect(), value_span: brackets.span.join(), is_list: true })
        } else {
            let value: LitStr = input.parse()?;
            Ok(Argument { key, value_span: value.span(), values: vec![value], is_list: false })
        }
    }
}

/// Parses the attribute's arguments into a checked requirement.
pub fn requirement(args: TokenStream) -> syn::Result<RequirementArgs> {
    if args.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("#[protected] needs a requirement: {KEYS}, e.g. #[protected(role = \"GetSecret\")]"),
        ));
    }
    let arguments = Punctuated::<Argument, Token![,]>::parse_terminated.parse2(args)?;
    let mut requirement = RequirementArgs::default();
    let mut seen: Vec<Ident> = Vec::new();
    for argument in arguments {
        let key = argument.key.to_string();
        let (expects_list, is_scope) = match key.as_str() {
            "role" => (false, false),
            "roles" | "all_roles" => (true, false),
            "scope" => (false, true),
            "scopes" => (true, true),
            _ => return Err(syn::Error::new(argument.key.span(), format!("unknown key `{key}`: expected {KEYS}"))),
        };
        if let Some(conflict) = seen.iter().find(|s| conflicts(&s.to_string(), &key)) {
            let message = if *conflict == argument.key {
                format!("`{key}` is given twice")
            } else {
                format!("`{key}` cannot be combined with `{conflict}`")
            };
            return Err(syn::Error::new(argument.key.span(), message));
        }
        if expects_list != argument.is_list {
            let form = if expects_list {
                format!("a list: {key} = [\"...\"]")
            } else {
                format!("one string: {key} = \"...\"")
            };
            return Err(syn::Error::new(argument.value_span, format!("`{key}` takes {form}")));
        }
        if argument.values.is_empty() {
            return Err(syn::Error::new(argument.value_span, format!("`{key}` needs at least one value")));
        }
        for value in &argument.values {
            check_value(value, is_scope)?;
        }
        let target = match key.as_str() {
            "role" | "roles" => &mut requirement.any_roles,
            "all_roles" => &mut requirement.all_roles,
            _ => &mut requirement.any_scopes,
        };
        target.extend(argument.values);
        seen.push(argument.key);
    }
    Ok(requirement)
}

/// Two keys that may not stand together: the same key twice, or two forms of roles.
fn conflicts(earlier: &str, key: &str) -> bool {
    let family = |k: &str| if k.starts_with("scope") { "scope" } else { "role" };
    earlier == key || family(earlier) == family(key)
}

fn check_value(value: &LitStr, is_scope: bool) -> syn::Result<()> {
    let text = value.value();
    let what = if is_scope { "scope" } else { "role" };
    if text.trim().is_empty() {
        return Err(syn::Error::new(value.span(), format!("a {what} cannot be empty")));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(syn::Error::new(
            value.span(),
            format!("a {what} cannot contain spaces (Entra ID values never do)"),
        ));
    }
    Ok(())
}
