//! Helper authentication: email + password (argon2id), then a one-time code (RFC 6238).
//! Attempts are bounded per client address, then per account with delays that grow after
//! failures (429 and `Retry-After`); hashing waits for one of a bounded number of slots (503
//! when none comes free in time). A completed login replaces the session's cookie secret.

use std::time::Duration;

use chrono::NaiveDateTime;

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use mandate_store::aidants;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::sign_in_delays::{self, Attempt, SignInStep};
use mandate_store::{now, secret_hash, sessions, Email};
use serde::Deserialize;

use super::templates::{LoginPage, OtpPage};
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::passwords;
use crate::protocol::flow::{auth_state, next_step, AuthState, Step};
use crate::web::deactivated::Deactivation;
use crate::web::session::cookie;
use crate::web::AppState;
use crate::web::{
    html_with_status, see_other, BrowserSession, CheckedForm, ClientAddress, Frame, Lang, MaybePendingAuthorization,
    PageError, Texts,
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
    address: ClientAddress,
    form: CheckedForm<LoginForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, browser, lang } = form;
    let t = lang.texts();
    let request = pending.id();
    let typed_email = fields.email.unwrap_or_default();
    let frame = frame.in_lang(lang);
    let show = |status: StatusCode, error: &str| {
        let csrf = browser.csrf_token(&state);
        let page = LoginPage {
            t,
            frame: &frame,
            csrf_token: &csrf,
            request,
            service: pending.service(),
            email: &typed_email,
            error: Some(error),
        };
        Ok(browser.with_cookie(&state, html_with_status(status, &page)?))
    };

    // Cheapest first: this address's quota, a hashing slot, then the account's delays. Each
    // refusal says the same for a known e-mail and an unknown one.
    if let Err(wait) = state.address_limits.password.check(&address) {
        count(&state, "password", "address_limited");
        return show(StatusCode::TOO_MANY_REQUESTS, t.too_many_from_address).map(|r| retry_after(r, wait));
    }
    let Ok(slot) = state.password_checks.slot().await else {
        count(&state, "password", "busy");
        return show(StatusCode::SERVICE_UNAVAILABLE, t.password_checks_busy).map(|r| retry_after(r, BUSY_RETRY));
    };
    let account = sign_in_delays::account_key(&typed_email);
    let hold = match claim(&state, SignInStep::Password, &account, &address).await? {
        Attempt::Counted { hold } => hold,
        Attempt::HeldBack { until } => {
            count(&state, "password", "held_back");
            return held_back(until, lang, show);
        }
    };

    let aidant = match Email::parse(&typed_email) {
        Ok(email) => with_conn(&state.store, move |conn| aidants::find_by_email(conn, &email)).await?,
        Err(_) => None,
    };
    let password = fields.password.unwrap_or_default();
    let stored_hash = aidant.as_ref().map(|a| a.password_hash.clone());
    // An unknown e-mail, or an account with no password yet, costs the same argon2 work as a
    // wrong password.
    let password_ok = slot.run(move || passwords::verify_or_dummy(&password, stored_hash.as_deref())).await?;
    let Some(aidant) = aidant.filter(|_| password_ok) else {
        // A wrong password says the same whatever the account's state, deactivated included.
        count(&state, "password", "refused");
        return match hold {
            // This failure started a wait: say so now rather than at the next attempt.
            Some(until) => held_back(until, lang, show),
            None => show(StatusCode::UNAUTHORIZED, t.bad_credentials),
        };
    };
    let source = address.key();
    with_conn(&state.store, move |conn| sign_in_delays::succeeded(conn, SignInStep::Password, &account, &source))
        .await?;
    if !aidant.active {
        // The right password: the helper may know why, and whom to ask. No code is asked.
        count(&state, "password", "deactivated");
        return Err(deactivated(&state, aidant, lang).await);
    }
    browser.password_verified(&state, aidant.id.clone(), aidant.current_organisation_id.clone()).await?;
    count(&state, "password", "ok");
    Ok(browser.with_cookie(&state, see_other(&Step::SecondFactor.url(request))))
}

