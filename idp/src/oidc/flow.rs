//! The one state machine behind every page of a login: given a pending authorization request
//! and the browser session, what comes next; and, at the end, the authorization response.

use actix_web::HttpResponse;
use mandate_store::authorization_requests::{self, PendingAuthorization};
use mandate_store::grants::{self, NewCode, NewGrant};
use mandate_store::mandates::LiveAuthorisation;
use mandate_store::sessions::Session;
use mandate_store::{now, secret_hash};
use url::Url;

use super::request::{AuthorizationRequest, ResponseMode, ACR_EIDAS1};
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::pages::i18n::Lang;
use crate::pages::session::{auth_state, AuthState};
use crate::pages::templates::FormPostPage;
use crate::pages::{html, see_other, PageError};
use crate::state::AppState;

/// Codes live 60 s and work once.
pub const CODE_LIFETIME_SECONDS: i64 = 60;
/// A helper has this long to log in and choose.
pub const PENDING_LIFETIME_MINUTES: i64 = 30;

/// The pages of a login, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Login,
    SecondFactor,
    ChooseUsager,
    ChooseDemarche,
    Confirm,
}

impl Step {
    pub fn path(self) -> &'static str {
        match self {
            Step::Login => "/login",
            Step::SecondFactor => "/login/otp",
            Step::ChooseUsager => "/delegation/usager",
            Step::ChooseDemarche => "/delegation/demarche",
            Step::Confirm => "/delegation/confirm",
        }
    }

    pub fn url(self, pending_id: &str) -> String {
        format!("{}?request={}", self.path(), pending_id)
    }
}

pub fn next_step(pending: &PendingAuthorization, session: &Session, state: &AppState) -> Step {
    let idle = chrono::Duration::minutes(state.settings.session.idle_minutes);
    match auth_state(session, now(), idle) {
        AuthState::Anonymous => Step::Login,
        AuthState::NeedsSecondFactor { .. } => Step::SecondFactor,
        AuthState::Authenticated if pending.usager_id.is_none() => Step::ChooseUsager,
        AuthState::Authenticated if pending.demarche.is_none() => Step::ChooseDemarche,
        AuthState::Authenticated => Step::Confirm,
    }
}

/// The validated request a pending one carries.
pub fn request_of(pending: &PendingAuthorization) -> Result<AuthorizationRequest, PageError> {
    serde_json::from_str(&pending.params).map_err(|_| PageError::bad_request(|t| t.request_expired, Lang::Fr))
}

pub fn lang_of(request: &AuthorizationRequest) -> Lang {
    Lang::from_ui_locales(request.ui_locales.as_deref())
}

/// Loads the pending request `id` of this browser session, or a page saying it expired.
pub async fn load_pending(
    state: &AppState,
    id: &str,
    session: &Session,
) -> Result<(PendingAuthorization, AuthorizationRequest), PageError> {
    let (id, sid) = (id.to_owned(), session.sid.clone());
    let pending = with_conn(&state.store, move |conn| authorization_requests::find(conn, &id, &sid, now()))
        .await?
        .ok_or(PageError::bad_request(|t| t.request_expired, Lang::Fr))?;
    let request = request_of(&pending)?;
    Ok((pending, request))
}

/// Records the grant, issues the code and answers the relying party.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    aidant_id: &str,
    live: &LiveAuthorisation,
    pending_id: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let code = random_secret();
    let auth_time = session.authenticated_at.unwrap_or_else(now);
    let new_grant = NewGrant {
        client_id: request.client_id.clone(),
        session_sid: session.sid.clone(),
        aidant_id: aidant_id.to_owned(),
        organisation_id: live.organisation_id.clone(),
        usager_id: live.usager_id.clone(),
        demarche: live.demarche,
        authorisation_id: live.authorisation_id.clone(),
        mandate_id: live.mandate_id.clone(),
        scope: request.scope_string(),
        claims: request.claims.clone(),
        nonce: request.nonce.clone(),
        auth_time,
        acr: ACR_EIDAS1.to_owned(),
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
    };
    let new_code = NewCode {
        code_hash: secret_hash(&code),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        code_challenge_method: request.code_challenge_method.clone(),
        lifetime: chrono::Duration::seconds(CODE_LIFETIME_SECONDS),
    };
    let pending_id = pending_id.map(str::to_owned);
    with_conn(&state.store, move |conn| {
        grants::create_with_code(conn, new_grant, new_code, now())?;
        if let Some(id) = pending_id {
            authorization_requests::delete(conn, &id)?;
        }
        Ok::<_, PageError>(())
    })
    .await?;
    state.metrics.codes_issued.inc();
    let mut params = vec![("code", code)];
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    respond(state, &request.redirect_uri, request.response_mode, params, lang_of(request))
}

/// Sends an error back to the relying party (OIDC Core §3.1.2.6).
pub fn respond_error(
    state: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    state_param: Option<&str>,
    error: &str,
    description: &str,
    lang: Lang,
) -> Result<HttpResponse, PageError> {
    let mut params = vec![("error", error.to_owned()), ("error_description", description.to_owned())];
    if let Some(s) = state_param {
        params.push(("state", s.to_owned()));
    }
    respond(state, redirect_uri, mode, params, lang)
}

/// The authorization response, with `iss` (RFC 9207), by redirect or auto-submitted form.
fn respond(
    state: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    mut params: Vec<(&'static str, String)>,
    lang: Lang,
) -> Result<HttpResponse, PageError> {
    params.push(("iss", state.settings.issuer.clone()));
    match mode {
        ResponseMode::Query => {
            let mut url = Url::parse(redirect_uri).map_err(|_| PageError::bad_request(|t| t.bad_redirect_uri, lang))?;
            url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            Ok(HttpResponse::Found()
                .insert_header(("Location", url.to_string()))
                .insert_header(("Cache-Control", "no-store"))
                .finish())
        }
        ResponseMode::FormPost => {
            html(&FormPostPage { t: lang.texts(), action: redirect_uri, fields: params.into_iter().collect() })
        }
    }
}

/// Redirects the browser to the page of `step` for pending request `id`.
pub fn go_to(step: Step, pending_id: &str) -> HttpResponse {
    see_other(&step.url(pending_id))
}
