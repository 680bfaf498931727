//! The one-time code, wherever a helper gives one: at sign-in, and again to sign or revoke a
//! mandate (the code proves the helper is at the keyboard when it matters). A code's time step
//! is spent when accepted, so a code works once (RFC 6238 §5.2).

use mandate_store::aidants::{self, Aidant};
use mandate_store::now;

use crate::blocking::with_conn;
use crate::totp;
use crate::web::{AppState, PageError};

/// Whether `code` is the helper's current one-time code (± one step) not used before; if so its
/// step is spent.
pub async fn spend_code(state: &AppState, aidant: &Aidant, code: &str) -> Result<bool, PageError> {
    let unix_now = now().and_utc().timestamp() as u64;
    let step = totp::matching_step(&aidant.totp_secret, aidant.totp_step_seconds as u64, code, unix_now).ok().flatten();
    match step {
        Some(step) => {
            let id = aidant.id.clone();
            Ok(with_conn(&state.store, move |conn| aidants::accept_totp_step(conn, &id, step as i64)).await?)
        }
        None => Ok(false),
    }
}

/// The same, for a helper known by id (the pages that ask for a code again).
pub async fn spend_code_of(state: &AppState, aidant_id: &str, code: &str) -> Result<bool, PageError> {
    let id = aidant_id.to_owned();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    if !aidant.active {
        return Ok(false);
    }
    spend_code(state, &aidant, code).await
}
