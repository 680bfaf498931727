//! What every request handler shares.

use std::sync::Arc;

use mandate_store::Store;

use super::assets::DsfrAssets;
use super::csrf::CsrfKey;
use crate::configuration::Settings;
use crate::keys::KeySet;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keys: KeySet,
    /// For outgoing calls: clients' JWKS URIs, back-channel logout.
    pub http: reqwest::Client,
    pub metrics: Metrics,
    /// Binds CSRF tokens to their session; the same on every replica (kept in the store).
    pub csrf: CsrfKey,
    /// The design system's files, checked at start.
    pub dsfr: DsfrAssets,
}
