//! `/`: who is logged in on this browser, with a way out.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::{aidants, now};

use crate::blocking::with_conn;
use crate::pages::i18n::Lang;
use crate::pages::session::{self, auth_state, AuthState};
use crate::pages::templates::HomePage;
use crate::pages::{html, PageError};
use crate::state::AppState;

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let browser = session::current(&req, &state).await?;
    let idle = chrono::Duration::minutes(state.settings.session.idle_minutes);
    let (csrf, name) = match &browser {
        Some(b) if auth_state(&b.session, now(), idle) == AuthState::Authenticated => {
            let id = b.session.aidant_id.clone().unwrap_or_default();
            let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
            (b.csrf_token(), Some(format!("{} {}", aidant.given_name, aidant.family_name)))
        }
        Some(b) => (b.csrf_token(), None),
        None => (String::new(), None),
    };
    html(&HomePage { t: Lang::Fr.texts(), csrf_token: &csrf, aidant_name: name })
}
