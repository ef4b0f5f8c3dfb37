//! What can go wrong with Redis, by the operation that failed (the metric's label). The text
//! never holds the URL, which may carry a password.

use std::time::Duration;

/// The Redis calls the fleet tier makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, derive_more::Display)]
pub enum Operation {
    #[display("connect")]
    Connect,
    #[display("xadd")]
    Xadd,
    #[display("xread")]
    Xread,
    #[display("xinfo")]
    Xinfo,
}

impl Operation {
    pub fn label(self) -> &'static str {
        match self {
            Operation::Connect => "connect",
            Operation::Xadd => "xadd",
            Operation::Xread => "xread",
            Operation::Xinfo => "xinfo",
        }
    }
}

#[derive(Debug, derive_more::Display)]
pub enum FleetError {
    #[display("{operation}: no answer within {} ms", limit.as_millis())]
    TimedOut { operation: Operation, limit: Duration },
    #[display("{operation}: {source}")]
    Redis { operation: Operation, source: redis::RedisError },
    #[display("{operation}: unexpected reply: {what}")]
    Reply { operation: Operation, what: &'static str },
    /// The redis client refused `FLEET_REDIS_URL` (config's rule let it through).
    #[display("FLEET_REDIS_URL: the Redis client cannot use it ({kind:?}); the value is not shown")]
    Url { kind: redis::ErrorKind },
    /// More names waited to be sent than the queue holds (Redis far slower than the events).
    #[display("xadd: the queue of invalidations to send is full; this one stays local")]
    QueueFull,
}

impl FleetError {
    pub fn operation(&self) -> Operation {
        match self {
            FleetError::TimedOut { operation, .. }
            | FleetError::Redis { operation, .. }
            | FleetError::Reply { operation, .. } => *operation,
            FleetError::Url { .. } => Operation::Connect,
            FleetError::QueueFull => Operation::Xadd,
        }
    }
}
