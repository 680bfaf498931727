//! The browser session cookie and CSRF tokens.
//!
//! The cookie holds a random secret; the database holds its SHA-256, so a database leak
//! yields no usable session. The CSRF token is derived from the secret (a keyed digest), so
//! it needs no storage and a form only works in the browser that holds the cookie.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use mandate_store::sessions::{self, Session};
use mandate_store::{now, secret_hash};
use sha2::{Digest, Sha256};

use crate::blocking::with_conn;
use crate::encoding::{b64url, constant_time_eq, random_secret};
use crate::pages::PageError;
use crate::state::AppState;

pub const COOKIE: &str = "idp_session";

/// The session of this browser, with the cookie secret that names it.
pub struct BrowserSession {
    pub secret: String,
    pub session: Session,
    /// Set when the cookie must be (re)sent.
    pub set_cookie: bool,
}

impl BrowserSession {
    pub fn csrf_token(&self) -> String {
        csrf_token(&self.secret)
    }
    pub fn id_hash(&self) -> String {
        secret_hash(&self.secret)
    }

    /// Sends the cookie with `response` when this session is new to the browser.
    pub fn with_cookie(&self, state: &AppState, mut response: HttpResponse) -> HttpResponse {
        if self.set_cookie {
            let _ = response.add_cookie(&cookie(state, &self.secret));
        }
        response
    }
}

pub fn csrf_token(secret: &str) -> String {
    b64url(&Sha256::digest(format!("csrf|{secret}").as_bytes()))
}

/// Constant-time check of a submitted CSRF token.
pub fn csrf_valid(secret: &str, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|s| constant_time_eq(s.as_bytes(), csrf_token(secret).as_bytes()))
}

/// The cookie for `secret`: HttpOnly, SameSite=Lax, Secure when the issuer is https.
pub fn cookie(state: &AppState, secret: &str) -> Cookie<'static> {
    session_cookie(secret, state.settings.issuer_is_https())
}

fn session_cookie(secret: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, secret.to_owned()).path("/").http_only(true).same_site(SameSite::Lax).secure(secure).finish()
}

pub fn expired_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, "");
    c.make_removal();
    c
}

/// The live session named by the request's cookie, if any.
pub async fn current(req: &HttpRequest, state: &AppState) -> Result<Option<BrowserSession>, PageError> {
    let Some(secret) = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let hash = secret_hash(&secret);
    let found = with_conn(&state.store, move |conn| sessions::find_live(conn, &hash, now())).await?;
    Ok(found.map(|session| BrowserSession { secret, session, set_cookie: false }))
}

/// The live session, or a new anonymous one (whose cookie must then be set).
pub async fn current_or_new(req: &HttpRequest, state: &AppState) -> Result<BrowserSession, PageError> {
    if let Some(existing) = current(req, state).await? {
        return Ok(existing);
    }
    let secret = random_secret();
    let hash = secret_hash(&secret);
    let lifetime = chrono::Duration::hours(state.settings.session.absolute_hours);
    let session = with_conn(&state.store, move |conn| sessions::create(conn, &hash, now(), lifetime)).await?;
    Ok(BrowserSession { secret, session, set_cookie: true })
}

/// Where the helper stands in logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    Anonymous,
    /// Password given; the one-time code is due (`full_login`), or due again after idling.
    NeedsSecondFactor {
        full_login: bool,
    },
    Authenticated,
}

pub fn auth_state(session: &Session, now: chrono::NaiveDateTime, idle: chrono::Duration) -> AuthState {
    if session.aidant_id.is_none() || session.password_verified_at.is_none() {
        return AuthState::Anonymous;
    }
    if session.authenticated_at.is_none() {
        return AuthState::NeedsSecondFactor { full_login: true };
    }
    if session.is_authenticated(now, idle) {
        AuthState::Authenticated
    } else {
        AuthState::NeedsSecondFactor { full_login: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_httponly_lax_and_secure_behind_https() {
        let behind_https = session_cookie("s3cret", true).to_string();
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(behind_https.contains(attribute), "{behind_https}");
        }
        assert!(!session_cookie("s3cret", false).to_string().contains("Secure"));
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let token = csrf_token("session-a");
        assert!(csrf_valid("session-a", Some(&token)));
        assert!(!csrf_valid("session-b", Some(&token)));
        assert!(!csrf_valid("session-a", None));
        assert!(!csrf_valid("session-a", Some("")));
    }
}
