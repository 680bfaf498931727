//! CSRF tokens: an HMAC-SHA256 of the browser session's secret under a server key. They need
//! no storage, a form only works in the browser that holds the session cookie, and knowing a
//! session's id hash (from a database copy) is not enough to forge one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::encoding::{b64url, b64url_decode};

/// The name under which the key is kept in the store, shared by every replica.
pub const SECRET_NAME: &str = "csrf-hmac-key";

#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(…)")
    }
}

impl CsrfKey {
    pub fn new(key: impl Into<Vec<u8>>) -> CsrfKey {
        CsrfKey(key.into())
    }

    fn mac(&self, session_secret: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"csrf|");
        mac.update(session_secret.as_bytes());
        mac
    }

    /// A key for another purpose (`purpose` names it), derived from this one: the same on every
    /// replica, and knowing it gives nothing about this key or CSRF tokens.
    pub fn derive(&self, purpose: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"derive|");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The token that forms of this session carry.
    pub fn token(&self, session_secret: &str) -> String {
        b64url(&self.mac(session_secret).finalize().into_bytes())
    }

    /// Checks a submitted token in constant time.
    pub fn verify(&self, session_secret: &str, submitted: Option<&str>) -> bool {
        let Some(tag) = submitted.and_then(b64url_decode) else { return false };
        self.mac(session_secret).verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session_and_their_server_key() {
        let key = CsrfKey::new(b"server key one".to_vec());
        let token = key.token("session-a");
        assert!(key.verify("session-a", Some(&token)));
        assert!(!key.verify("session-b", Some(&token)));
        assert!(!key.verify("session-a", None));
        assert!(!key.verify("session-a", Some("")));
        assert!(!key.verify("session-a", Some("not base64 !")));
        // Another deployment's key makes other tokens.
        assert!(!CsrfKey::new(b"server key two".to_vec()).verify("session-a", Some(&token)));
    }
}
