//! The authorization endpoint (GET and POST, OIDC Core §3.1.2.1).

use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use mandate_store::authorization_requests::{self, PendingAuthorization};
use mandate_store::mandates::{self, Permission};
use mandate_store::{clients, grants, now, sessions};

use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::protocol::flow::{auth_state, next_step, AuthState, PENDING_LIFETIME_MINUTES};
use crate::protocol::params::ProtocolParams;
use crate::protocol::request::{self, AuthorizationRequest, NoRedirectReason, RequestError};
use crate::web::authorization_response::{self, respond_error};
use crate::web::session;
use crate::web::AppState;
use crate::web::{see_other, BrowserSession, ExistingSession, Lang, Message, PageError};

// The parameters are read as sent, not through `web::Query`/`web::Form`, which keep one of two
// repeated values without a word: a repeat must be refused (RFC 6749 §3.1).
pub async fn get(
    req: HttpRequest,
    browser: ExistingSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    authorize(browser, ProtocolParams::parse(req.query_string().as_bytes()), state).await
}

pub async fn post(
    req: HttpRequest,
    browser: ExistingSession,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Err(PageError::bad_request(|t| t.malformed_request, Lang::Fr));
    }
    authorize(browser, ProtocolParams::parse(&body), state).await
}

async fn authorize(
    ExistingSession(existing): ExistingSession,
    params: ProtocolParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::from_ui_locales(params.get("ui_locales").map(String::as_str));
    let client_id = params.get("client_id").cloned().unwrap_or_default();
    let client = with_conn(&state.store, move |conn| clients::find(conn, &client_id)).await?;
    let request = match request::validate(&params, client.as_ref()) {
        Ok(r) => r,
        Err(RequestError::NoRedirect { reason }) => {
            tracing::info!(?reason, "authorization request refused without redirect");
            let message: Message = match reason {
                NoRedirectReason::MissingClientId | NoRedirectReason::UnknownClient => |t| t.unknown_client,
                NoRedirectReason::MissingRedirectUri | NoRedirectReason::UnregisteredRedirectUri => {
                    |t| t.bad_redirect_uri
                }
                NoRedirectReason::Malformed => |t| t.malformed_request,
            };
            return Err(PageError::Shown { status: StatusCode::BAD_REQUEST, message, lang });
        }
        Err(RequestError::Redirect(e)) => {
            return respond_error(
                &state,
                &e.redirect_uri,
                e.response_mode,
                e.state.as_deref(),
                e.error,
                &e.description,
                lang,
            );
        }
    };
    state.metrics.flows_started.inc();
    // A session (a cookie; nothing is stored before a password) only for a request worth serving.
    let browser = session::or_new(existing, &state);
    let response = if request.prompt("none") {
        silent(&state, &request, &browser).await?
    } else {
        interactive(&state, request, &browser).await?
    };
    Ok(browser.with_cookie(&state, response))
}

fn max_age_exceeded(request: &AuthorizationRequest, browser: &BrowserSession) -> bool {
    match (request.max_age, browser.session.authenticated_at) {
        (Some(max_age), Some(at)) => (now() - at).num_seconds() > max_age,
        _ => false,
    }
}

/// A login the helper takes part in: remember the request, then send them to the next page.
async fn interactive(
    state: &AppState,
    request: AuthorizationRequest,
    browser: &BrowserSession,
) -> Result<HttpResponse, PageError> {
    // An anonymous browser has no authentication to forget.
    let login_required = browser.stored && (request.prompt("login") || max_age_exceeded(&request, browser));
    let created = now();
    let pending = PendingAuthorization {
        id: random_secret(),
        session_sid: browser.session.sid.clone(),
        client_id: request.client_id.clone(),
        params: serde_json::to_string(&request).unwrap_or_default(),
        usager_id: None,
        demarche: None,
        created_at: created,
        expires_at: created + chrono::Duration::minutes(PENDING_LIFETIME_MINUTES),
    };
    let stored = pending.clone();
    let hash = browser.id_hash();
    let purge = state.pending_purge.due(created);
    // One store call: the session read for this request is still current unless a login is
    // required again (OIDC Core §3.1.2.1: re-authenticate, whatever the session says).
    let session = with_conn(&state.store, move |conn| {
        if purge {
            authorization_requests::purge_expired(conn, created)?;
        }
        authorization_requests::create(conn, &stored)?;
        if login_required {
            sessions::require_login(conn, &hash)?;
            return sessions::find_live(conn, &hash, created);
        }
        Ok(None)
    })
    .await?
    .unwrap_or_else(|| browser.session.clone());
    let idle = state.idle_limits();
    Ok(see_other(&next_step(auth_state(&session, now(), idle), &pending).url(&pending.id)))
}

/// `prompt=none`: succeed without any page, reusing this session's last choice for this
/// client, or tell the relying party why not.
async fn silent(
    state: &AppState,
    request: &AuthorizationRequest,
    browser: &BrowserSession,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::of_request(request);
    let fail = |error: &str, description: &str| {
        state.metrics.flow_completed("error");
        respond_error(
            state,
            &request.redirect_uri,
            request.response_mode,
            request.state.as_deref(),
            error,
            description,
            lang,
        )
    };
    let idle = state.idle_limits();
    if auth_state(&browser.session, now(), idle) != AuthState::Authenticated || max_age_exceeded(request, browser) {
        return fail("login_required", "the helper must log in");
    }
    let Some(aidant_id) = browser.session.aidant_id.clone() else {
        return fail("login_required", "the helper must log in");
    };
    let (sid, client_id) = (browser.session.sid.clone(), request.client_id.clone());
    let found = with_conn(&state.store, move |conn| {
        let Some(grant) = grants::latest_for_session(conn, &sid, &client_id)? else { return Ok(None) };
        let client = clients::find(conn, &client_id)?;
        let permission =
            mandates::may_act(conn, &grant.aidant_id, &grant.organisation_id, &grant.usager_id, grant.demarche, now())?;
        Ok::<_, PageError>(Some((grant, client, permission)))
    })
    .await?;
    let Some((grant, Some(client), Permission::Granted(live))) = found else {
        return fail("interaction_required", "the helper must choose a usager and a démarche");
    };
    let narrowed_out = request.narrowed_to.as_ref().is_some_and(|n| !n.contains(&live.demarche));
    if grant.aidant_id != aidant_id || narrowed_out {
        return fail("interaction_required", "the helper must choose a usager and a démarche");
    }
    if let Some(hint) = &request.id_token_hint {
        // The hint names the usager the relying party expects: it must be the one chosen.
        let expected = state.subjects.subject_for(&client, &grant.usager_id);
        let hinted = state
            .keys
            .verify(hint)
            .ok()
            .and_then(|claims| claims.get("sub").and_then(|s| s.as_str()).map(str::to_owned));
        if hinted.as_deref() != Some(expected.as_str()) {
            return fail("login_required", "id_token_hint does not match the current session");
        }
    }
    authorization_response::issue_code(state, request, &browser.session, &aidant_id, &live, None).await
}