/// What a client told to come back later is told to wait when no figure is better.
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// Claims an attempt at `step` for `account` from `address` (see `sign_in_delays::claim`): at
/// sign-in, and where a signed-in helper gives their code again.
pub(crate) async fn claim(
    state: &AppState,
    step: SignInStep,
    account: &str,
    address: &ClientAddress,
) -> Result<Attempt, PageError> {
    let (account, source, rules) = (account.to_owned(), address.key(), state.sign_in_delays());
    let attempt =
        with_conn(&state.store, move |conn| sign_in_delays::claim(conn, step, &account, &source, &rules, now()))
            .await?;
    if let Attempt::Counted { hold: Some(until) } = attempt {
        // Ids only in logs: the account key is a hash, the address is the client's own.
        tracing::warn!(step = step.key(), until = %until, "sign-in attempts held back after repeated failures");
    }
    Ok(attempt)
}

/// The answer to an attempt held back until `until`: 429 with `Retry-After` and the wait in
/// words, on the step's own page (`show`).
fn held_back(
    until: NaiveDateTime,
    lang: Lang,
    show: impl FnOnce(StatusCode, &str) -> Result<HttpResponse, PageError>,
) -> Result<HttpResponse, PageError> {
    let wait = (until - now()).to_std().unwrap_or_default();
    let t = lang.texts();
    let message = format!("{} {} {}.", t.locked, t.try_again_in, wait_in_words(t, wait));
    show(StatusCode::TOO_MANY_REQUESTS, &message).map(|r| retry_after(r, wait))
}

/// "moins d'une minute", "1 minute", "15 minutes" (rounded up: never sooner than said).
fn wait_in_words(t: &Texts, wait: Duration) -> String {
    match whole_seconds(wait) {
        0..60 => t.less_than_a_minute.to_owned(),
        60 => format!("1 {}", t.minute),
        seconds => format!("{} {}", seconds.div_ceil(60), t.minutes),
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Adds `Retry-After` in whole seconds, rounded up (RFC 9110 §10.2.3; RFC 6585 §4 for 429).
fn retry_after(mut response: HttpResponse, wait: Duration) -> HttpResponse {
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(whole_seconds(wait).max(1)));
    response
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
    address: ClientAddress,
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
    let frame = frame.in_lang(lang);
    let show = |status: StatusCode, error: &str| {
        let csrf = browser.csrf_token(&state);
        let page =
            OtpPage { t, frame: &frame, csrf_token: &csrf, request, service: pending.service(), error: Some(error) };
        Ok(browser.with_cookie(&state, html_with_status(status, &page)?))
    };
    if let Err(wait) = state.address_limits.one_time_code.check(&address) {
        count(&state, "otp", "address_limited");
        return show(StatusCode::TOO_MANY_REQUESTS, t.too_many_from_address).map(|r| retry_after(r, wait));
    }
    let aidant_id = browser.session.aidant_id.clone().unwrap_or_default();
    let id = aidant_id.clone();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    if !aidant.active {
        // Deactivated between the password and the code.
        count(&state, "otp", "deactivated");
        return Err(deactivated(&state, aidant, lang).await);
    }
    let account = sign_in_delays::account_key(&aidant.email);
    let hold = match claim(&state, SignInStep::OneTimeCode, &account, &address).await? {
        Attempt::Counted { hold } => hold,
        Attempt::HeldBack { until } => {
            count(&state, "otp", "held_back");
            return held_back(until, lang, show);
        }
    };
    let code = fields.otp.unwrap_or_default();
    let accepted = super::second_factor::spend_code(&state, &aidant, &code).await?;
    if !accepted {
        count(&state, "otp", "refused");
        return match hold {
            // This failure started a wait: say so now rather than at the next attempt.
            Some(until) => held_back(until, lang, show),
            None => show(StatusCode::UNAUTHORIZED, t.bad_otp),
        };
    }

    // Logged in: a new cookie secret, so a session id known before login is worthless after it.
    let new_secret = random_secret();
    let (old_hash, new_hash) = (browser.id_hash(), secret_hash(&new_secret));
    let organisation_id = browser.session.organisation_id.clone();
    let (id, source) = (aidant_id.clone(), address.key());
    let session = with_conn(&state.store, move |conn| {
        sign_in_delays::succeeded(conn, SignInStep::OneTimeCode, &account, &source)?;
        aidants::record_sign_in(conn, &id, now())?;
        sessions::second_factor_verified(conn, &old_hash, &new_hash, full_login, now())?;
        if full_login {
            let mut entry = NewEntry::new(JournalAction::AidantConnected).aidant(&id);
            if let Some(org) = &organisation_id {
                entry = entry.organisation(org);
            }
            journal::record(conn, entry, now())?;
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
