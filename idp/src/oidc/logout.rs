//! RP-initiated logout 1.0 at the end-session endpoint, with back-channel logout 1.0 to the
//! clients that received tokens in the ended session.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::clients::{self, Client};
use mandate_store::{grants, now, sessions};
use serde_json::{json, Value};
use url::Url;

use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::keys::SigningAlg;
use crate::protocol::params::{Params, ProtocolParams};
use crate::web::session::expired_cookie;
use crate::web::AppState;
use crate::web::{html, ExistingSession, Frame, Lang, PageError, Texts};

pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The confirmation asked when no ID token proves the relying party speaks for this browser,
/// and the "you are logged out" page.
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub done: bool,
    pub csrf_token: &'a str,
    pub post_logout_redirect_uri: &'a str,
    pub state: &'a str,
    pub client_id: &'a str,
}

pub async fn get(
    req: HttpRequest,
    browser: ExistingSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    end_session(browser, checked(req.query_string().as_bytes())?, state).await
}

pub async fn post(
    req: HttpRequest,
    browser: ExistingSession,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Err(invalid(Lang::Fr));
    }
    end_session(browser, checked(&body)?, state).await
}

/// The request's parameters, refused when one is repeated or too long: `state` and
/// `post_logout_redirect_uri` are echoed, and two of them could not be told apart (RFC 6749 §3.1).
fn checked(raw: &[u8]) -> Result<Params, PageError> {
    let params = ProtocolParams::parse(raw);
    if let Some(fault) = params.fault() {
        tracing::info!(fault = %fault.description(), "logout request refused");
        return Err(invalid(Lang::from_ui_locales(params.get("ui_locales").map(String::as_str))));
    }
    Ok(params.values)
}

fn invalid(lang: Lang) -> PageError {
    PageError::bad_request(|t| t.bad_logout_request, lang)
}

/// Where to send the browser afterwards: only a URI registered for that client.
fn post_logout_target(
    client: Option<&Client>,
    uri: Option<&str>,
    state_param: Option<&str>,
    lang: Lang,
) -> Result<Option<String>, PageError> {
    let Some(uri) = uri.filter(|u| !u.is_empty()) else { return Ok(None) };
    let client = client.ok_or(invalid(lang))?;
    if !client.post_logout_redirect_uris().iter().any(|registered| registered == uri) {
        return Err(invalid(lang));
    }
    let mut url = Url::parse(uri).map_err(|_| invalid(lang))?;
    if let Some(s) = state_param.filter(|s| !s.is_empty()) {
        url.query_pairs_mut().append_pair("state", s);
    }
    Ok(Some(url.to_string()))
}

async fn end_session(
    ExistingSession(browser): ExistingSession,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::from_ui_locales(params.get("ui_locales").map(String::as_str));
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // The hint must be an ID token we signed for this issuer; expired ones are fine (§2).
    let hint = match get("id_token_hint") {
        None => None,
        Some(jwt) => {
            let claims = state.keys.verify(jwt).map_err(|_| invalid(lang))?;
            if claims.get("iss").and_then(Value::as_str) != Some(state.settings.issuer.as_str()) {
                return Err(invalid(lang));
            }
            Some(claims)
        }
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|c| c.get("aud"))
        .and_then(|a| a.as_str().map(str::to_owned).or_else(|| a.get(0).and_then(Value::as_str).map(str::to_owned)));
    let client_id = match (get("client_id"), hinted_client.as_deref()) {
        (Some(a), Some(b)) if a != b => return Err(invalid(lang)),
        (Some(a), _) => Some(a.to_owned()),
        (None, b) => b.map(str::to_owned),
    };
    let client = match client_id {
        Some(id) => Some(with_conn(&state.store, move |conn| clients::find(conn, &id)).await?.ok_or(invalid(lang))?),
        None => None,
    };
    let target = post_logout_target(client.as_ref(), get("post_logout_redirect_uri"), get("state"), lang)?;

    // The hint says which session the relying party speaks of, not that this browser is in it:
    // an ID token is seen by its relying party and may leak from there. Only a request from the
    // browser of that very session ends it at once; anyone else is asked (§2, §6), and the
    // confirmation ends only the session of the browser that confirms.
    let hinted_sid = hint.as_ref().and_then(|c| c.get("sid")).and_then(Value::as_str);
    let from_hinted_session = match (&browser, hinted_sid) {
        (Some(b), Some(sid)) => b.session.sid == sid,
        _ => false,
    };
    if from_hinted_session {
        let sids = browser.iter().map(|b| b.session.sid.clone()).collect();
        log_out(&state, sids).await?;
        return finish(&state, target, lang);
    }
    if browser.is_none() && hint.is_some() {
        // No session here to end, and another browser's is not ours to end: the relying party
        // has logged its user out, so send them back.
        tracing::info!("logout with a hint from a browser without a session: nothing ended");
        return finish(&state, target, lang);
    }
    let csrf = browser.as_ref().map(|b| b.csrf_token(&state)).unwrap_or_default();
    let frame = Frame::of_browser(browser.as_ref(), &state, lang).await?;
    html(&LogoutPage {
        t: lang.texts(),
        frame: &frame,
        done: false,
        csrf_token: &csrf,
        post_logout_redirect_uri: get("post_logout_redirect_uri").unwrap_or(""),
        state: get("state").unwrap_or(""),
        client_id: client.as_ref().map(|c| c.id.as_str()).unwrap_or(""),
    })
}

