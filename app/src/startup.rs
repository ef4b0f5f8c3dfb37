//! Builds the server from `Settings`: keys, validator, secret store, routes, listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, Logger, from_fn};
use actix_web::{App, HttpServer, web};
use prometheus_client::registry::Registry;
use vaultgate_config::{AzureSettings, Mode, SecretSource, Settings};

use crate::auth::dev_key::{DevKey, local_keys, local_rules};
use crate::auth::entra::{EntraKeys, KeySourceSettings};
use crate::auth::issuers::{EntraIssuers, IssuerRule};
use crate::auth::{ClaimRules, Validator};
use crate::metrics::Metrics;
use crate::routes::health::StoreProbe;
use crate::routes::{self, fallback};
use crate::secrets::SecretStore;
use crate::secrets::cache::SecretCache;
use crate::secrets::dir::DirStore;
use crate::secrets::keyvault::KeyVaultStore;
use crate::secrets::policy::ExposurePolicy;

/// Why the server could not start: one line per problem, for the operator.
#[derive(Debug, derive_more::Display, derive_more::Error)]
#[display("{message}")]
pub struct StartupError {
    #[error(not(source))]
    message: String,
}

impl StartupError {
    fn new(message: impl Into<String>) -> Self {
        StartupError { message: message.into() }
    }

    pub fn from_io(error: std::io::Error) -> Self {
        StartupError::new(format!("server stopped: {error}"))
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    settings: Settings,
}

impl Application {
    /// Loads keys and the secret store, then binds `settings.bind:settings.port` (port 0
    /// picks a free port, as tests do).
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        crate::crypto::install_providers();
        let mut metrics = Metrics::new();
        let validator = web::Data::new(build_validator(&settings, &mut metrics.registry).await?);
        validator.token_cache().register(&mut metrics.registry);
        let store = web::Data::from(build_store(&settings, &mut metrics.registry)?);
        let policy = web::Data::new(ExposurePolicy::new(&settings.exposure));
        let probe = web::Data::new(StoreProbe::new(settings.health_probe_interval));
        let http_metrics = web::Data::new(metrics.http.clone());
        let metrics = web::Data::new(metrics);
        let metrics_enabled = settings.metrics_enabled;
        let header_limit = web::Data::new(crate::routes::limits::HeaderLimit(settings.limits.max_header_bytes));
        let access_log_enabled = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);

        let listener = TcpListener::bind((settings.bind, settings.port))
            .map_err(|e| StartupError::new(format!("cannot listen on {}:{}: {e}", settings.bind, settings.port)))?;
        let port = listener.local_addr().map_err(|e| StartupError::new(e.to_string()))?.port();

        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::routes::limits::limit_headers))
                .wrap(Condition::new(metrics_enabled, from_fn(crate::metrics::count_requests)))
                // Skipped outright when info lines are filtered out: the access line costs a format.
                .wrap(Condition::new(access_log_enabled, access_log()))
                .app_data(validator.clone())
                .app_data(store.clone())
                .app_data(policy.clone())
                .app_data(probe.clone())
                .app_data(http_metrics.clone())
                .app_data(metrics.clone())
                .app_data(header_limit.clone())
                .app_data(web::PathConfig::default().error_handler(fallback::path_error))
                .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
                .configure(routes::configure)
                .configure(|cfg| {
                    if metrics_enabled {
                        routes::configure_metrics(cfg);
                    }
                })
                .default_service(web::to(fallback::route_not_found))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .client_request_timeout(settings.limits.header_read_timeout)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .keep_alive(settings.limits.keep_alive)
        .max_connections(settings.limits.max_connections)
        // actix stops at once on SIGINT; `stop_on_signals` makes SIGINT graceful as well.
        .disable_signals()
        .listen(listener)
        .map_err(|e| StartupError::new(format!("cannot serve: {e}")))?;
        let server = match settings.workers {
            Some(workers) => server.workers(workers),
            None => server,
        };
        Ok(Application { port, server: server.run(), settings })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL callers use, e.g. `http://127.0.0.1:7071`.
    pub fn base_url(&self) -> String {
        format!("http://{}:{}", display_host(self.settings.bind), self.port)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// On SIGTERM or SIGINT: stop accepting, let in-flight requests finish within
    /// `SHUTDOWN_TIMEOUT`, then return from `run_until_stopped`. For the binary only (a test
    /// process keeps its own signal handling).
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let name = futures_util::future::select(Box::pin(terminate.recv()), Box::pin(interrupt.recv())).await;
            let name = if matches!(name, futures_util::future::Either::Left(_)) { "SIGTERM" } else { "SIGINT" };
            log::info!("{name} received: finishing requests in flight, then stopping");
            handle.stop(true).await;
        });
        Ok(())
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// One line per request, without the query string or any header value.
fn access_log() -> Logger {
    Logger::new(r#"%a "%{method}xi %U" %s %b %Dms"#).custom_request_replace("method", |req| req.method().to_string())
}

fn display_host(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

async fn build_validator(settings: &Settings, registry: &mut Registry) -> Result<Validator, StartupError> {
    match &settings.mode {
        Mode::Local { dev_key_dir } => {
            let key = DevKey::load_or_create(dev_key_dir)
                .map_err(|e| StartupError::new(format!("development signing key in {}: {e}", dev_key_dir.display())))?;
            let rules = local_rules(settings.token_leeway);
            Ok(Validator::with_cache_capacity(local_keys(&key), rules, settings.token_cache_max_entries))
        }
        Mode::Azure(azure) => Ok(entra_validator(azure, settings, registry).await),
    }
}

/// Entra ID mode: keys are fetched now (a failure is logged, and protected routes answer
/// 503 until they load), then kept fresh in the background.
async fn entra_validator(azure: &AzureSettings, settings: &Settings, registry: &mut Registry) -> Validator {
    let source = KeySourceSettings::new(azure, settings.upstream_timeout);
    let v2_template = source.default_v2_issuer();
    let keys = Arc::new(EntraKeys::new(source, v2_template.clone()));
    keys.register(registry);
    let _ = keys.refresh().await;
    actix_web::rt::spawn(keys.clone().keep_fresh());
    let audiences =
        azure.audiences.clone().unwrap_or_else(|| vec![azure.app_id.clone(), format!("api://{}", azure.app_id)]);
    let rules = ClaimRules {
        issuers: IssuerRule::Entra(EntraIssuers {
            tenant_id: azure.tenant_id.clone(),
            allowed_tenants: azure.allowed_tenants.clone(),
            issuer_override: azure.issuer.clone(),
            v2_template,
        }),
        audiences,
        leeway: settings.token_leeway,
    };
    Validator::with_cache_capacity(keys, rules, settings.token_cache_max_entries)
}

fn build_store(settings: &Settings, registry: &mut Registry) -> Result<Arc<dyn SecretStore>, StartupError> {
    let store: Arc<dyn SecretStore> = match &settings.secrets {
        SecretSource::Dir(dir) => {
            let store = DirStore::open(dir).map_err(|e| StartupError::new(e.to_string()))?;
            log::info!("secrets are read from the folder {}", store.root().display());
            Arc::new(store)
        }
        SecretSource::KeyVault(key_vault) => {
            log::info!("secrets are read from {} as {}", key_vault.url, key_vault.credential.describe());
            let store = KeyVaultStore::new(key_vault, settings.upstream_timeout);
            store.register(registry);
            Arc::new(store)
        }
    };
    let cache = SecretCache::new(store, settings.secret_cache.clone());
    cache.register(registry);
    Ok(Arc::new(cache))
}
