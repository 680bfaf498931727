//! The one place where blocking work (diesel queries, argon2) leaves the async executor.

use actix_web::web;
use mandate_store::{DbConnection, Store, StoreError};

/// The blocking thread pool refused the work (the server is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the blocking task was cancelled")]
pub struct Cancelled;

/// Runs `f` with a pooled connection on actix's blocking thread pool.
pub async fn with_conn<T, E, F>(store: &Store, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = store.clone();
    web::block(move || {
        let mut conn = store.conn().map_err(E::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|_| E::from(StoreError::Connection("the blocking thread pool is shutting down".into())))?
}

/// Runs CPU-heavy work (password hashing) on the blocking pool.
pub async fn cpu<T, F>(f: F) -> Result<T, Cancelled>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await.map_err(|_| Cancelled)
}
