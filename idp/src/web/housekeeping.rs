//! Housekeeping done by requests as they pass, at most once per interval per replica: a chore
//! that costs a statement scanning a table should not run at every request.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::NaiveDateTime;

/// A chore that is due at most once per `every_seconds` (per replica).
pub struct Throttle {
    every_seconds: i64,
    /// When the chore last fell due, in seconds since the epoch; `i64::MIN` before the first.
    last: AtomicI64,
}

impl Throttle {
    pub fn every_seconds(every_seconds: i64) -> Throttle {
        Throttle { every_seconds, last: AtomicI64::new(i64::MIN) }
    }

    /// Whether the chore is due at `now`. Of concurrent callers, exactly one is told it is.
    pub fn due(&self, now: NaiveDateTime) -> bool {
        let now = now.and_utc().timestamp();
        let last = self.last.load(Ordering::Relaxed);
        if last != i64::MIN && now - last < self.every_seconds {
            return false;
        }
        self.last.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

/// Expired pending authorization requests are deleted by the first `/authorize` of each minute
/// (and by `idp maintenance purge`); their lookups check the expiry themselves.
pub const PENDING_PURGE_EVERY_SECONDS: i64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap().naive_utc()
    }

    #[test]
    fn a_chore_is_due_at_first_then_once_per_interval() {
        let throttle = Throttle::every_seconds(60);
        assert!(throttle.due(at(0)));
        assert!(!throttle.due(at(0)));
        assert!(!throttle.due(at(59)));
        assert!(throttle.due(at(60)));
        assert!(!throttle.due(at(61)));
    }

    #[test]
    fn of_concurrent_callers_one_is_told_the_chore_is_due() {
        let throttle = std::sync::Arc::new(Throttle::every_seconds(60));
        let told: usize = (0..8)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || usize::from(throttle.due(at(100))))
            })
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(told, 1);
    }
}
