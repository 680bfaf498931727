//! `/`: who is logged in on this browser, with a way out.

use actix_web::{web, HttpResponse};
use mandate_store::{aidants, now};

use super::templates::HomePage;
use crate::blocking::with_conn;
use crate::protocol::flow::{auth_state, AuthState};
use crate::web::AppState;
use crate::web::{html, ExistingSession, Lang, PageError};

pub async fn home(
    ExistingSession(browser): ExistingSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let idle = chrono::Duration::minutes(state.settings.session.idle_minutes);
    let (csrf, name) = match &browser {
        Some(b) if auth_state(&b.session, now(), idle) == AuthState::Authenticated => {
            let id = b.session.aidant_id.clone().unwrap_or_default();
            let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
            (b.csrf_token(&state), Some(format!("{} {}", aidant.given_name, aidant.family_name)))
        }
        Some(b) => (b.csrf_token(&state), None),
        None => (String::new(), None),
    };
    html(&HomePage { t: Lang::Fr.texts(), csrf_token: &csrf, aidant_name: name })
}
