//! Expands `#[protected(...)]` on an async fn into a requirement type and a handler that
//! authorises first and extracts the user's parameters only afterwards.
//!
//! actix-web creates every extractor's future at once and returns the first error it sees
//! while polling them in turn, so an `Authorized<R>` parameter merely placed first would still
//! let a path, query or body extractor answer (or read the body) before authentication ends.
//! The generated handler therefore takes only `Authorized<R>`, the request and the payload;
//! the user's own parameters are extracted from them once the caller has passed.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType};

use crate::parse;
use crate::requirement_args::RequirementArgs;

/// The expansion, or the error beside the function as written, so that code registering the
/// handler does not fail as well and the one real error stands alone (as thiserror does).
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand(args, item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#error #item)
        }
    }
}

fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let requirement = parse::requirement(args)?;
    let function: ItemFn =
        syn::parse2(item).map_err(|e| syn::Error::new(e.span(), "#[protected] goes on an async handler fn"))?;
    check_function(&function)?;

    let ItemFn { attrs, vis, sig, block } = function;
    let name = &sig.ident;
    let rule_type = format_ident!("__vaultgate_requirement_{}", name);
    let inner_name = format_ident!("__vaultgate_protected_{}", name);
    let RequirementArgs { any_roles, all_roles, any_scopes } = requirement;

    let types: Vec<&syn::Type> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let bindings: Vec<syn::Ident> = (0..types.len()).map(|i| format_ident!("__vaultgate_arg{}", i)).collect();
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let mut inner_sig = sig.clone();
    inner_sig.ident = inner_name.clone();

    let support = quote!(::vaultgate::__macro_support);
    // Each parameter type checked on its own tokens, so a non-extractor is reported there.
    let checks = types.iter().map(|ty| quote_spanned!(ty.span()=> #support::assert_extractor::<#ty>();));
    let extract = if types.is_empty() {
        quote!()
    } else {
        quote! {
            #(#checks)*
            let (#(#bindings,)*) = <(#(#types,)*) as #support::FromRequest>::from_request(
                &__vaultgate_request,
                &mut __vaultgate_payload.into_inner(),
            )
            .await?;
        }
    };

    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #rule_type;

        impl ::vaultgate::auth::Requirement for #rule_type {
            const RULE: ::vaultgate::auth::Rule = ::vaultgate::auth::Rule::new(
                &[#(#any_roles),*],
                &[#(#all_roles),*],
                &[#(#any_scopes),*],
            );
        }

        #(#attrs)*
        #vis async fn #name(
            _: ::vaultgate::auth::Authorized<#rule_type>,
            __vaultgate_request: #support::HttpRequest,
            __vaultgate_payload: #support::Payload,
        ) -> ::core::result::Result<#output, #support::Error> {
            #inner_sig #block
            #extract
            ::core::result::Result::Ok(#inner_name(#(#bindings),*).await)
        }
    })
}

fn check_function(function: &ItemFn) -> syn::Result<()> {
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new(function.sig.fn_token.span(), "#[protected] handlers must be `async fn`"));
    }
    if let Some(receiver) = function.sig.receiver() {
        return Err(syn::Error::new_spanned(receiver, "#[protected] handlers are free functions, not methods"));
    }
    if !function.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.generics,
            "#[protected] handlers cannot be generic (actix-web registers one concrete fn)",
        ));
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
