//! JOSE primitives the relying party needs, done independently of the server: parsing compact
//! JWTs, choosing a key in a JWKS, verifying RS256/PS256/ES256 signatures, `at_hash`, and an RSA
//! key of our own for `private_key_jwt` (and for the fake provider in the self-tests).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaKeyPair};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

pub fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64u_decode(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|e| format!("not base64url: {e}"))
}

/// A compact JWS split into its parts (the signature is not checked here).
#[derive(Clone, Debug)]
pub struct Jwt {
    pub raw: String,
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jwt {
    pub fn parse(compact: &str) -> Result<Jwt, String> {
        let parts: Vec<&str> = compact.split('.').collect();
        if parts.len() == 5 {
            return Err("the token is a JWE (5 parts); an encrypted ID token was not requested".into());
        }
        if parts.len() != 3 {
            return Err(format!("a compact JWS has 3 parts, this one has {}", parts.len()));
        }
        let json_part = |i: usize, what: &str| -> Result<Value, String> {
            let bytes = b64u_decode(parts[i]).map_err(|e| format!("{what}: {e}"))?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{what} is not JSON: {e}"))?;
            if !value.is_object() {
                return Err(format!("{what} is not a JSON object"));
            }
            Ok(value)
        };
        Ok(Jwt {
            raw: compact.to_owned(),
            header: json_part(0, "header")?,
            claims: json_part(1, "payload")?,
            signing_input: format!("{}.{}", parts[0], parts[1]),
            signature: b64u_decode(parts[2]).map_err(|e| format!("signature: {e}"))?,
        })
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

fn kty_for_alg(alg: &str) -> Option<&'static str> {
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => Some("RSA"),
        "ES256" | "ES384" | "ES512" => Some("EC"),
        "EdDSA" => Some("OKP"),
        _ => None,
    }
}

/// The keys of `jwks` that may have produced this signature: same `kid` when the header names
/// one, a key type that fits the algorithm, `use` = `sig` and the same `alg` where the key says.
pub fn candidate_keys<'a>(jwt: &Jwt, jwks: &'a Value) -> Vec<&'a Value> {
    let alg = jwt.alg().unwrap_or_default();
    let kty = kty_for_alg(alg);
    let keys = jwks.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    keys.iter()
        .filter(|k| jwt.kid().is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid)))
        .filter(|k| kty.is_some() && k.get("kty").and_then(Value::as_str) == kty)
        .filter(|k| k.get("use").and_then(Value::as_str).is_none_or(|u| u == "sig"))
        .filter(|k| k.get("alg").and_then(Value::as_str).is_none_or(|a| a == alg))
        .collect()
}

fn key_bytes(key: &Value, member: &str) -> Result<Vec<u8>, String> {
    let text = key.get(member).and_then(Value::as_str).ok_or_else(|| format!("key has no `{member}`"))?;
    b64u_decode(text).map_err(|e| format!("key member `{member}`: {e}"))
}

/// Verifies the signature with one JWK.
pub fn verify_with_key(jwt: &Jwt, key: &Value) -> Result<(), String> {
    let alg = jwt.alg().ok_or("no `alg` in the header")?;
    let message = jwt.signing_input.as_bytes();
    let outcome = match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let params: &signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                _ => &signature::RSA_PSS_2048_8192_SHA512,
            };
            let components = signature::RsaPublicKeyComponents { n: key_bytes(key, "n")?, e: key_bytes(key, "e")? };
            components.verify(params, message, &jwt.signature)
        }
        "ES256" | "ES384" => {
            let (params, crv): (&signature::EcdsaVerificationAlgorithm, &str) = if alg == "ES256" {
                (&signature::ECDSA_P256_SHA256_FIXED, "P-256")
            } else {
                (&signature::ECDSA_P384_SHA384_FIXED, "P-384")
            };
            if key.get("crv").and_then(Value::as_str) != Some(crv) {
                return Err(format!("{alg} needs a {crv} key"));
            }
            let mut point = vec![4u8];
            point.extend(key_bytes(key, "x")?);
            point.extend(key_bytes(key, "y")?);
            signature::UnparsedPublicKey::new(params, point).verify(message, &jwt.signature)
        }
        "EdDSA" => {
            signature::UnparsedPublicKey::new(&signature::ED25519, key_bytes(key, "x")?).verify(message, &jwt.signature)
        }
        "none" => return Err("alg `none`: the token is not signed".into()),
        other => return Err(format!("unsupported alg {other}")),
    };
    outcome.map_err(|_| "the signature does not verify with the key".to_owned())
}

