//! SQLite's write-ahead log, started over every second by a task of the server's own, so that
//! it stays bounded under steady load (`Store::restart_log`, decision 0029).

use std::time::Duration;

use mandate_store::Store;

/// How often the log is checkpointed and started over. Under load about 60 MB of log are
/// written a second: the log file stays within about that.
pub const EVERY: Duration = Duration::from_secs(1);

/// Starts `store`'s log over every [`EVERY`] until the runtime stops, when it is a SQLite file;
/// returns at once otherwise.
pub async fn restart_periodically(store: Store) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.restart_log()).await {
            // PostgreSQL, or a database in memory: nothing to do, ever.
            Ok(Ok(None)) => return,
            Ok(Ok(Some(_))) if failing => {
                failing = false;
                tracing::info!("checkpointing the SQLite log works again");
            }
            Ok(Ok(Some(_))) => {}
            // Said once per outage: a full disk or a read-only file would say it every second.
            Ok(Err(error)) if !failing => {
                failing = true;
                tracing::warn!(%error, "cannot checkpoint the SQLite log; it grows until a checkpoint succeeds");
            }
            Ok(Err(_)) => {}
            // The runtime is shutting down.
            Err(_) => return,
        }
    }
}
