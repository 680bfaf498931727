//! The end of a login: the answer sent back to the relying party through the browser, with a
//! code or an error, by redirect or auto-submitted form, always with `iss` (RFC 9207).

use actix_web::HttpResponse;
use mandate_store::authorization_requests;
use mandate_store::grants;
use mandate_store::mandates::LiveAuthorisation;
use mandate_store::sessions::Session;
use mandate_store::{now, StoreError};
use url::Url;

use super::i18n::Lang;
use super::templates::FormPostPage;
use super::{html, PageError};
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::protocol::code;
use crate::protocol::request::{AuthorizationRequest, ResponseMode};
use crate::web::AppState;

/// Records the grant, issues the code (and forgets the pending request it ends, if any) and
/// answers the relying party.
pub async fn issue_code(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    aidant_id: &str,
    live: &LiveAuthorisation,
    pending_id: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let issued = code::issue(request, session, aidant_id, live, random_secret(), now());
    let pending_id = pending_id.map(str::to_owned);
    let recorded = with_conn(&state.store, move |conn| record_code(conn, pending_id.as_deref(), issued)).await?;
    answer_with_code(state, request, recorded)
}

/// The store's part of issuing a code, for a handler that has more to do in the same store
/// call: the pending request is spent (of two submits at once, only one gets a code), then the
/// grant and code are recorded, in one transaction. `None` when the pending request was
/// already spent or has expired.
pub fn record_code(
    conn: &mut mandate_store::DbConnection,
    pending_id: Option<&str>,
    issued: code::IssuedCode,
) -> Result<Option<String>, StoreError> {
    let code::IssuedCode { code, grant, binding } = issued;
    let answered = mandate_store::write_transaction(conn, |conn| {
        if let Some(id) = pending_id {
            if !authorization_requests::delete(conn, id)? {
                return Ok::<_, StoreError>(false);
            }
        }
        grants::create_with_code(conn, grant, binding, now())?;
        Ok(true)
    })?;
    Ok(answered.then_some(code))
}

/// The relying party's answer once [`record_code`] has run: the code (`Some`), or the page
/// saying the request expired (`None`).
pub fn answer_with_code(
    state: &AppState,
    request: &AuthorizationRequest,
    recorded: Option<String>,
) -> Result<HttpResponse, PageError> {
    let Some(code) = recorded else {
        return Err(PageError::request_expired(Lang::of_request(request)));
    };
    state.metrics.codes_issued.inc();
    state.metrics.flow_completed("code");
    let mut params = vec![("code", code)];
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    respond(state, &request.redirect_uri, request.response_mode, params, Lang::of_request(request))
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