/// OIDC Core §3.1.3.6 / §3.3.2.11: base64url of the left-most half of the hash of the ASCII
/// value, the hash being the one of the ID token's `alg`.
pub fn half_hash(value: &str, alg: &str) -> Result<String, String> {
    let digest: Vec<u8> = match alg.get(2..) {
        Some("256") => Sha256::digest(value.as_bytes()).to_vec(),
        Some("384") => Sha384::digest(value.as_bytes()).to_vec(),
        Some("512") => Sha512::digest(value.as_bytes()).to_vec(),
        _ if alg == "EdDSA" => Sha512::digest(value.as_bytes()).to_vec(),
        _ => return Err(format!("no hash defined for alg {alg}")),
    };
    Ok(b64u(&digest[..digest.len() / 2]))
}

/// PKCE S256 (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    b64u(&Sha256::digest(verifier.as_bytes()))
}

/// A JWT with `alg: none` (for request objects and modified hints).
pub fn unsigned(header_extra: Value, claims: &Value) -> String {
    let mut header = json!({"alg": "none"});
    merge(&mut header, header_extra);
    format!("{}.{}.", b64u(header.to_string().as_bytes()), b64u(claims.to_string().as_bytes()))
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// An RSA signing key held by the relying party (never the server's).
pub struct RsaSigner {
    pub kid: String,
    pair: RsaKeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl RsaSigner {
    pub fn generate(kid: &str) -> anyhow::Result<RsaSigner> {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let der = key.to_pkcs8_der()?;
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|e| anyhow::anyhow!("ring rejected the key: {e}"))?;
        Ok(RsaSigner { kid: kid.to_owned(), pair, n: key.n().to_bytes_be(), e: key.e().to_bytes_be() })
    }

    /// The public JWK (`use` = sig, `alg` = RS256, with `kid`).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": b64u(&self.n), "e": b64u(&self.e)})
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [self.public_jwk()]})
    }

    /// Signs `claims` as RS256; `header_extra` is merged into `{alg, kid, typ: JWT}`.
    pub fn sign(&self, header_extra: Value, claims: &Value) -> String {
        let mut header = json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"});
        merge(&mut header, header_extra);
        let input = format!("{}.{}", b64u(header.to_string().as_bytes()), b64u(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("RSA signing with a valid key");
        format!("{input}.{}", b64u(&sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OIDC Core, Appendix A.3/A.4 example values.
        assert_eq!(
            half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256").unwrap(),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn signatures_verify_only_with_the_right_key() {
        let signer = RsaSigner::generate("k1").unwrap();
        let other = RsaSigner::generate("k1").unwrap();
        let token = signer.sign(json!({}), &json!({"sub": "x"}));
        let jwt = Jwt::parse(&token).unwrap();
        assert_eq!(candidate_keys(&jwt, &signer.jwks()).len(), 1);
        assert!(verify_with_key(&jwt, &signer.public_jwk()).is_ok());
        assert!(verify_with_key(&jwt, &other.public_jwk()).is_err());
        assert!(
            candidate_keys(&jwt, &json!({"keys": [{"kty": "RSA", "kid": "k2", "n": "AQ", "e": "AQAB"}]})).is_empty()
        );
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
