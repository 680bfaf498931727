//! The browser session cookie.
//!
//! The cookie holds a random secret; the database holds its SHA-256, so a database leak
//! yields no usable session. CSRF tokens are derived from the secret (see `csrf`).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use mandate_store::sessions::{self, Session};
use mandate_store::{now, secret_hash};

use super::PageError;
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::web::AppState;

pub const COOKIE: &str = "idp_session";

/// The session of this browser, with the cookie secret that names it. As an extractor: the
/// live session, or a new anonymous one whose cookie the handler sends with `with_cookie`.
#[derive(Clone)]
pub struct BrowserSession {
    pub secret: String,
    pub session: Session,
    /// Set when the cookie must be (re)sent.
    pub set_cookie: bool,
}

impl BrowserSession {
    pub fn csrf_token(&self, state: &AppState) -> String {
        state.csrf.token(&self.secret)
    }

    pub fn csrf_valid(&self, state: &AppState, submitted: Option<&str>) -> bool {
        state.csrf.verify(&self.secret, submitted)
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

/// The secret of the request's session cookie, if it has a non-empty one.
pub(super) fn cookie_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|s| !s.is_empty())
}

/// The live session named by a cookie secret, if any.
pub(super) async fn current(secret: Option<String>, state: &AppState) -> Result<Option<BrowserSession>, PageError> {
    let Some(secret) = secret else { return Ok(None) };
    let hash = secret_hash(&secret);
    let found = with_conn(&state.store, move |conn| sessions::find_live(conn, &hash, now())).await?;
    Ok(found.map(|session| BrowserSession { secret, session, set_cookie: false }))
}

/// `existing`, or a new anonymous session (whose cookie must then be set): for handlers that
/// decide late whether they need one.
pub async fn or_new(existing: Option<BrowserSession>, state: &AppState) -> Result<BrowserSession, PageError> {
    match existing {
        Some(browser) => Ok(browser),
        None => create(state).await,
    }
}

/// A new anonymous session (its cookie must then be set).
pub(super) async fn create(state: &AppState) -> Result<BrowserSession, PageError> {
    let secret = random_secret();
    let hash = secret_hash(&secret);
    let lifetime = chrono::Duration::hours(state.settings.session.absolute_hours);
    let session = with_conn(&state.store, move |conn| sessions::create(conn, &hash, now(), lifetime)).await?;
    Ok(BrowserSession { secret, session, set_cookie: true })
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
}
