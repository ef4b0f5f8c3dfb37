//! The docs page: Swagger UI's files, vendored into the binary at build time (no CDN, no
//! download), configured to read `../openapi.json` and, in Azure mode, with the Authorize
//! dialog preset for the tenant's authorization-code flow with PKCE.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use utoipa_swagger_ui::{Config, oauth};
use vaultgate_config::{Mode, Settings};

/// The page's start file, served at `/docs/`.
pub const INDEX: &str = "index.html";
/// The file Swagger UI's configuration is written into.
const INITIALIZER: &str = "swagger-initializer.js";

pub struct DocsPage {
    config: Arc<Config<'static>>,
    /// Swagger UI's initializer with this configuration, written once at start.
    initializer: Bytes,
    content_security_policy: HeaderValue,
}

/// One file of the page.
pub struct DocsFile {
    pub bytes: Bytes,
    pub content_type: String,
}

/// Why the documentation page cannot be configured (a start-up error).
#[derive(Debug, derive_more::Display)]
pub enum DocsPageError {
    #[display("docs page: Swagger UI's configuration: {_0}")]
    Configuration(String),
    #[display("docs page: Swagger UI's initializer is missing from the vendored files")]
    MissingInitializer,
    #[display("docs page: the authority host {_0} cannot be named in a header")]
    AuthorityHost(String),
}

impl DocsPage {
    pub fn new(settings: &Settings) -> Result<DocsPage, DocsPageError> {
        // Relative, so the page works under any prefix a proxy or API gateway puts before it.
        let urls = ["../openapi.json"];
        let (config, token_origin) = match &settings.mode {
            Mode::Local { .. } => (Config::new(urls), None),
            Mode::Azure(azure) => {
                let oauth = oauth::Config::new()
                    .client_id(&azure.app_id)
                    .app_name("vaultgate")
                    .scopes(vec![format!("api://{}/.default", azure.app_id)])
                    .use_pkce_with_authorization_code_grant(true);
                (Config::with_oauth_config(urls, oauth), Some(azure.authority_host.as_str()))
            }
        };
        // `none`: Swagger UI would otherwise send the document to validator.swagger.io.
        let config = Arc::new(config.validator_url("none").show_extensions(true).try_it_out_enabled(true));
        let initializer = utoipa_swagger_ui::serve(INITIALIZER, config.clone())
            .map_err(|e| DocsPageError::Configuration(e.to_string()))?
            .ok_or(DocsPageError::MissingInitializer)?;
        // Only this origin's files run; the authorization-code flow's token request goes to
        // Entra ID (the sign-in itself is a navigation, which `connect-src` does not govern).
        let connect = match token_origin {
            Some(origin) => format!("'self' {origin}"),
            None => "'self'".to_owned(),
        };
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             connect-src {connect}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        );
        let content_security_policy =
            HeaderValue::from_str(&policy).map_err(|_| DocsPageError::AuthorityHost(connect.clone()))?;
        Ok(DocsPage { config, initializer: bytes(initializer.bytes), content_security_policy })
    }

    /// What the page may load and run.
    pub fn content_security_policy(&self) -> HeaderValue {
        self.content_security_policy.clone()
    }

    /// The file `name` (`""` is the start page), or `None` when there is none.
    pub fn file(&self, name: &str) -> Option<DocsFile> {
        if name == INITIALIZER {
            let content_type = "text/javascript".to_owned();
            return Some(DocsFile { bytes: self.initializer.clone(), content_type });
        }
        let name = if name.is_empty() { INDEX } else { name };
        let file = utoipa_swagger_ui::serve(name, self.config.clone()).ok().flatten()?;
        Some(DocsFile { bytes: bytes(file.bytes), content_type: file.content_type })
    }
}

fn bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(data) => Bytes::from_static(data),
        Cow::Owned(data) => Bytes::from(data),
    }
}
