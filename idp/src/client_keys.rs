//! The key sets of `private_key_jwt` clients that publish them at a `jwks_uri`: fetched when an
//! assertion needs them, then kept. A key set is fetched again when an assertion names a `kid`
//! it does not hold (the client rotated its keys) or when it is an hour old, but never more
//! than once a minute per client: a stranger sending assertions with made-up `kid`s cannot
//! make us call the client's server at will. A failed fetch is logged with its cause and
//! counts as an attempt; the caller answers only a generic refusal (the URL may be internal).
//!
//! The cache is per process: a key set is public data any replica can fetch again, so nothing
//! is lost when a replica starts with an empty one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

/// The least time between two fetches of one client's key set.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// After this, a key set in use is fetched again (at the next assertion) to drop removed keys.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// A client's key set is a few KiB; this is far more than any needs.
const MAX_JWKS_BYTES: usize = 64 * 1024;

struct Entry {
    uri: String,
    keys: Option<Arc<JwkSet>>,
    fetched_at: Option<Instant>,
    last_attempt: Instant,
}

/// The kept key sets, by client id.
#[derive(Default)]
pub struct ClientKeyCache {
    // One lock for all clients: fetches are rare (once a minute per client at most) and short
    // (the HTTP client's timeout), and holding it makes two assertions at once fetch once.
    entries: Mutex<HashMap<String, Entry>>,
}

/// Why no key was found for an assertion (logged, never sent to the client).
#[derive(Debug, thiserror::Error)]
pub enum KeyLookupError {
    #[error("cannot fetch the client's jwks_uri: {0}")]
    Fetch(String),
    #[error("the client's key set holds no key for this assertion")]
    NoMatchingKey,
}

/// The key of `kid` in `keys`; without a `kid`, the one key of a set that has only one.
pub fn find_key<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

impl ClientKeyCache {
    /// The key that should verify an assertion of `client_id` naming `kid`, from the key set
    /// at `uri`: the kept set when it holds the key, else a fresh one if the interval allows.
    pub async fn key_for(
        &self,
        http: &reqwest::Client,
        client_id: &str,
        uri: &str,
        kid: Option<&str>,
    ) -> Result<Jwk, KeyLookupError> {
        let mut entries = self.entries.lock().await;
        let now = Instant::now();
        let entry = entries.get_mut(client_id).filter(|e| e.uri == uri);
        let (kept, may_fetch) = match entry {
            None => (None, true),
            Some(e) => {
                let stale = e.fetched_at.is_none_or(|at| now.duration_since(at) > MAX_AGE);
                let kept = e.keys.clone().filter(|_| !stale);
                (kept, now.duration_since(e.last_attempt) >= REFETCH_INTERVAL)
            }
        };
        if let Some(key) = kept.as_deref().and_then(|keys| find_key(keys, kid)) {
            return Ok(key.clone());
        }
        if !may_fetch {
            return Err(KeyLookupError::NoMatchingKey);
        }
        let fetched = fetch(http, uri).await;
        let previous = entries.remove(client_id).filter(|e| e.uri == uri);
        let (keys, fetched_at) = match &fetched {
            Ok(keys) => (Some(Arc::new(keys.clone())), Some(now)),
            // A failed fetch keeps what we had: the client's server may be down for a moment.
            Err(_) => previous.map_or((None, None), |p| (p.keys, p.fetched_at)),
        };
        entries.insert(client_id.to_owned(), Entry { uri: uri.to_owned(), keys, fetched_at, last_attempt: now });
        let keys = fetched.map_err(KeyLookupError::Fetch)?;
        find_key(&keys, kid).cloned().ok_or(KeyLookupError::NoMatchingKey)
    }
}

async fn fetch(http: &reqwest::Client, uri: &str) -> Result<JwkSet, String> {
    let response = http.get(uri).send().await.and_then(|r| r.error_for_status()).map_err(|e| e.to_string())?;
    if response.content_length().is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
        return Err("the key set is too large".into());
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_JWKS_BYTES {
        return Err("the key set is too large".into());
    }
    serde_json::from_slice(&body).map_err(|e| format!("not a JWK set: {e}"))
}
