//! A fresh vaultgate per test, in local mode, on a free loopback port.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::http::{Reply, client, send};
use crate::https::{Alpn, TlsFiles, https_client};
use crate::signing::TestKey;
use crate::tokens;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use tempfile::TempDir;
use vaultgate::Settings;
use vaultgate::startup::{Application, StartupError};

/// The development key shared by every test of one test binary (RSA generation is slow).
pub fn shared_key_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder")).path()
}

pub fn shared_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::load_or_create(shared_key_dir()))
}

pub struct TestApp {
    pub base_url: String,
    pub port: u16,
    pub secrets_dir: PathBuf,
    /// The CA that issued the served certificate, when the app serves HTTPS.
    pub trusted_ca: Option<String>,
    _secrets: TempDir,
}

/// The secrets every test app starts with.
pub const DEMO_SECRETS: &[(&str, &str)] = &[("demo", "hello from vaultgate"), ("db-password", "s3cr3t-value")];

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// Spawns serving HTTPS with `tls`'s files (looked at every second), with extra
    /// environment variables; its requests trust `tls`'s CA and offer `h2`.
    pub async fn spawn_https_with(tls: &TlsFiles, vars: &[(&str, &str)]) -> TestApp {
        let tls_env = tls.env();
        let mut all: Vec<(&str, &str)> = tls_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(vars);
        let mut app = TestApp::spawn_with(&all).await;
        assert!(app.base_url.starts_with("https://"), "{}", app.base_url);
        app.trusted_ca = Some(tls.ca_pem().to_owned());
        app
    }

    /// Spawns with extra environment variables on top of local-mode defaults.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        match TestApp::try_spawn_with(vars).await {
            Ok(app) => app,
            Err(error) => panic!("the server starts: {error}"),
        }
    }

    /// `spawn_with`, or why the server refused to start (the line the binary would log).
    pub async fn try_spawn_with(vars: &[(&str, &str)]) -> Result<TestApp, StartupError> {
        crate::logs::start_capture();
        let secrets = tempfile::tempdir().expect("a temporary folder");
        for (name, value) in DEMO_SECRETS {
            std::fs::write(secrets.path().join(name), value).expect("a secret file");
        }
        let mut env: HashMap<String, String> = HashMap::from([
            ("PORT".into(), "0".into()),
            ("BIND".into(), "127.0.0.1".into()),
            ("WORKERS".into(), "1".into()),
            ("DEV_KEY_DIR".into(), shared_key_dir().display().to_string()),
            ("SECRETS_DIR".into(), secrets.path().display().to_string()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("valid test settings");
        shared_key();
        let app = Application::build(settings).await?;
        let port = app.port();
        let base_url = app.base_url();
        actix_web::rt::spawn(app.run_until_stopped());
        Ok(TestApp { base_url, port, secrets_dir: secrets.path().to_owned(), trusted_ca: None, _secrets: secrets })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A client for this app: plain, or trusting its CA and offering `h2` by ALPN.
    pub fn client(&self) -> awc::Client {
        match &self.trusted_ca {
            None => client(),
            Some(ca_pem) => https_client(ca_pem, Alpn::Http2),
        }
    }

    /// `GET path` without credentials.
    pub async fn get(&self, path: &str) -> Reply {
        send(self.client().get(self.url(path))).await
    }

    /// `GET path` with this raw `Authorization` value (any bytes, to test the parser).
    pub async fn get_with_authorization(&self, path: &str, authorization: &[u8]) -> Reply {
        let value = HeaderValue::from_bytes(authorization).expect("a header value");
        send(self.client().get(self.url(path)).insert_header((AUTHORIZATION, value))).await
    }

    /// `GET path` with `Authorization: Bearer <token>`.
    pub async fn get_as(&self, path: &str, token: &str) -> Reply {
        send(self.client().get(self.url(path)).insert_header((AUTHORIZATION, format!("Bearer {token}")))).await
    }

    /// `GET path` as a caller holding the `GetSecret` role (a fresh development token).
    pub async fn get_secret(&self, path: &str) -> Reply {
        self.get_as(path, &tokens::valid(shared_key(), &["GetSecret"])).await
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        String::from_utf8(self.get("/metrics").await.body).expect("metrics are text")
    }
}

/// A validator trusting the shared development key, as local mode builds it.
pub fn local_validator() -> actix_web::web::Data<vaultgate::auth::Validator> {
    let validator = vaultgate::auth::dev_key::local_validator(
        shared_key().dev_key(),
        std::time::Duration::from_secs(60),
        vaultgate_config::defaults::DEFAULT_TOKEN_CACHE_MAX_ENTRIES,
    );
    actix_web::web::Data::new(validator)
}

/// Serves handlers of the test's own on a free loopback port, with the local validator;
/// returns the base URL.
pub fn spawn_handlers(configure: fn(&mut actix_web::web::ServiceConfig)) -> String {
    spawn_handlers_with(local_validator(), configure)
}

/// `spawn_handlers` with a validator of the test's own.
pub fn spawn_handlers_with(
    validator: actix_web::web::Data<vaultgate::auth::Validator>,
    configure: fn(&mut actix_web::web::ServiceConfig),
) -> String {
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().app_data(validator.clone()).configure(configure))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("a free loopback port");
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    format!("http://{address}")
}

/// A development key of its own, for the fake Entra ID's key sets (`slot` picks which).
pub fn extra_key(slot: usize) -> &'static TestKey {
    static KEYS: [OnceLock<(TempDir, TestKey)>; 4] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let (_, key) = KEYS[slot].get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let key = TestKey::load_or_create(dir.path());
        (dir, key)
    });
    key
}
