//! The purge as `idp serve` runs it by itself, every `maintenance.purge_interval_minutes`: the
//! same work as `idp maintenance purge` (`mandate_store::purge`), off the request path, its
//! counts logged. Replicas may each run it: a purge finding nothing left to do changes nothing.

use std::time::Duration;

use mandate_store::Store;

/// The first purge comes this long after start (or one interval, when shorter): soon enough
/// that a server restarted every day still purges, late enough that start-up and a restart
/// loop are not slowed by it.
pub const FIRST_PURGE_AFTER: Duration = Duration::from_secs(5 * 60);

/// Purges `first_after` from now, then every `interval`, until the runtime stops.
pub async fn run_periodically(store: Store, usager_days: u32, first_after: Duration, interval: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + first_after, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = store.clone();
        let purged = tokio::task::spawn_blocking(move || {
            let mut conn = store.conn()?;
            mandate_store::purge::purge(&mut conn, mandate_store::now(), usager_days)
        })
        .await;
        match purged {
            Ok(Ok(purged)) => tracing::info!(
                rows_removed = purged.rows_removed(),
                usagers_erased = purged.usagers_erased,
                authorization_codes = purged.authorization_codes,
                tokens = purged.tokens,
                grants = purged.grants,
                sessions = purged.sessions,
                usager_sessions = purged.usager_sessions,
                authorization_requests = purged.authorization_requests,
                upstream_logins = purged.upstream_logins,
                mandate_drafts = purged.mandate_drafts,
                client_assertion_jtis = purged.client_assertion_jtis,
                sign_in_delays = purged.sign_in_delays,
                "purge done"
            ),
            Ok(Err(error)) => tracing::error!(%error, "purge failed; trying again at the next interval"),
            // The runtime is shutting down.
            Err(_) => return,
        }
    }
}
