//! `/`: the way in: a signed-in helper goes to their space, anyone else is offered the login
//! (or, half signed in, a way out).

use actix_web::{web, HttpResponse};
use mandate_store::now;

use super::templates::HomePage;
use crate::protocol::flow::{auth_state, AuthState};
use crate::web::AppState;
use crate::web::{html, see_other, ExistingSession, Frame, Lang, PageError};

pub async fn home(
    frame: Frame,
    ExistingSession(browser): ExistingSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let idle = state.idle_limits();
    let (csrf, name) = match &browser {
        Some(b) if auth_state(&b.session, now(), idle) == AuthState::Authenticated => {
            // A signed-in helper's home is their space.
            return Ok(see_other("/espace-aidant"));
        }
        Some(b) => (b.csrf_token(&state), None),
        None => (String::new(), None),
    };
    html(&HomePage { t: Lang::Fr.texts(), frame: &frame.in_lang(Lang::Fr), csrf_token: &csrf, aidant_name: name })
}
