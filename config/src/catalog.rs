//! The error catalog: every error vaultgate can answer. The public error catalog's keys,
//! codes and descriptions are kept to the letter (they are the public contract). Plain
//! data: the app turns an entry into an HTTP answer.

/// How a 401/403 answer challenges the caller (RFC 6750 `WWW-Authenticate: Bearer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No challenge header (not an authentication failure).
    None,
    /// `Bearer`: no usable token was presented.
    Bearer,
    /// `Bearer error="invalid_token"`: a token was presented and refused.
    InvalidToken,
    /// `Bearer error="insufficient_scope"`: the token is valid but lacks a role or scope.
    InsufficientScope,
}

/// The shape of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// `{"code": ..., "description": ...}` (the catalog's form).
    CodeAndDescription,
    /// `{"message": ...}`: the answer to `/vault` without `secret`.
    Message,
}

macro_rules! catalog {
    ($($variant:ident => $key:literal, $code:literal, $description:literal, $status:literal, $challenge:ident, $shape:ident;)*) => {
        /// One entry of the error catalog.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            /// Every entry, in catalog order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The entry's key in the catalog (e.g. `authorization_header_missing`).
            pub const fn key(self) -> &'static str {
                match self { $(ErrorCode::$variant => $key,)* }
            }

            /// The `code` field of the JSON body.
            pub const fn code(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The `description` field of the JSON body.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $description,)* }
            }

            /// The HTTP status of the answer.
            pub const fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// The `WWW-Authenticate` challenge the answer carries.
            pub const fn challenge(self) -> Challenge {
                match self { $(ErrorCode::$variant => Challenge::$challenge,)* }
            }

            /// The body's JSON shape.
            pub const fn body_shape(self) -> BodyShape {
                match self { $(ErrorCode::$variant => BodyShape::$shape,)* }
            }
        }
    };
}

catalog! {
    // The public error catalog's entries: keys, codes and descriptions to the letter.
    AuthorizationHeaderMissing => "authorization_header_missing", "AuthorizationHeaderMissing", "Authorization header is missing from the request", 401, Bearer, CodeAndDescription;
    InvalidAuthHeaderFormatBearer => "invalid_auth_header_format_bearer", "InvalidAuthorizationHeader", "Authorization header must start with Bearer", 401, Bearer, CodeAndDescription;
    InvalidAuthHeaderFormatToken => "invalid_auth_header_format_token", "AuthorizationTokenNotFound", "Authorization does not contain Token", 401, Bearer, CodeAndDescription;
    InvalidAuthHeaderFormat => "invalid_auth_header_format", "InvalidAuthorizationHeaderFormat", "Authorization header must be Bearer token", 401, Bearer, CodeAndDescription;
    InvalidAuthHeader => "invalid_auth_header", "InvalidAuthorizationHeader", "Unable to parse authentication token", 401, InvalidToken, CodeAndDescription;
    TokenExpired => "token_expired", "AuthorizationTokenExpired", "Authorization bearer token is expired.", 401, InvalidToken, CodeAndDescription;
    InvalidClaims => "invalid_claims", "InvalidAuthorizationClaims", "Failed to validate authorization claims.", 401, InvalidToken, CodeAndDescription;
    InvalidHeader => "invalid_header", "InvalidAuthorizationHeader", "Unable to find appropriate key", 401, InvalidToken, CodeAndDescription;
    VaultError => "vault_error", "AzureKeyVaultFatalError", "Error getting response from Azure Key Vault.", 502, None, CodeAndDescription;
    SecretNotFound => "secret_not_found", "SecretNotFound", "Requested secret not found in Key Vault.", 404, None, CodeAndDescription;
    HealthCheckFailed => "health_check_failed", "ServiceHealthCheckDown", "Function App health Check failed.", 500, None, CodeAndDescription;
    // 415, not the public catalog's 500: an unsupported Content-Type is the client's error.
    UnsupportedContentType => "unsupported_content_type", "InvalidContentType", "Content-Type is not supported", 415, None, CodeAndDescription;

    // Answers of the public contract that its catalog does not list (missing roles).
    MissingRole => "missing_role", "MissingRoles", "Access token missing roles.", 403, InsufficientScope, CodeAndDescription;
    MissingPathRole => "missing_path_role", "MissingRequiredRole", "Access token missing required roles.", 403, InsufficientScope, CodeAndDescription;

    // vaultgate's own entries.
    SecretNameMissing => "secret_name_missing", "SecretNameMissing", "Secret name is missing. Please use QP secret=<secret_name>", 400, None, Message;
    InvalidSecretName => "invalid_secret_name", "InvalidSecretName", "Secret name must be 1 to 127 letters, digits and dashes.", 400, None, CodeAndDescription;
    InvalidSecretVersion => "invalid_secret_version", "InvalidSecretVersion", "Secret version must be 32 hexadecimal characters.", 400, None, CodeAndDescription;
    InvalidRequest => "invalid_request", "InvalidRequest", "The request could not be parsed.", 400, None, CodeAndDescription;
    RequestHeadersTooLarge => "request_headers_too_large", "RequestHeadersTooLarge", "Request headers are too large.", 431, None, CodeAndDescription;
    RouteNotFound => "route_not_found", "RouteNotFound", "The requested route does not exist.", 404, None, CodeAndDescription;
    MethodNotAllowed => "method_not_allowed", "MethodNotAllowed", "The requested method is not allowed on this route.", 405, None, CodeAndDescription;
    SecretDisabled => "secret_disabled", "SecretDisabled", "Requested secret is disabled or not valid at this time.", 403, None, CodeAndDescription;
    VaultThrottled => "vault_throttled", "AzureKeyVaultThrottled", "Azure Key Vault is throttling requests; try again later.", 503, None, CodeAndDescription;
    SecretMissBudgetExceeded => "secret_miss_budget_exceeded", "SecretMissBudgetExceeded", "Too many reads of secrets that could not be found; try again later.", 429, None, CodeAndDescription;
    RequestBodyTooLarge => "request_body_too_large", "RequestBodyTooLarge", "Request body is too large.", 413, None, CodeAndDescription;
    AuthorizationServiceUnavailable => "authorization_service_unavailable", "AuthorizationServiceUnavailable", "Signing keys are not available yet; try again later.", 503, None, CodeAndDescription;
}
