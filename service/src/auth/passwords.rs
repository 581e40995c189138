//! Where password hashing runs: on tokio's blocking pool, never on an HTTP
//! worker (one argon2 call is ~19 MiB and tens of milliseconds of CPU, which
//! would stall every other request of that worker), and at most
//! `PASSWORD_HASH_CONCURRENCY` at once per instance, so a burst of logins
//! cannot take all the memory and cores. A login that finds no free slot
//! within `PASSWORD_HASH_WAIT_MS` is refused with `RATE_LIMITED` (HTTP 429)
//! and nothing is counted against the account.

use std::sync::Arc;
use std::time::Duration;

use kaohe_auth::password::{self, Verified};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AuthError;

/// The hashing slots of one instance.
pub struct PasswordWork {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// What checking a password found, and the new hash to store when the
/// stored one was made with other parameters than the pinned ones.
#[derive(Debug)]
pub struct Checked {
    pub verified: Verified,
    pub rehashed: Option<String>,
}

impl PasswordWork {
    pub fn new(concurrency: usize, wait: Duration) -> PasswordWork {
        PasswordWork { slots: Arc::new(Semaphore::new(concurrency.max(1))), wait }
    }

    /// One hashing slot, waiting at most the configured time for it.
    pub async fn slot(&self) -> Result<OwnedSemaphorePermit, AuthError> {
        let slots = self.slots.clone();
        if self.wait.is_zero() {
            return slots.try_acquire_owned().map_err(|_| AuthError::Busy);
        }
        match tokio::time::timeout(self.wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(AuthError::Busy),
        }
    }

    /// Checks `password` against `stored` (`None`: an unknown account, for
    /// which a dummy hash of the pinned parameters is checked, so that the
    /// time taken does not tell). With `upgrade`, a right password over a
    /// stale hash is hashed again, in the same slot.
    pub async fn check(&self, password: &str, stored: Option<String>, upgrade: bool) -> Result<Checked, AuthError> {
        let slot = self.slot().await?;
        let password = password.to_string();
        let work = move || {
            let _slot = slot;
            let Some(stored) = stored else {
                password::verify_dummy(&password);
                return Ok(Checked { verified: Verified::Mismatch, rehashed: None });
            };
            let verified = password::verify(&password, &stored);
            let rehashed = match verified {
                Verified::Stale if upgrade => Some(password::hash(&password)?),
                _ => None,
            };
            Ok(Checked { verified, rehashed })
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Hashing(e.to_string()))?
            .map_err(|e: password::HashError| AuthError::Hashing(e.to_string()))
    }

    /// Hashes a new password with the pinned parameters, in a slot, on the
    /// blocking pool (a password change or reset, an account created).
    pub async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let slot = self.slot().await?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            password::hash(&password)
        })
        .await
        .map_err(|e| AuthError::Hashing(e.to_string()))?
        .map_err(|e| AuthError::Hashing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_login_over_the_bound_is_refused_not_queued_forever() {
        let work = PasswordWork::new(1, Duration::from_millis(20));
        let stored = password::hash("pw").unwrap();
        let held = work.slot().await.unwrap();
        // The only slot is taken: the check gives up after the wait.
        let e = work.check("pw", Some(stored.clone()), false).await.unwrap_err();
        assert_eq!(e.code(), "RATE_LIMITED");
        drop(held);
        let ok = work.check("pw", Some(stored), false).await.unwrap();
        assert_eq!(ok.verified, Verified::Match);
        assert!(ok.rehashed.is_none());
        // Unknown accounts cost a verification and never match.
        assert_eq!(work.check("pw", None, true).await.unwrap().verified, Verified::Mismatch);
    }
}
