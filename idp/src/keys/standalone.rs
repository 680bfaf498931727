//! One signing key kept outside the keys folder, as PKCS#8 PEM text the caller stores where it
//! likes (the demo upstream provider keeps its own in the database, so that restarts and
//! replicas sign with the same key). It signs with the same parsed-once signer as the folder's
//! keys and publishes itself as a one-key JWKS.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::signer::SigningKey;
use super::{KeyError, SigningAlg};

pub struct StandaloneKey {
    key: SigningKey,
}

impl StandaloneKey {
    /// A new private key of `alg`, as PKCS#8 PEM (to be stored, then given to [`Self::from_pem`]).
    pub fn generate_pem(alg: SigningAlg) -> Result<Zeroizing<String>, KeyError> {
        super::generation::private_key_pem(alg)
    }

    /// Parses a PKCS#8 PEM private key of `alg`; its `kid` is its RFC 7638 thumbprint.
    pub fn from_pem(alg: SigningAlg, pem: &str) -> Result<StandaloneKey, KeyError> {
        let bad = |reason: String| KeyError::Generation(format!("{alg} key: {reason}"));
        let (label, der) = rsa::pkcs8::SecretDocument::from_pem(pem).map_err(|e| bad(format!("not PEM ({e})")))?;
        if label != "PRIVATE KEY" {
            return Err(bad(format!("PEM label is {label:?}, expected \"PRIVATE KEY\" (PKCS#8)")));
        }
        let key = SigningKey::from_pkcs8_der(alg, der.as_bytes()).map_err(bad)?;
        Ok(StandaloneKey { key })
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    pub fn alg(&self) -> SigningAlg {
        self.key.alg()
    }

    /// A compact JWS of `claims` with header `{"alg", "kid", "typ"}`.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String, KeyError> {
        self.key.sign(typ, claims)
    }

    /// The JWKS publishing this key (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.key.public_jwk()]})
    }
}

impl std::fmt::Debug for StandaloneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandaloneKey").field("alg", &self.alg()).field("kid", &self.kid()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_signs_the_same_after_reloading_and_publishes_its_kid() {
        let pem = StandaloneKey::generate_pem(SigningAlg::Es256).unwrap();
        let first = StandaloneKey::from_pem(SigningAlg::Es256, &pem).unwrap();
        let again = StandaloneKey::from_pem(SigningAlg::Es256, &pem).unwrap();
        assert_eq!(first.kid(), again.kid());
        assert_eq!(first.jwks()["keys"][0]["kid"], first.kid());
        let jws = again.sign("JWT", &json!({"sub": "x"})).unwrap();
        assert_eq!(jws.split('.').count(), 3);
        assert!(StandaloneKey::from_pem(SigningAlg::Rs256, &pem).is_err(), "a P-256 key is no RS256 key");
        assert!(StandaloneKey::from_pem(SigningAlg::Es256, "not a key").is_err());
    }
}
