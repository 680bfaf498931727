//! The practice service's login in progress (`state`, `nonce`, PKCE verifier), kept in a
//! short-lived cookie signed with an HMAC key every replica shares: no server-side storage,
//! and a callback on any replica can check it. HttpOnly and SameSite=Lax, so the provider's
//! redirect back (a top-level GET) carries it and scripts cannot read it.

use actix_web::cookie::{time, Cookie, SameSite};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::encoding::{b64url, b64url_decode};
use crate::relying_party::LoginSecrets;

pub const COOKIE: &str = "idp_sandbox";
/// Where the cookie is sent: the practice service's paths only.
const PATH: &str = "/sandbox";
/// Time enough to log in and choose a usager and a démarche.
pub const LIFETIME_SECONDS: i64 = 15 * 60;

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    code_verifier: String,
    /// Unix time after which the cookie is refused, whatever the browser kept.
    expires: i64,
}

fn mac(key: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"sandbox-login|");
    mac.update(payload.as_bytes());
    mac
}

/// The cookie holding `secrets` until `now + LIFETIME_SECONDS`.
pub fn cookie(key: &[u8], secrets: &LoginSecrets, now: i64, secure: bool) -> Cookie<'static> {
    let pending = Pending {
        state: secrets.state.clone(),
        nonce: secrets.nonce.clone(),
        code_verifier: secrets.code_verifier.clone(),
        expires: now + LIFETIME_SECONDS,
    };
    let payload = b64url(serde_json::to_string(&pending).unwrap_or_default().as_bytes());
    let tag = b64url(&mac(key, &payload).finalize().into_bytes());
    Cookie::build(COOKIE, format!("{payload}.{tag}"))
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::seconds(LIFETIME_SECONDS))
        .finish()
}

/// The cookie that removes it, once the login is over.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut cookie =
        Cookie::build(COOKIE, "").path(PATH).http_only(true).same_site(SameSite::Lax).secure(secure).finish();
    cookie.make_removal();
    cookie
}

/// The secrets in a cookie value, if this server signed it and it has not expired.
pub fn read(key: &[u8], value: &str, now: i64) -> Option<LoginSecrets> {
    let (payload, tag) = value.split_once('.')?;
    mac(key, payload).verify_slice(&b64url_decode(tag)?).ok()?;
    let pending: Pending = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
    (pending.expires > now).then_some(LoginSecrets {
        state: pending.state,
        nonce: pending.nonce,
        code_verifier: pending.code_verifier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_login_is_read_back_only_signed_by_us_and_in_time() {
        let secrets = LoginSecrets::generate();
        let cookie = cookie(b"key one", &secrets, 1_000, true);
        assert!(cookie.http_only().unwrap_or(false) && cookie.secure().unwrap_or(false));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/sandbox"));
        let value = cookie.value();
        assert!(read(b"key one", value, 1_000) == Some(secrets.clone()));
        assert!(read(b"key two", value, 1_000).is_none(), "another key");
        assert!(read(b"key one", value, 1_000 + LIFETIME_SECONDS).is_none(), "expired");
        let (payload, tag) = value.split_once('.').unwrap();
        let tampered = format!("{}x.{tag}", &payload[..payload.len() - 1]);
        assert!(read(b"key one", &tampered, 1_000).is_none());
    }
}
