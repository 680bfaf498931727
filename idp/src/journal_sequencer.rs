//! The journal's sequencer in `idp serve`: every `journal.sequence_interval_ms`, chains what the
//! requests of every server have queued (decision 0020). Any number of servers run it against
//! one database; the chain's lock makes them take turns, and each entry is chained once.

use std::time::Duration;

use mandate_store::journal;
use mandate_store::{Store, StoreError};

/// Chains the queued entries every `interval`, batch after batch until the queue is empty, for
/// as long as the server runs.
pub async fn sequence_periodically(store: Store, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    // A slow database delays the next round rather than stacking rounds up behind it.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut outage = Outage::default();
    loop {
        ticks.tick().await;
        let store = store.clone();
        let chained = tokio::task::spawn_blocking(move || -> Result<usize, StoreError> {
            let mut conn = store.conn()?;
            let mut chained = 0;
            loop {
                let batch = journal::sequence_pending(&mut conn, journal::SEQUENCE_BATCH)?;
                chained += batch;
                if (batch as i64) < journal::SEQUENCE_BATCH {
                    return Ok(chained);
                }
            }
        })
        .await;
        match chained {
            Ok(Ok(n)) => {
                if let Some(failed_rounds) = outage.ended() {
                    tracing::info!(failed_rounds, entries = n, "chaining the journal works again");
                } else if n > 0 {
                    tracing::debug!(entries = n, "journal entries chained");
                }
            }
            Ok(Err(error)) => {
                if let Some(failed_rounds) = outage.failed(std::time::Instant::now()) {
                    if error.is_unavailable() {
                        tracing::warn!(%error, failed_rounds, "chaining the journal waits for the database; queued entries are kept and chained once it answers");
                    } else {
                        tracing::error!(%error, failed_rounds, "chaining the journal failed; trying again at every interval");
                    }
                }
            }
            // The runtime is shutting down.
            Err(_) => return,
        }
    }
}

/// Rounds that failed in a row. A database away for a minute would otherwise write ten log
/// lines a second: the first failure is logged, then one line a minute while it lasts, and one
/// when it ends.
#[derive(Default)]
struct Outage {
    failed_rounds: u64,
    last_logged: Option<std::time::Instant>,
}

impl Outage {
    const REMINDER: Duration = Duration::from_secs(60);

    /// Counts a failed round; the number of rounds failed so far when this one is to be logged.
    fn failed(&mut self, now: std::time::Instant) -> Option<u64> {
        self.failed_rounds += 1;
        let due = self.last_logged.is_none_or(|at| now.duration_since(at) >= Self::REMINDER);
        if due {
            self.last_logged = Some(now);
        }
        due.then_some(self.failed_rounds)
    }

    /// A round succeeded: the number of rounds that had failed, if any.
    fn ended(&mut self) -> Option<u64> {
        let failed = std::mem::take(&mut self.failed_rounds);
        self.last_logged = None;
        (failed > 0).then_some(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_logged_when_it_starts_once_a_minute_while_it_lasts_and_when_it_ends() {
        let start = std::time::Instant::now();
        let mut outage = Outage::default();
        assert_eq!(outage.ended(), None, "nothing failed: nothing to say");
        assert_eq!(outage.failed(start), Some(1));
        for tenth in 1..600 {
            assert_eq!(outage.failed(start + Duration::from_millis(100 * tenth)), None);
        }
        assert_eq!(outage.failed(start + Duration::from_secs(60)), Some(601));
        assert_eq!(outage.failed(start + Duration::from_secs(61)), None);
        assert_eq!(outage.ended(), Some(602));
        assert_eq!(outage.ended(), None);
        assert_eq!(outage.failed(start + Duration::from_secs(62)), Some(1), "a new outage is logged at once");
    }
}
