//! Every default and every fixed bound of the settings, in one place, so that
//! docs/CONFIGURATION.md's tables can be checked against one file.

/// The Functions host's local port.
pub const DEFAULT_PORT: u16 = 7071;
/// Local mode listens on loopback only.
pub const DEFAULT_LOCAL_BIND: &str = "127.0.0.1";
/// Azure mode listens on every interface (containers, App Service).
pub const DEFAULT_AZURE_BIND: &str = "0.0.0.0";
pub const DEFAULT_DEV_KEY_DIR: &str = ".vaultgate";
/// Local mode's secrets when neither `KEY_VAULT_URL` nor `SECRETS_DIR` is set.
pub const DEFAULT_SECRETS_DIR: &str = "demo-secrets";

pub const DEFAULT_LEEWAY_SECS: u64 = 60;
/// More clock skew than this would keep expired tokens alive too long.
pub const MAX_LEEWAY_SECS: u64 = 300;

pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
pub const DEFAULT_JWKS_REFRESH_SECS: u64 = 3600;
pub const DEFAULT_JWKS_MIN_REFRESH_SECS: u64 = 300;
/// How long a key missing from a newer JWKS stays trusted (Entra's rollovers flicker).
pub const DEFAULT_JWKS_KEY_GRACE_SECS: u64 = 900;
pub const DEFAULT_UPSTREAM_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_TOKEN_CACHE_MAX_ENTRIES: usize = 10_000;

/// The VM's instance metadata service (managed identity of last resort).
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";
pub const DEFAULT_KEY_VAULT_RETRY_BUDGET_SECS: u64 = 10;
/// Half of Key Vault's own limit on secret GETs (4,000 per 10 s per vault).
pub const DEFAULT_KEY_VAULT_MAX_GETS_PER_10S: usize = 2_000;

pub const DEFAULT_SECRET_CACHE_TTL_SECS: u64 = 300;
pub const DEFAULT_SECRET_MAX_STALE_SECS: u64 = 3600;
pub const DEFAULT_SECRET_NEGATIVE_TTL_SECS: u64 = 30;
pub const DEFAULT_SECRET_CACHE_MAX_ENTRIES: usize = 10_000;
/// How long past its TTL a value is still served while its refresh-ahead runs.
pub const DEFAULT_SECRET_REFRESH_GRACE_SECS: u64 = 10;
/// Fruitless store reads one caller may cause in any 10 s.
pub const DEFAULT_SECRET_MISS_BUDGET: usize = 30;

pub const DEFAULT_HEALTH_PROBE_INTERVAL_SECS: u64 = 30;
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 5;
pub const DEFAULT_KEEP_ALIVE_SECS: u64 = 5;
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;

/// The app role Microsoft's secure webhook delivery script creates and assigns to Event Grid.
pub const DEFAULT_EVENT_GRID_ROLE: &str = "AzureEventGridSecureWebhookSubscriber";

/// How often vaultgate's own TLS files are compared with the pair it serves.
pub const DEFAULT_TLS_RELOAD_INTERVAL_SECS: u64 = 5;
/// The stream every replica appends its invalidations to and reads the others' from.
pub const DEFAULT_FLEET_REDIS_STREAM: &str = "vaultgate:invalidations";
/// Redis answers in a millisecond in the same region; a call slower than this counts as down.
pub const DEFAULT_FLEET_REDIS_TIMEOUT_MS: u64 = 50;
pub const MAX_FLEET_REDIS_TIMEOUT_MS: u64 = 10_000;
