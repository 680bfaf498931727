//! The browser session cookie.
//!
//! The cookie holds a random secret; the database holds its SHA-256, so a database leak
//! yields no usable session. CSRF tokens are derived from the secret (see `csrf`).
//!
//! A browser that has not given a password has a secret and nothing else: no row is stored for
//! it (an anonymous visit would otherwise leave one behind, for hours, per request). Its forms
//! carry CSRF tokens derived from its secret as any other's, and its `sid`, which pending
//! authorization requests are bound to, is derived from the secret under a server key. The row
//! is written when the password is accepted, with that same `sid`, so that the request the
//! helper was serving goes on.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use std::sync::Arc;

use mandate_store::aidants::{self, Aidant};
use mandate_store::organisations::{self, Organisation};
use mandate_store::sessions::{self, Session};
use mandate_store::{now, secret_hash, StoreError};
use sha2::Sha256;

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
    /// Whether the store holds this session; an anonymous browser's lives in its cookie only.
    pub stored: bool,
    /// The rows of the helper the session names, read with it (see [`HelperRows`]).
    pub helper: Option<Arc<HelperRows>>,
}

/// The helper a stored session names and the organisation they work in, read in the same
/// store call as the session: every page of a signed-in helper needs them (is the account
/// still active, the name and organisation in the page's header), and reading them there
/// spares each page one or two more calls.
#[derive(Clone)]
pub struct HelperRows {
    pub aidant: Aidant,
    /// `None` if the organisation no longer exists.
    pub organisation: Option<Organisation>,
}

impl HelperRows {
    /// The rows of `session`'s helper; `None` for a session naming nobody, or a helper who no
    /// longer exists (whoever needs one then reads it, and finds it missing, themselves).
    fn of(conn: &mut mandate_store::DbConnection, session: &Session) -> Result<Option<HelperRows>, StoreError> {
        let (Some(aidant_id), Some(organisation_id)) = (&session.aidant_id, &session.organisation_id) else {
            return Ok(None);
        };
        let aidant = match aidants::find(conn, aidant_id) {
            Ok(aidant) => aidant,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let organisation = match organisations::find(conn, organisation_id) {
            Ok(organisation) => Some(organisation),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Some(HelperRows { aidant, organisation }))
    }
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

    /// The helper gave their password in this browser: the session is theirs from now on,
    /// awaiting the one-time code. A browser the store held no session for gets its row now.
    pub async fn password_verified(
        &self,
        state: &AppState,
        aidant_id: String,
        organisation_id: String,
    ) -> Result<(), PageError> {
        let (hash, sid, stored) = (self.id_hash(), self.session.sid.clone(), self.stored);
        let lifetime = chrono::Duration::hours(state.settings.session.absolute_hours);
        with_conn(&state.store, move |conn| {
            if stored {
                sessions::password_verified(conn, &hash, &aidant_id, &organisation_id, now())
            } else {
                sessions::begin_with_password(conn, &hash, &sid, &aidant_id, &organisation_id, now(), lifetime)
            }
        })
        .await?;
        Ok(())
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

/// The secret of the request's session cookie, if it has one of the shape this server makes
/// (another value is ignored: the browser is then given a fresh secret where it needs one).
pub(super) fn cookie_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|s| is_secret_shaped(s))
}

/// 43 base64url characters, as [`random_secret`] makes them.
fn is_secret_shaped(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The session named by a cookie secret: the stored one while it lives, else the anonymous one
/// of that secret. `None` when there is no secret, or when it names a session that ended or
/// expired (that secret is not used again).
pub(super) async fn current(secret: Option<String>, state: &AppState) -> Result<Option<BrowserSession>, PageError> {
    let Some(secret) = secret else { return Ok(None) };
    let hash = secret_hash(&secret);
    let at = now();
    let found = with_conn(&state.store, move |conn| {
        let Some(session) = sessions::find(conn, &hash)? else { return Ok::<_, StoreError>(None) };
        let helper = if session.is_live(at) { HelperRows::of(conn, &session)? } else { None };
        Ok(Some((session, helper)))
    })
    .await?;
    Ok(match found {
        Some((session, helper)) if session.is_live(at) => {
            Some(BrowserSession { secret, session, set_cookie: false, stored: true, helper: helper.map(Arc::new) })
        }
        Some(_) => None,
        None => Some(anonymous(state, secret, false)),
    })
}

/// `existing`, or a new anonymous session (whose cookie must then be set): for handlers that
/// decide late whether they need one.
pub fn or_new(existing: Option<BrowserSession>, state: &AppState) -> BrowserSession {
    existing.unwrap_or_else(|| new_anonymous(state))
}

/// A new anonymous session: a fresh secret, whose cookie must be set, and nothing stored.
pub(super) fn new_anonymous(state: &AppState) -> BrowserSession {
    anonymous(state, random_secret(), true)
}

fn anonymous(state: &AppState, secret: String, set_cookie: bool) -> BrowserSession {
    let at = now();
    let session = Session {
        id_hash: secret_hash(&secret),
        sid: anonymous_sid(&state.csrf.derive(SID_KEY_PURPOSE), &secret),
        aidant_id: None,
        organisation_id: None,
        password_verified_at: None,
        authenticated_at: None,
        second_factor_at: None,
        last_seen_at: at,
        created_at: at,
        expires_at: at + chrono::Duration::hours(state.settings.session.absolute_hours),
        ended_at: None,
    };
    BrowserSession { secret, session, set_cookie, stored: false, helper: None }
}

/// What the key deriving anonymous sessions' `sid` is for (see [`crate::web::csrf::CsrfKey::derive`]).
const SID_KEY_PURPOSE: &str = "anonymous-session-sid";

/// The `sid` of the anonymous session of `secret`: the same on every replica and at every
/// request, shaped as the stored sessions' (a UUID), and telling nothing about the secret
/// (a `sid` goes into ID tokens).
fn anonymous_sid(key: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(secret.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
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
    fn an_anonymous_sid_is_stable_per_secret_and_key_and_hides_the_secret() {
        let secret = random_secret();
        assert!(is_secret_shaped(&secret));
        let sid = anonymous_sid(b"key one", &secret);
        assert_eq!(sid, anonymous_sid(b"key one", &secret), "the same at every request and on every replica");
        assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{sid}");
        assert_ne!(sid, anonymous_sid(b"key one", &random_secret()));
        assert_ne!(sid, anonymous_sid(b"key two", &secret), "another deployment's key makes another");
        assert!(!sid.contains(&secret[..8]));
    }

    #[test]
    fn only_secrets_shaped_as_ours_name_a_session() {
        assert!(!is_secret_shaped(""));
        assert!(!is_secret_shaped("short"));
        assert!(!is_secret_shaped(&"a".repeat(44)));
        assert!(!is_secret_shaped(&format!("{}=", "a".repeat(42))));
        assert!(is_secret_shaped(&"A-_z0".repeat(9).chars().take(43).collect::<String>()));
    }
}
