//! How a SQLite statement waits for a lock another connection holds.
//!
//! SQLite's own `busy_timeout` sleeps 1, 2, 5, 10, 15, 20, 25... milliseconds between tries.
//! Our writes hold the write lock for a few tenths of a millisecond, so a writer that found it
//! taken slept several times longer than the wait it needed, while the lock was free
//! (decision 0030). This handler tries again after a few tens of microseconds first, then backs
//! off to a millisecond, and gives up after the same 10 seconds. Writers of one pool do not
//! even poll: they take turns first (`db::write_transaction`); this handler serves the writes
//! outside a transaction and the other processes' locks.
//!
//! The handler is per connection but the budget is per thread: the statement waiting runs on
//! the calling thread, which is how [`with_budget`] lets one call wait less.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

/// How long a statement waits for another connection's lock before failing with "database is
/// locked", unless [`with_budget`] says otherwise.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(10);

thread_local! {
    /// This thread's budget for one wait.
    static BUDGET: Cell<Duration> = const { Cell::new(DEFAULT_BUDGET) };
    /// When the current wait began (SQLite counts tries from 0 for each wait).
    static WAIT_BEGAN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `f` with statements of this thread waiting at most `budget` for a lock.
pub fn with_budget<T>(budget: Duration, f: impl FnOnce() -> T) -> T {
    struct Restore(Duration);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(budget)));
    f()
}

/// The pause before try number `tries + 1`: short while the holder is likely a single write.
fn pause(tries: c_int) -> Duration {
    match tries {
        0..=9 => Duration::from_micros(20),
        10..=49 => Duration::from_micros(100),
        _ => Duration::from_millis(1),
    }
}

/// Installs the handler on a connection being opened.
///
/// # Safety
/// `db` must be a valid connection handle.
pub(crate) unsafe fn install(db: *mut libsqlite3_sys::sqlite3) -> c_int {
    // SAFETY: per the caller; the handler takes no argument.
    unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(wait_for_lock), std::ptr::null_mut()) }
}

/// SQLite's busy handler: non-zero to try again, zero to give up with SQLITE_BUSY.
extern "C" fn wait_for_lock(_: *mut c_void, tries: c_int) -> c_int {
    // Nothing here may unwind into SQLite: a thread being torn down gives up at once.
    let Ok(began) = WAIT_BEGAN.try_with(|w| {
        if tries == 0 {
            let now = Instant::now();
            w.set(Some(now));
            now
        } else {
            w.get().unwrap_or_else(Instant::now)
        }
    }) else {
        return 0;
    };
    let budget = BUDGET.try_with(Cell::get).unwrap_or(DEFAULT_BUDGET);
    let waited = began.elapsed();
    if waited >= budget {
        return 0;
    }
    std::thread::sleep(pause(tries).min(budget - waited));
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tries_come_quickly_then_back_off_to_a_millisecond() {
        assert!(pause(0) < Duration::from_micros(100));
        assert!(pause(20) <= Duration::from_micros(100));
        assert_eq!(pause(1_000), Duration::from_millis(1));
    }

    #[test]
    fn a_budget_applies_to_its_call_only() {
        let inner = with_budget(Duration::from_millis(50), || BUDGET.with(Cell::get));
        assert_eq!(inner, Duration::from_millis(50));
        assert_eq!(BUDGET.with(Cell::get), DEFAULT_BUDGET);
    }
}
