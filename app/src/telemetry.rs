//! Logging: env_logger, `RUST_LOG` honoured, `info` by default.

/// Initialises logging once; later calls (tests spawning many servers) are ignored.
pub fn init_logging() {
    let env = env_logger::Env::default().default_filter_or("info");
    let _ = env_logger::Builder::from_env(env).try_init();
}

/// For tests: log lines go through the test harness's capture, shown only on failure.
pub fn init_test_logging() {
    let env = env_logger::Env::default().default_filter_or("info");
    let _ = env_logger::Builder::from_env(env).is_test(true).try_init();
}
