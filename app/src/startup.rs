//! Builds the server from `Settings`: keys, validator, secret store, routes, listener.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, Logger, from_fn};
use actix_web::{App, HttpServer, web};
use vaultgate_config::Settings;

use crate::app_state::AppState;
use crate::auth::ConfiguredRoles;
use crate::metrics::Metrics;
use crate::openapi::docs_page::DocsPage;
use crate::routes::store_probe::StoreProbe;
use crate::routes::{self, Switches, fallback};
use crate::secrets::events::KeyVaultEvents;
use crate::secrets::policy::ExposurePolicy;
pub use crate::startup_error::StartupError;
use crate::wiring::{self, KeySource};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    /// Serving vaultgate's own TLS.
    https: bool,
    server: Server,
    settings: Settings,
}

impl Application {
    /// Loads keys and the secret store, then binds `settings.bind:settings.port` (port 0
    /// picks a free port, as tests do).
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        crate::crypto::install_providers();
        let mut metrics = Metrics::new();
        // Before anything reaches the network: a pair that cannot be served stops start-up.
        let tls = crate::tls::prepare(&settings.tls, &mut metrics.registry)?;
        let authentication = wiring::authentication(&settings, &mut metrics.registry).await?;
        if let KeySource::Entra { keys, .. } = &authentication.keys {
            actix_web::rt::spawn(keys.clone().keep_fresh());
        }
        let stores = wiring::secret_stores(&settings, &mut metrics.registry)?;
        log::info!("secrets are read from {}", stores.description);
        let mut events = KeyVaultEvents::new(&settings, stores.served.clone());
        if let Some(fleet) = &settings.fleet {
            let sender = crate::fleet::start(fleet, stores.served.clone(), &mut metrics.registry)
                .map_err(StartupError::Fleet)?;
            events = events.with_fleet(sender);
        }
        events.register(&mut metrics.registry);
        let switches = Switches { metrics: settings.metrics_enabled, docs: settings.docs_enabled };
        let configured_roles = ConfiguredRoles::new(&settings);
        let openapi_document = serde_json::to_vec(&crate::openapi::document_of(&settings, routes::served(switches)))
            .map_err(StartupError::OpenApiDocument)?
            .into();
        let state = web::Data::new(AppState {
            validator: authentication.validator,
            configured_roles,
            secrets: stores.served,
            policy: ExposurePolicy::new(&settings.exposure),
            catalog: stores.catalog,
            events,
            probe: StoreProbe::new(settings.health_probe_interval),
            metrics,
            public_url: settings.public_url.clone(),
            key_vault_challenge: crate::auth::key_vault_challenge(&settings),
            max_header_bytes: settings.limits.max_header_bytes,
            openapi_document,
            docs_page: DocsPage::new(&settings).map_err(StartupError::DocsPage)?,
        });
        let metrics_enabled = settings.metrics_enabled;
        let access_log_enabled = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);

        let (bind, port) = (settings.bind, settings.port);
        let listening = |source| StartupError::Listen { bind, port, source };
        let listener = TcpListener::bind((bind, port)).map_err(listening)?;
        let port = listener.local_addr().map_err(listening)?.port();

        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::routes::limits::limit_headers))
                .wrap(Condition::new(metrics_enabled, from_fn(crate::routes::request_metrics::count_requests)))
                // Skipped outright when info lines are filtered out: the access line costs a format.
                .wrap(Condition::new(access_log_enabled, access_log()))
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(fallback::path_error))
                .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
                .configure(|cfg| routes::configure(cfg, switches))
                .default_service(web::to(fallback::route_not_found))
        })
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .client_request_timeout(settings.limits.header_read_timeout)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .keep_alive(settings.limits.keep_alive)
        .max_connections(settings.limits.max_connections)
        // actix stops at once on SIGINT; `stop_on_signals` makes SIGINT graceful as well.
        .disable_signals();
        let https = tls.is_some();
        let server = match tls {
            None => server.listen(listener),
            Some(tls) => {
                log::info!(target: "tls", "serving HTTPS with {}", tls.facts.describe(crate::clock::unix_now()));
                actix_web::rt::spawn(tls.reload.keep_fresh());
                server.listen_rustls_0_23(listener, tls.config)
            }
        }
        .map_err(StartupError::Serve)?;
        let server = match settings.workers {
            Some(workers) => server.workers(workers),
            None => server,
        };
        Ok(Application { port, https, server: server.run(), settings })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL callers use, e.g. `http://127.0.0.1:7071` (`https://` with TLS on).
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}", display_host(self.settings.bind), self.port)
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
