//! Helper authentication: email + password (argon2id), then a one-time code (RFC 6238).
//! Failures count towards a lockout; a completed login replaces the session's cookie secret.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::aidants;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::{now, secret_hash, sessions, Email};
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::session::{self, auth_state, csrf_valid, AuthState, BrowserSession};
use super::templates::{LoginPage, OtpPage};
use super::{html, see_other, PageError};
use crate::blocking::{cpu, with_conn};
use crate::encoding::random_secret;
use crate::oidc::flow::{lang_of, load_pending, next_step};
use crate::state::AppState;
use crate::{passwords, totp};

#[derive(Debug, Deserialize)]
pub struct RequestRef {
    pub request: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub csrf_token: Option<String>,
    pub request: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize)]
pub struct OtpForm {
    pub csrf_token: Option<String>,
    pub request: Option<String>,
    pub otp: Option<String>,
}

/// The language and login hint of the pending request, if any.
async fn context(
    state: &AppState,
    browser: &BrowserSession,
    request: Option<&str>,
) -> Result<(Lang, Option<String>), PageError> {
    match request.filter(|r| !r.is_empty()) {
        Some(id) => {
            let (_, r) = load_pending(state, id, &browser.session).await?;
            Ok((lang_of(&r), r.login_hint.clone()))
        }
        None => Ok((Lang::Fr, None)),
    }
}

fn respond(
    state: &AppState,
    browser: &BrowserSession,
    status: StatusCode,
    response: Result<HttpResponse, PageError>,
) -> Result<HttpResponse, PageError> {
    let mut response = response?;
    *response.status_mut() = status;
    Ok(browser.with_cookie(state, response))
}

pub async fn login_page(
    req: HttpRequest,
    query: web::Query<RequestRef>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let browser = session::current_or_new(&req, &state).await?;
    let request = query.request.clone().unwrap_or_default();
    let (lang, hint) = context(&state, &browser, query.request.as_deref()).await?;
    let csrf = browser.csrf_token();
    let page = LoginPage {
        t: lang.texts(),
        csrf_token: &csrf,
        request: &request,
        email: hint.as_deref().unwrap_or(""),
        error: None,
    };
    respond(&state, &browser, StatusCode::OK, html(&page))
}

fn count(state: &AppState, step: &str, outcome: &str) {
    state.metrics.logins.with_label_values(&[step, outcome]).inc();
}

fn csrf_failure(lang: Lang) -> PageError {
    PageError::Shown { status: StatusCode::FORBIDDEN, message: |t| t.csrf_failed, lang }
}

/// The session and language of a submitted login form, once its CSRF token is checked.
async fn submitted(
    req: &HttpRequest,
    state: &AppState,
    request: Option<&str>,
    csrf_token: Option<&str>,
) -> Result<(BrowserSession, Lang), PageError> {
    let browser = session::current(req, state).await?.ok_or(csrf_failure(Lang::Fr))?;
    let (lang, _) = context(state, &browser, request).await?;
    if !csrf_valid(&browser.secret, csrf_token) {
        return Err(csrf_failure(lang));
    }
    Ok((browser, lang))
}

