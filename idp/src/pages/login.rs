//! Helper authentication: email + password (argon2id), then a one-time code (RFC 6238).
//! Failures count towards a lockout; a completed login replaces the session's cookie secret.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use mandate_store::aidants;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::{now, secret_hash, sessions, Email};
use serde::Deserialize;

use super::templates::{LoginPage, OtpPage};
use crate::blocking::{cpu, with_conn};
use crate::encoding::random_secret;
use crate::passwords;
use crate::protocol::flow::{auth_state, next_step, AuthState, Step};
use crate::web::deactivated::Deactivation;
use crate::web::session::cookie;
use crate::web::AppState;
use crate::web::{
    html_with_status, see_other, BrowserSession, CheckedForm, Frame, Lang, MaybePendingAuthorization, PageError, Texts,
};

#[derive(Deserialize)]
pub struct LoginForm {
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize)]
pub struct OtpForm {
    pub otp: Option<String>,
}

pub async fn login_page(
    frame: Frame,
    browser: BrowserSession,
    pending: MaybePendingAuthorization,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let hint = pending.0.as_ref().and_then(|p| p.request.login_hint.clone());
    let csrf = browser.csrf_token(&state);
    let page = LoginPage {
        t: pending.lang().texts(),
        frame: &frame.in_lang(pending.lang()),
        csrf_token: &csrf,
        request: pending.id(),
        service: pending.service(),
        email: hint.as_deref().unwrap_or(""),
        error: None,
    };
    Ok(browser.with_cookie(&state, html_with_status(StatusCode::OK, &page)?))
}

fn count(state: &AppState, step: &str, outcome: &str) {
    state.metrics.logins.with_label_values(&[step, outcome]).inc();
}

pub async fn login_submit(
    frame: Frame,
    pending: MaybePendingAuthorization,
    form: CheckedForm<LoginForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, browser, lang } = form;
    let t = lang.texts();
    let request = pending.id();
    let typed_email = fields.email.unwrap_or_default();
    let frame = frame.in_lang(lang);
    let show = |status: StatusCode, error: fn(&'static Texts) -> &'static str| {
        let csrf = browser.csrf_token(&state);
        let page = LoginPage {
            t,
            frame: &frame,
            csrf_token: &csrf,
            request,
            service: pending.service(),
            email: &typed_email,
            error: Some(error(t)),
        };
        Ok(browser.with_cookie(&state, html_with_status(status, &page)?))
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
    let password = fields.password.unwrap_or_default();
    let stored_hash = aidant.as_ref().map(|a| a.password_hash.clone());
    // An unknown email costs the same argon2 work as a wrong password.
    let password_ok =
        cpu(move || passwords::verify(&password, stored_hash.as_deref().unwrap_or(passwords::dummy_hash()))).await?
            && aidant.is_some();
    let known_id = aidant.as_ref().map(|a| a.id.clone());
    let Some(aidant) = aidant.filter(|_| password_ok) else {
        // A wrong password says the same whatever the account's state, deactivated included.
        if failure_locks(&state, known_id).await? {
            count(&state, "password", "locked");
            return show(StatusCode::FORBIDDEN, |t| t.locked);
        }
        count(&state, "password", "refused");
        return show(StatusCode::UNAUTHORIZED, |t| t.bad_credentials);
    };
    if !aidant.active {
        // The right password: the helper may know why, and whom to ask. No code is asked.
        count(&state, "password", "deactivated");
        return Err(deactivated(&state, aidant, lang).await);
    }
    let (hash, aidant_id, organisation_id) =
        (browser.id_hash(), aidant.id.clone(), aidant.current_organisation_id.clone());
    with_conn(&state.store, move |conn| sessions::password_verified(conn, &hash, &aidant_id, &organisation_id, now()))
        .await?;
    count(&state, "password", "ok");
    Ok(browser.with_cookie(&state, see_other(&Step::SecondFactor.url(request))))
}

/// The deactivated account's page for `aidant`, naming the organisations whose manager can
/// reactivate it.
async fn deactivated(state: &AppState, aidant: aidants::Aidant, lang: Lang) -> PageError {
    let id = aidant.id.clone();
    match with_conn(&state.store, move |conn| aidants::organisations_of(conn, &id)).await {
        Ok(organisations) => PageError::Deactivated(Box::new(Deactivation::of(
            &aidant,
            organisations.into_iter().map(|o| o.name).collect(),
            lang,
        ))),
        Err(e) => e.into(),
    }
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
    frame: Frame,
    browser: BrowserSession,
    pending: MaybePendingAuthorization,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    // No password given yet, or idle so long that it is owed again.
    if auth_state(&browser.session, now(), state.idle_limits()) == AuthState::Anonymous {
        return Ok(browser.with_cookie(&state, see_other(&Step::Login.url(pending.id()))));
    }
    let csrf = browser.csrf_token(&state);
    let page = OtpPage {
        t: pending.lang().texts(),
        frame: &frame.in_lang(pending.lang()),
        csrf_token: &csrf,
        request: pending.id(),
        service: pending.service(),
        error: None,
    };
    Ok(browser.with_cookie(&state, html_with_status(StatusCode::OK, &page)?))
}

pub async fn otp_submit(
    frame: Frame,
    pending: MaybePendingAuthorization,
    form: CheckedForm<OtpForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, browser, lang } = form;
    let t = lang.texts();
    let request = pending.id();
    let idle = state.idle_limits();
    let full_login = match auth_state(&browser.session, now(), idle) {
        AuthState::Anonymous => return Ok(see_other(&Step::Login.url(request))),
        AuthState::NeedsSecondFactor { full_login } => full_login,
        AuthState::Authenticated => false,
    };
    let aidant_id = browser.session.aidant_id.clone().unwrap_or_default();
    let id = aidant_id.clone();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    let frame = frame.in_lang(lang);
    let show = |status: StatusCode, error: fn(&'static Texts) -> &'static str| {
        let csrf = browser.csrf_token(&state);
        let page =
            OtpPage { t, frame: &frame, csrf_token: &csrf, request, service: pending.service(), error: Some(error(t)) };
        Ok(browser.with_cookie(&state, html_with_status(status, &page)?))
    };
    if !aidant.active {
        // Deactivated between the password and the code.
        count(&state, "otp", "deactivated");
        return Err(deactivated(&state, aidant, lang).await);
    }
    if aidant.is_locked(now()) {
        count(&state, "otp", "locked");
        return show(StatusCode::FORBIDDEN, |t| t.locked);
    }
    let code = fields.otp.unwrap_or_default();
    let accepted = super::second_factor::spend_code(&state, &aidant, &code).await?;
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
    .ok_or(PageError::request_expired(lang))?;

    let location = match &pending.0 {
        None => "/".to_owned(),
        Some(p) => next_step(auth_state(&session, now(), idle), &p.stored).url(p.id()),
    };
    count(&state, "otp", "ok");
    let mut response = see_other(&location);
    let _ = response.add_cookie(&cookie(&state, &new_secret));
    Ok(response)
}
