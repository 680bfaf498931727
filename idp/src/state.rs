//! What every request handler shares.

use std::sync::Arc;

use mandate_store::Store;

use crate::configuration::Settings;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
}
