//! Account lockout: after `max_failures` failed logins within `window`, the
//! account is locked for `lock_for` from the last failure. The failures are
//! counted in the database (so switching instance does not reset them); this
//! is only the rule. Times are seconds since the epoch.

/// The lockout rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub max_failures: u32,
    pub window_secs: i64,
    pub lock_secs: i64,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout { max_failures: 5, window_secs: 15 * 60, lock_secs: 15 * 60 }
    }
}

impl Lockout {
    /// Until when the account is locked, given its recent failure times.
    pub fn locked_until(&self, failures: &[i64], now: i64) -> Option<i64> {
        let recent: Vec<i64> = failures.iter().copied().filter(|t| now - t < self.window_secs && *t <= now).collect();
        if recent.len() < self.max_failures as usize {
            return None;
        }
        let last = recent.iter().copied().max()?;
        let until = last + self.lock_secs;
        (until > now).then_some(until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_recent_failures_and_unlocks_later() {
        let l = Lockout::default();
        let now = 1_000_000;
        let four = [now - 50, now - 40, now - 30, now - 20];
        assert_eq!(l.locked_until(&four, now), None);
        let five = [now - 50, now - 40, now - 30, now - 20, now - 10];
        assert_eq!(l.locked_until(&five, now), Some(now - 10 + 900));
        assert_eq!(l.locked_until(&five, now + 1000), None, "the lock expires");
        let old = [now - 5000, now - 4000, now - 3000, now - 2000, now - 10];
        assert_eq!(l.locked_until(&old, now), None, "old failures fall out of the window");
    }
}