/// The confirmation form of a logout without `id_token_hint`, or the home page's button.
pub async fn confirm(
    ExistingSession(browser): ExistingSession,
    form: web::Form<Params>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let lang = Lang::Fr;
    if let Some(b) = &browser {
        if !b.csrf_valid(&state, form.get("csrf_token").map(String::as_str)) {
            return Err(PageError::csrf_failed(lang));
        }
    }
    let client = match form.get("client_id").filter(|c| !c.is_empty()).cloned() {
        Some(id) => with_conn(&state.store, move |conn| clients::find(conn, &id)).await?,
        None => None,
    };
    let target = post_logout_target(
        client.as_ref(),
        form.get("post_logout_redirect_uri").map(String::as_str),
        form.get("state").map(String::as_str),
        lang,
    )?;
    if let Some(b) = browser {
        log_out(&state, vec![b.session.sid.clone()]).await?;
    }
    finish(&state, target, lang)
}

fn finish(state: &AppState, target: Option<String>, lang: Lang) -> Result<HttpResponse, PageError> {
    let mut response = match target {
        Some(location) => HttpResponse::Found().insert_header(("Location", location)).finish(),
        // Signed out: the header names nobody.
        None => html(&LogoutPage {
            t: lang.texts(),
            frame: &Frame::anonymous(lang),
            done: true,
            csrf_token: "",
            post_logout_redirect_uri: "",
            state: "",
            client_id: "",
        })?,
    };
    let _ = response.add_cookie(&expired_cookie(state));
    Ok(response)
}

/// Ends the sessions, revokes their grants and notifies the clients that asked for it.
async fn log_out(state: &AppState, sids: Vec<String>) -> Result<(), PageError> {
    let mut notices = Vec::new();
    for sid in sids {
        let s = sid.clone();
        let found = with_conn(&state.store, move |conn| {
            let Some(session) = sessions::find_by_sid(conn, &s)? else { return Ok::<_, PageError>(Vec::new()) };
            if session.ended_at.is_none() {
                sessions::end(conn, &session.id_hash, now())?;
            }
            let mut to_notify = Vec::new();
            for client_id in grants::clients_of_session(conn, &s)? {
                let Some(client) = clients::find(conn, &client_id)? else { continue };
                if client.backchannel_logout_uri.is_none() {
                    continue;
                }
                let usager = grants::latest_for_session(conn, &s, &client_id)?.map(|g| g.usager_id);
                to_notify.push((client, usager));
            }
            grants::revoke_session_grants(conn, &s, now())?;
            Ok(to_notify)
        })
        .await?;
        notices.extend(found.into_iter().map(|(c, u)| (sid.clone(), c, u)));
    }
    for (sid, client, usager_id) in notices {
        send_backchannel_logout(state, &sid, &client, usager_id.as_deref()).await;
    }
    Ok(())
}

/// Back-Channel Logout 1.0 §2.4: a signed logout token, POSTed as a form.
async fn send_backchannel_logout(state: &AppState, sid: &str, client: &Client, usager_id: Option<&str>) {
    let Some(uri) = &client.backchannel_logout_uri else { return };
    let iat = now().and_utc().timestamp();
    let mut claims = json!({
        "iss": state.settings.issuer,
        "aud": client.id,
        "iat": iat,
        "exp": iat + 120,
        "jti": random_secret(),
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    });
    if let Some(usager_id) = usager_id {
        claims["sub"] = json!(state.subjects.subject_for(client, usager_id));
    }
    let alg = SigningAlg::from(client.id_token_signed_response_alg);
    let token = match state.keys.sign(alg, "logout+jwt", &claims) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot sign a logout token");
            return;
        }
    };
    let sent = state.http.post(uri).form(&[("logout_token", token)]).send().await;
    match sent {
        Ok(r) if r.status().is_success() => tracing::info!(client_id = %client.id, "back-channel logout delivered"),
        Ok(r) => tracing::warn!(client_id = %client.id, status = %r.status(), "back-channel logout refused"),
        Err(e) => tracing::warn!(client_id = %client.id, error = %e, "back-channel logout not delivered"),
    }
}
