//! Retries of the token endpoints, as MSAL documents them: the managed identity endpoints
//! answer 404, 408, 410, 429 and 5xx while an identity is being set up, IMDS is upgrading
//! (410, for up to 70 s) or the host is busy; the Entra token endpoint throttles with 429 and
//! has 5xx hiccups. Each is retried with backoff, honouring `Retry-After`, within its limits;
//! each credential's module holds its own policy, the ones several share are here.

use std::time::{Duration, Instant};

use super::CredentialError;
use crate::backoff;
use crate::upstream::{self, Answer, Body};

pub struct Policy {
    retry_on: fn(u16) -> bool,
    /// Retries after the first call (410 from IMDS has its own, longer, allowance).
    max_retries: u32,
    /// The first backoff; it doubles per retry.
    base: Duration,
}

pub fn busy_or_failing(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Service Fabric, Azure Arc, Cloud Shell and Azure ML: 408, 429, 500, 502, 503, 504 (MSAL
/// Go's list for the managed identity sources other than IMDS).
pub const OTHER_MANAGED_IDENTITY: Policy = Policy::new(|status| matches!(status, 408 | 429 | 500 | 502 | 503 | 504));

/// The Entra token endpoint: 429 and 5xx.
pub const TOKEN_ENDPOINT: Policy = Policy::new(busy_or_failing);

/// How long IMDS may keep answering 410 while it upgrades, and the pause between tries then.
const IMDS_UPGRADE_ALLOWANCE: Duration = Duration::from_secs(70);
const IMDS_UPGRADE_PAUSE: Duration = Duration::from_secs(10);

impl Policy {
    /// Retries the statuses `retry_on` accepts, three times at most, from a 1 s backoff.
    pub const fn new(retry_on: fn(u16) -> bool) -> Self {
        Policy { retry_on, max_retries: 3, base: Duration::from_secs(1) }
    }

    /// The wait before the next try after `answer`, or `None` to give the answer back as it is.
    fn next_wait(&self, answer: &Answer, retries: u32, started: Instant) -> Option<Duration> {
        if !(self.retry_on)(answer.status) {
            return None;
        }
        let asked = backoff::asked_for(&answer.headers);
        if answer.status == 410 {
            let wait = asked.unwrap_or(IMDS_UPGRADE_PAUSE);
            return (started.elapsed() + wait <= IMDS_UPGRADE_ALLOWANCE).then_some(wait);
        }
        if retries >= self.max_retries {
            return None;
        }
        Some(asked.unwrap_or_else(|| backoff::exponential(self.base, self.base * 8, retries)))
    }

    /// Sends what `request` builds (once per try) until an answer is final or the policy is spent.
    pub async fn send(
        &self,
        request: impl Fn() -> Result<awc::ClientRequest, CredentialError>,
        form: Option<&[(&str, &str)]>,
        timeout: Duration,
    ) -> Result<Answer, CredentialError> {
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let body = form.map_or(Body::Empty, Body::Form);
            let answer = upstream::send(request()?, body, timeout).await?;
            let Some(wait) = self.next_wait(&answer, retries, started) else { return Ok(answer) };
            log::info!(
                "token endpoint answered {}{}; retrying in {} ms",
                answer.status,
                super::answer::describe_error(&answer.body),
                wait.as_millis()
            );
            retries += 1;
            actix_web::rt::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use actix_web::http::header::HeaderMap;
    use actix_web::web::Bytes;

    pub fn answer(status: u16) -> Answer {
        Answer { status, headers: HeaderMap::new(), body: Bytes::new() }
    }

    /// Whether `policy` retries `status` after `retries` retries, started now.
    pub fn retries(policy: &Policy, status: u16, retries: u32) -> bool {
        policy.next_wait(&answer(status), retries, Instant::now()).is_some()
    }

    #[test]
    fn the_token_endpoint_retries_throttling_and_server_errors_only() {
        assert!(!retries(&TOKEN_ENDPOINT, 404, 0));
        assert!(retries(&TOKEN_ENDPOINT, 429, 0));
        assert!(!retries(&OTHER_MANAGED_IDENTITY, 410, 0), "410 is IMDS's upgrade answer");
    }

    /// An upgrading IMDS (410) is waited for up to 70 seconds, past the retry count.
    pub fn upgrade_allowance(policy: &Policy) {
        let now = Instant::now();
        assert_eq!(policy.next_wait(&answer(410), 10, now), Some(IMDS_UPGRADE_PAUSE), "past the retry count");
        let long_ago = now - Duration::from_secs(61);
        assert_eq!(policy.next_wait(&answer(410), 6, long_ago), None, "the allowance is spent");
    }
}
