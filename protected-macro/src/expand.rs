//! Expands `#[protected(...)]` on an async fn: a requirement type plus the fn with an
//! `Authorized<requirement>` extractor as its first parameter.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, parse_quote};

use crate::parse;
use crate::requirement::Requirement;

pub fn protected(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let requirement = parse::requirement(args)?;
    let mut function: ItemFn =
        syn::parse2(item).map_err(|e| syn::Error::new(e.span(), "#[protected] goes on an async handler fn"))?;
    check_function(&function)?;

    let rule_type = format_ident!("__vaultgate_requirement_{}", function.sig.ident);
    let visibility = &function.vis;
    let Requirement { any_roles, all_roles, any_scopes } = requirement;
    let authorized: FnArg = parse_quote!(_: ::vaultgate::auth::Authorized<#rule_type>);
    function.sig.inputs.insert(0, authorized);

    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #visibility struct #rule_type;

        impl ::vaultgate::auth::Requirement for #rule_type {
            const RULE: ::vaultgate::auth::Rule = ::vaultgate::auth::Rule {
                any_roles: &[#(#any_roles),*],
                all_roles: &[#(#all_roles),*],
                any_scopes: &[#(#any_scopes),*],
            };
        }

        #function
    })
}

fn check_function(function: &ItemFn) -> syn::Result<()> {
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new(function.sig.fn_token.span(), "#[protected] handlers must be `async fn`"));
    }
    if let Some(receiver) = function.sig.receiver() {
        return Err(syn::Error::new_spanned(receiver, "#[protected] handlers are free functions, not methods"));
    }
    if let Some(twice) =
        function.attrs.iter().find(|a| a.path().segments.last().is_some_and(|s| s.ident == "protected"))
    {
        return Err(syn::Error::new_spanned(
            twice,
            "#[protected] is given twice: list every role in one attribute, e.g. roles = [\"A\", \"B\"]",
        ));
    }
    Ok(())
}
