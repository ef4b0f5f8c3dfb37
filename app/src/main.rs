//! The `vaultgate` binary: `serve` (the default), `token`, `check` and `dev-cert`.

use std::io::Write;
use std::process::ExitCode;

use vaultgate::auth::dev_key::{DevKey, MintRequest};
use vaultgate::cli::{self, Command};
use vaultgate::startup::Application;
use vaultgate::{Settings, crypto, telemetry};
use vaultgate_config::{LogFormat, Mode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(problem) => {
            eprintln!("vaultgate: {problem}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    // The credential the variables choose is judged with them, so its problems are reported
    // with every other setting's.
    let settings =
        Settings::from_lookup_checked(|name| std::env::var(name).ok(), vaultgate::credential::settings_problems);
    // Even settings with problems carry the log format, so that in JSON mode the problems
    // are JSON lines too.
    let log_format = match &settings {
        Ok(settings) => settings.log_format,
        Err(error) => error.log_format,
    };
    if command == Command::Serve {
        // Before anything is logged, so that in JSON mode every line the server writes is JSON.
        telemetry::init_logging(log_format);
    }
    let report = |problems: &[String]| {
        for problem in problems {
            match log_format {
                LogFormat::Json if command == Command::Serve => log::error!(target: "configuration", "{problem}"),
                _ => eprintln!("vaultgate: configuration: {problem}"),
            }
        }
    };
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            report(&error.lines());
            return ExitCode::FAILURE;
        }
    };
    // Proxies and trusted roots for every upstream call, from the settings.
    if let Err(problems) = vaultgate::upstream::configure(&settings.network) {
        report(&problems.iter().map(ToString::to_string).collect::<Vec<_>>());
        return ExitCode::FAILURE;
    }
    match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Command::Token { request, count } => print_tokens(&settings, &request, count),
        Command::Serve => serve(settings),
        Command::Check { secret } => check(&settings, secret.as_deref()),
        Command::DevCert => dev_cert(&settings),
    }
}

fn dev_cert(settings: &Settings) -> ExitCode {
    let Mode::Local { dev_key_dir } = &settings.mode else {
        eprintln!(
            "vaultgate: dev-cert issues a development certificate for local mode; TENANT_ID is set, so serve a real \
             certificate with TLS_CERT_FILE and TLS_KEY_FILE"
        );
        return ExitCode::FAILURE;
    };
    crypto::install_providers();
    match vaultgate::tls::dev_cert::ensure(dev_key_dir) {
        Ok(certificate) => {
            println!("{}", vaultgate::tls::dev_cert::trust_instructions(&certificate));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vaultgate: development TLS certificate in {}: {e}", dev_key_dir.display());
            ExitCode::FAILURE
        }
    }
}

fn print_tokens(settings: &Settings, request: &MintRequest, count: usize) -> ExitCode {
    let Mode::Local { dev_key_dir } = &settings.mode else {
        eprintln!(
            "vaultgate: token mints development tokens for local mode; TENANT_ID is set, so get a real one with: az account get-access-token --resource api://<app id>"
        );
        return ExitCode::FAILURE;
    };
    crypto::install_providers();
    match DevKey::load_or_create(dev_key_dir) {
        Ok(key) => {
            // Each token differs (its own `jti`), so a batch of them exercises full verification.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for _ in 0..count {
                if writeln!(out, "{}", key.mint(request)).is_err() {
                    return ExitCode::FAILURE;
                }
            }
            if out.flush().is_err() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("vaultgate: development signing key in {}: {e}", dev_key_dir.display());
            ExitCode::FAILURE
        }
    }
}

fn check(settings: &Settings, secret: Option<&str>) -> ExitCode {
    let passed = actix_web::rt::System::new()
        .block_on(async { vaultgate::check::run(settings, secret, &mut std::io::stdout()).await });
    if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn serve(settings: Settings) -> ExitCode {
    let mode = if settings.is_local() { "local" } else { "Azure" };
    log::info!("{mode} mode: {}", settings.mode_reason);
    if let Some(warning) = settings.mode_reason.warning() {
        log::warn!("{warning}");
    }
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.stop_on_signals().map_err(vaultgate::startup::StartupError::from_io)?;
        let url = app.base_url();
        if app.settings().is_local() {
            log::info!("vaultgate serves in local mode on {url}");
            let trust = match &app.settings().tls {
                vaultgate_config::TlsSettings::Development { dir, .. } => {
                    format!("--cacert {} ", dir.join(vaultgate::tls::dev_cert::CA_CERT_FILE).display())
                }
                _ => String::new(),
            };
            log::info!(
                "try: curl {trust}-H \"Authorization: Bearer $(cargo run -q -- token --role GetSecret)\" {url}/vault/demo"
            );
        } else {
            log::info!("vaultgate serves in Azure mode on {url}");
        }
        app.run_until_stopped().await.map_err(vaultgate::startup::StartupError::from_io)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            ExitCode::FAILURE
        }
    }
}
