//! The pool after a PostgreSQL restart: connections the server closed are dropped and the
//! store serves again by itself, without a new `Store`. The machine's shared server must never
//! be restarted, so the test starts a throw-away cluster of its own
//! ([`PostgresCluster`], shared with the server's fault tests).

use mandate_store::testing::postgres_cluster::PostgresCluster;
use mandate_store::{organisations, Store, StoreError};

fn organisations_listed(store: &Store) -> Result<usize, StoreError> {
    let mut conn = store.conn()?;
    Ok(organisations::list(&mut conn)?.len())
}

#[test]
fn after_a_postgres_restart_the_store_serves_again_by_itself() {
    let Some(cluster) = PostgresCluster::start() else { return };
    let store = Store::open_and_migrate(&cluster.url(), 4).unwrap();
    // Several connections open and idle in the pool, as after a busy moment.
    {
        let held: Vec<_> = (0..3).map(|_| store.conn().unwrap()).collect();
        drop(held);
    }
    assert_eq!(organisations_listed(&store).unwrap(), 0);
    assert!(store.pool_usage().open >= 3, "{:?}", store.pool_usage());

    cluster.restart();

    // The first call may meet a connection the server closed: it fails, with the database's
    // error, not a panic or a wrong answer.
    match organisations_listed(&store) {
        Ok(n) => assert_eq!(n, 0),
        Err(StoreError::Database(_)) => {}
        Err(other) => panic!("the first call after the restart failed with {other:?}"),
    }
    // Every later call succeeds on the same store: the other dead connections were checked and
    // replaced, not handed out.
    for call in 0..6 {
        assert_eq!(organisations_listed(&store).unwrap_or_else(|e| panic!("call {call} after the restart: {e}")), 0);
    }
    store.ping().unwrap();
}
