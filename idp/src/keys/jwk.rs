//! Public keys as JSON Web Keys (RFC 7517, RFC 7518 §6) and their RFC 7638 thumbprints.

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::SigningAlg;

/// The public half of a signing key, with its members already base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    Rsa {
        n: String,
        e: String,
    },
    /// P-256 only: the curve is implied.
    Ec {
        x: String,
        y: String,
    },
}

impl PublicJwk {
    /// From big-endian modulus and exponent without leading zeros (RFC 7518 §6.3.1).
    pub fn rsa(modulus: &[u8], exponent: &[u8]) -> PublicJwk {
        PublicJwk::Rsa { n: URL_SAFE_NO_PAD.encode(modulus), e: URL_SAFE_NO_PAD.encode(exponent) }
    }

    /// From an uncompressed SEC1 point (`04 || X || Y`), as aws-lc-rs gives it.
    pub fn p256_uncompressed(point: &[u8]) -> Option<PublicJwk> {
        match point {
            [0x04, coordinates @ ..] if coordinates.len() == 64 => {
                let (x, y) = coordinates.split_at(32);
                Some(PublicJwk::Ec { x: URL_SAFE_NO_PAD.encode(x), y: URL_SAFE_NO_PAD.encode(y) })
            }
            _ => None,
        }
    }

    /// RFC 7638 §3: SHA-256 over the required members only, in lexicographic order, without
    /// whitespace; base64url without padding. Used as the `kid`, so the same key always gets
    /// the same id, on every replica.
    pub fn thumbprint(&self) -> String {
        // The members are base64url strings and fixed names: nothing needs JSON escaping.
        let canonical = match self {
            PublicJwk::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            PublicJwk::Ec { x, y } => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
        };
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }

    /// The JWK as published in the JWKS: public members only.
    pub fn to_json(&self, alg: SigningAlg, kid: &str) -> Value {
        match self {
            PublicJwk::Rsa { n, e } => {
                json!({"kty": "RSA", "use": "sig", "alg": alg.as_str(), "kid": kid, "n": n, "e": e})
            }
            PublicJwk::Ec { x, y } => {
                json!({"kty": "EC", "use": "sig", "alg": alg.as_str(), "kid": kid, "crv": "P-256", "x": x, "y": y})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_of_the_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = PublicJwk::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX\
                jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaS\
                qzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINH\
                aQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
                .into(),
            e: "AQAB".into(),
        };
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn a_p256_point_must_be_uncompressed_and_full_length() {
        let mut point = vec![0x04];
        point.extend([1u8; 64]);
        assert!(PublicJwk::p256_uncompressed(&point).is_some());
        point[0] = 0x02;
        assert!(PublicJwk::p256_uncompressed(&point).is_none());
        assert!(PublicJwk::p256_uncompressed(&[0x04; 33]).is_none());
    }
}
