//! Kept so that `crate::state::AppState` still names the shared state, which now lives in the
//! web layer (`web::state`).

pub use crate::web::state::AppState;
