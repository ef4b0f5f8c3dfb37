//! The way to Redis: a client for `FLEET_REDIS_URL` and every call bounded in time.

use std::future::Future;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisResult};
use vaultgate_config::fleet_settings::FleetSettings;

use super::error::{FleetError, Operation};

/// A TLS handshake takes several round trips; a connection is only ever made by the
/// background tasks, so no request waits on it.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(super) struct Link {
    client: Client,
    /// `FLEET_REDIS_TIMEOUT_MS`: the bound of one call.
    pub timeout: Duration,
}

impl Link {
    pub fn open(settings: &FleetSettings) -> Result<Link, FleetError> {
        let client = Client::open(settings.url.0.as_str()).map_err(|error| FleetError::Url { kind: error.kind() })?;
        Ok(Link { client, timeout: settings.timeout })
    }

    /// A new connection. Its calls carry no timeout of the client's own: each is bounded by
    /// `bounded`, a blocking read by its block time plus the timeout.
    pub async fn connect(&self) -> Result<MultiplexedConnection, FleetError> {
        let limit = self.timeout.max(MIN_CONNECT_TIMEOUT);
        let config = AsyncConnectionConfig::new().set_connection_timeout(Some(limit)).set_response_timeout(None);
        bounded(Operation::Connect, limit, self.client.get_multiplexed_async_connection_with_config(&config)).await
    }
}

/// `call`, given at most `limit`.
pub(super) async fn bounded<T>(
    operation: Operation,
    limit: Duration,
    call: impl Future<Output = RedisResult<T>>,
) -> Result<T, FleetError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(FleetError::Redis { operation, source }),
        Err(_) => Err(FleetError::TimedOut { operation, limit }),
    }
}
