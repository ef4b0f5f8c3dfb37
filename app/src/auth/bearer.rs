//! `Authorization` header → bearer token, each malformed form answered with its catalog entry.

use crate::AppError;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use vaultgate_config::ErrorCode;

/// Longer headers are refused before any parsing (Entra tokens are a few KiB).
pub const MAX_AUTHORIZATION_BYTES: usize = 16 * 1024;

/// The token of a `Bearer <token>` header, or the catalog's answer for what is wrong.
/// Works on bytes, so non-UTF-8 input gets a catalog answer too.
pub fn token(headers: &HeaderMap) -> Result<&str, AppError> {
    let mut values = headers.get_all(AUTHORIZATION);
    let value = values.next().ok_or(ErrorCode::AuthorizationHeaderMissing)?;
    if values.next().is_some() {
        // Two Authorization headers: which one to trust is ambiguous, so neither is.
        return Err(ErrorCode::InvalidAuthHeaderFormat.into());
    }
    let bytes = value.as_bytes();
    if bytes.len() > MAX_AUTHORIZATION_BYTES {
        return Err(ErrorCode::InvalidAuthHeaderFormat.into());
    }
    let (scheme, rest) = next_word(bytes).ok_or(ErrorCode::AuthorizationHeaderMissing)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(ErrorCode::InvalidAuthHeaderFormatBearer.into());
    }
    let (token, rest) = next_word(rest).ok_or(ErrorCode::InvalidAuthHeaderFormatToken)?;
    if next_word(rest).is_some() {
        return Err(ErrorCode::InvalidAuthHeaderFormat.into());
    }
    std::str::from_utf8(token).ok().filter(|t| t.is_ascii()).ok_or_else(|| ErrorCode::InvalidAuthHeader.into())
}

/// The first whitespace-separated word of `bytes`, and what follows it. A header value holds
/// no CR, LF or form feed (`HeaderValue` refuses control bytes but tab), so space and tab are
/// the only whitespace: the token's end is found with memchr, not byte by byte (tokens are a
/// few KiB and this runs on every request).
fn next_word(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    let end = memchr::memchr2(b' ', b'\t', rest).unwrap_or(rest.len());
    debug_assert!(rest[..end].iter().all(|b| !b.is_ascii_whitespace()));
    Some(rest.split_at(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn check(value: &[u8]) -> Result<String, &'static str> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        token(&headers).map(str::to_owned).map_err(|e| e.code().key())
    }

    #[test]
    fn each_malformed_header_has_its_catalog_entry() {
        assert_eq!(token(&HeaderMap::new()).unwrap_err().code(), ErrorCode::AuthorizationHeaderMissing);
        assert_eq!(check(b""), Err("authorization_header_missing"));
        assert_eq!(check(b"Basic abc"), Err("invalid_auth_header_format_bearer"));
        assert_eq!(check(b"Bearer"), Err("invalid_auth_header_format_token"));
        assert_eq!(check(b"Bearer a b"), Err("invalid_auth_header_format"));
        assert_eq!(check(b"bEaReR abc"), Ok("abc".into()));
        assert_eq!(check(b"Bearer \t abc"), Ok("abc".into()));
    }

    #[test]
    fn non_utf8_and_oversized_headers_get_catalog_answers() {
        assert_eq!(check(b"Bearer \xff\xfe"), Err("invalid_auth_header"));
        assert_eq!(check(b"\xffBearer abc"), Err("invalid_auth_header_format_bearer"));
        let long = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_BYTES));
        assert_eq!(check(long.as_bytes()), Err("invalid_auth_header_format"));
    }
}