pub async fn login_submit(
    req: HttpRequest,
    form: web::Form<LoginForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let (browser, lang) = submitted(&req, &state, form.request.as_deref(), form.csrf_token.as_deref()).await?;
    let t = lang.texts();
    let request = form.request.clone().unwrap_or_default();
    let typed_email = form.email.clone().unwrap_or_default();
    let show = |status: StatusCode, error: fn(&'static Texts) -> &'static str| {
        let csrf = browser.csrf_token();
        respond(
            &state,
            &browser,
            status,
            html(&LoginPage { t, csrf_token: &csrf, request: &request, email: &typed_email, error: Some(error(t)) }),
        )
    };

    let aidant = match Email::parse(&typed_email) {
        Ok(email) => with_conn(&state.store, move |conn| aidants::find_by_email(conn, &email)).await?,
        Err(_) => None,
    };
    if let Some(a) = &aidant {
        if a.is_locked(now()) {
            count(&state, "password", "locked");
            return show(StatusCode::FORBIDDEN, |t| t.locked);
        }
    }
    let password = form.password.clone().unwrap_or_default();
    let stored_hash = aidant.as_ref().map(|a| a.password_hash.clone());
    // An unknown email costs the same argon2 work as a wrong password.
    let password_ok =
        cpu(move || passwords::verify(&password, stored_hash.as_deref().unwrap_or(passwords::dummy_hash()))).await?
            && aidant.is_some();
    let known_id = aidant.as_ref().map(|a| a.id.clone());
    let Some(aidant) = aidant.filter(|a| password_ok && a.active) else {
        if failure_locks(&state, known_id).await? {
            count(&state, "password", "locked");
            return show(StatusCode::FORBIDDEN, |t| t.locked);
        }
        count(&state, "password", "refused");
        return show(StatusCode::UNAUTHORIZED, |t| t.bad_credentials);
    };
    let (hash, aidant_id, organisation_id) =
        (browser.id_hash(), aidant.id.clone(), aidant.current_organisation_id.clone());
    with_conn(&state.store, move |conn| sessions::password_verified(conn, &hash, &aidant_id, &organisation_id, now()))
        .await?;
    count(&state, "password", "ok");
    respond(&state, &browser, StatusCode::SEE_OTHER, Ok(see_other(&format!("/login/otp?request={request}"))))
}

/// Counts a failure against a known account; true when the account is now locked.
async fn failure_locks(state: &AppState, aidant_id: Option<String>) -> Result<bool, PageError> {
    let Some(id) = aidant_id else { return Ok(false) };
    let max = state.settings.login.max_failed_attempts;
    let lock_for = chrono::Duration::minutes(state.settings.login.lockout_minutes);
    let aidant =
        with_conn(&state.store, move |conn| aidants::record_failed_login(conn, &id, max, lock_for, now())).await?;
    let locked = aidant.is_locked(now());
    if locked {
        tracing::warn!(aidant_id = %aidant.id, "aidant locked out after repeated failures");
    }
    Ok(locked)
}

pub async fn otp_page(
    req: HttpRequest,
    query: web::Query<RequestRef>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let browser = session::current_or_new(&req, &state).await?;
    let request = query.request.clone().unwrap_or_default();
    let (lang, _) = context(&state, &browser, query.request.as_deref()).await?;
    if browser.session.aidant_id.is_none() || browser.session.password_verified_at.is_none() {
        return respond(&state, &browser, StatusCode::SEE_OTHER, Ok(see_other(&format!("/login?request={request}"))));
    }
    let csrf = browser.csrf_token();
    respond(
        &state,
        &browser,
        StatusCode::OK,
        html(&OtpPage { t: lang.texts(), csrf_token: &csrf, request: &request, error: None }),
    )
}

pub async fn otp_submit(
    req: HttpRequest,
    form: web::Form<OtpForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let (browser, lang) = submitted(&req, &state, form.request.as_deref(), form.csrf_token.as_deref()).await?;
    let t = lang.texts();
    let request = form.request.clone().unwrap_or_default();
    let idle = chrono::Duration::minutes(state.settings.session.idle_minutes);
    let full_login = match auth_state(&browser.session, now(), idle) {
        AuthState::Anonymous => return Ok(see_other(&format!("/login?request={request}"))),
        AuthState::NeedsSecondFactor { full_login } => full_login,
        AuthState::Authenticated => false,
    };
    let aidant_id = browser.session.aidant_id.clone().unwrap_or_default();
    let id = aidant_id.clone();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    let show = |status: StatusCode, error: fn(&'static Texts) -> &'static str| {
        let csrf = browser.csrf_token();
        respond(
            &state,
            &browser,
            status,
            html(&OtpPage { t, csrf_token: &csrf, request: &request, error: Some(error(t)) }),
        )
    };
    if aidant.is_locked(now()) || !aidant.active {
        count(&state, "otp", "locked");
        return show(StatusCode::FORBIDDEN, |t| t.locked);
    }
    let code = form.otp.clone().unwrap_or_default();
    let unix_now = now().and_utc().timestamp() as u64;
    let step =
        totp::matching_step(&aidant.totp_secret, aidant.totp_step_seconds as u64, &code, unix_now).ok().flatten();
    let accepted = match step {
        Some(step) => {
            let id = aidant_id.clone();
            with_conn(&state.store, move |conn| aidants::accept_totp_step(conn, &id, step as i64)).await?
        }
        None => false,
    };
    if !accepted {
        if failure_locks(&state, Some(aidant_id)).await? {
            count(&state, "otp", "locked");
            return show(StatusCode::FORBIDDEN, |t| t.locked);
        }
        count(&state, "otp", "refused");
        return show(StatusCode::UNAUTHORIZED, |t| t.bad_otp);
    }

    // Logged in: a new cookie secret, so a session id known before login is worthless after it.
    let new_secret = random_secret();
    let (old_hash, new_hash) = (browser.id_hash(), secret_hash(&new_secret));
    let organisation_id = browser.session.organisation_id.clone();
    let id = aidant_id.clone();
    let session = with_conn(&state.store, move |conn| {
        aidants::reset_failed_logins(conn, &id)?;
        sessions::second_factor_verified(conn, &old_hash, &new_hash, full_login, now())?;
        if full_login {
            let mut entry = NewEntry::new(JournalAction::AidantConnected).aidant(&id);
            if let Some(org) = &organisation_id {
                entry = entry.organisation(org);
            }
            journal::append(conn, entry, now())?;
        }
        Ok::<_, PageError>(sessions::find_live(conn, &new_hash, now())?)
    })
    .await?
    .ok_or(PageError::bad_request(|t| t.request_expired, lang))?;

    let location = if request.is_empty() {
        "/".to_owned()
    } else {
        let (pending, _) = load_pending(&state, &request, &session).await?;
        next_step(&pending, &session, &state).url(&pending.id)
    };
    count(&state, "otp", "ok");
    let mut response = see_other(&location);
    let _ = response.add_cookie(&session::cookie(&state, &new_secret));
    Ok(response)
}
