//! The one-time code, wherever a helper gives one: at sign-in, and again to sign or revoke a
//! mandate (the code proves the helper is at the keyboard when it matters). A code may come
//! from any confirmed second factor of the helper (an authenticator app, 30-second steps; a
//! card, 60-second steps); the step it belongs to is spent on that factor, so a code works once
//! (RFC 6238 §5.2).

use chrono::NaiveDateTime;
use mandate_store::aidants::{self, Aidant};
use mandate_store::now;
use mandate_store::second_factors::{self, SecondFactor};
use mandate_store::sign_in_delays::{self, Attempt, SignInStep};

use crate::blocking::with_conn;
use crate::totp;
use crate::web::{AppState, ClientAddress, PageError};

/// The time step `code` belongs to on `factor` at `unix_now` (± one step), if any.
pub fn matching_step(factor: &SecondFactor, code: &str, unix_now: u64) -> Option<i64> {
    let step = u64::try_from(factor.step_seconds).ok()?;
    match totp::matching_step(&factor.secret, step, code, unix_now) {
        Ok(found) => found.map(|s| s as i64),
        Err(_) => {
            tracing::error!(factor_id = %factor.id, "second factor with an unreadable secret");
            None
        }
    }
}

/// Whether `code` is the helper's current one-time code (± one step) on one of their confirmed
/// second factors, not used before on that factor; if so its step is spent there.
pub async fn spend_code(state: &AppState, aidant: &Aidant, code: &str) -> Result<bool, PageError> {
    let id = aidant.id.clone();
    let keys = state.sealing.clone();
    let factors = with_conn(&state.store, move |conn| second_factors::confirmed(conn, &*keys, &id)).await?;
    let unix_now = now().and_utc().timestamp() as u64;
    for factor in factors {
        if let Some(step) = matching_step(&factor, code, unix_now) {
            let spent =
                with_conn(&state.store, move |conn| second_factors::accept_step(conn, &factor.id, step)).await?;
            if spent {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// What became of a code asked again (to sign, revoke or change something).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Refused,
    /// Too many wrong codes: refused without being checked until then.
    HeldBack {
        until: NaiveDateTime,
    },
}

impl CodeCheck {
    pub fn accepted(self) -> bool {
        self == CodeCheck::Accepted
    }
}

/// The code of a signed-in helper known by id, on the pages that ask for it again. The same
/// rule as at sign-in (`mandate_store::sign_in_delays`, one-time code step, one count for both):
/// a stolen session could otherwise try codes as fast as it can send forms, and three codes in
/// a million are good at any time.
pub async fn check_code_of(
    state: &AppState,
    aidant_id: &str,
    code: &str,
    address: &ClientAddress,
) -> Result<CodeCheck, PageError> {
    let id = aidant_id.to_owned();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    if !aidant.active {
        return Ok(CodeCheck::Refused);
    }
    let account = sign_in_delays::account_key(&aidant.email);
    let attempt = super::login::claim(state, SignInStep::OneTimeCode, &account, address).await?;
    let hold = match attempt {
        Attempt::HeldBack { until } => return Ok(CodeCheck::HeldBack { until }),
        Attempt::Counted { hold } => hold,
    };
    if !spend_code(state, &aidant, code).await? {
        return Ok(hold.map_or(CodeCheck::Refused, |until| CodeCheck::HeldBack { until }));
    }
    let source = address.key();
    with_conn(&state.store, move |conn| sign_in_delays::succeeded(conn, SignInStep::OneTimeCode, &account, &source))
        .await?;
    Ok(CodeCheck::Accepted)
}
