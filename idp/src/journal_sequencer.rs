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
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(entries = n, "journal entries chained"),
            Ok(Err(error)) => tracing::error!(%error, "chaining the journal failed; trying again at the next interval"),
            // The runtime is shutting down.
            Err(_) => return,
        }
    }
}
