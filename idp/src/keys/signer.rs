//! A signing key parsed once into aws-lc-rs, and the compact JWS (RFC 7515 §7.1) it makes.
//!
//! Parsing a private key costs more than signing with it, so each key is parsed when the folder
//! is read and held for the life of the process.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, ParsedPublicKey, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::jwk::PublicJwk;
use super::{KeyError, SigningAlg};

/// RFC 7518 §3.3: RS256 keys are at least 2048 bits.
const MIN_RSA_MODULUS_BYTES: usize = 2048 / 8;
const TOO_SMALL: &str = "RSA key shorter than 2048 bits, too short for RS256 (RFC 7518 §3.3)";

enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// One parsed key: its private half for signing, its public half for verifying and publishing.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    private: PrivateKey,
    public: ParsedPublicKey,
    jwk: PublicJwk,
}

impl SigningKey {
    /// Parses a PKCS#8 DER private key of `alg`; the `kid` is its thumbprint. The error says
    /// what is wrong with the key, for a message that also names its file.
    pub fn from_pkcs8_der(alg: SigningAlg, der: &[u8]) -> Result<SigningKey, String> {
        let (private, jwk, public) = match alg {
            SigningAlg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| match e.description_() {
                    "TooSmall" => TOO_SMALL.to_owned(),
                    other => format!("not an RSA PKCS#8 private key ({other})"),
                })?;
                if pair.public_modulus_len() < MIN_RSA_MODULUS_BYTES {
                    return Err(TOO_SMALL.to_owned());
                }
                let public = pair.public_key();
                let jwk = PublicJwk::rsa(
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                );
                let parsed = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public.as_ref()).parse();
                (PrivateKey::Rsa(pair), jwk, parsed)
            }
            SigningAlg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| format!("not a P-256 PKCS#8 private key ({e})"))?;
                let point = pair.public_key().as_ref();
                let jwk = PublicJwk::p256_uncompressed(point).ok_or("unexpected P-256 public key encoding")?;
                let parsed = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).parse();
                (PrivateKey::Ec(pair), jwk, parsed)
            }
        };
        let public = public.map_err(|e| format!("public key rejected ({e})"))?;
        Ok(SigningKey { alg, kid: jwk.thumbprint(), private, public, jwk })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, as published.
    pub fn public_jwk(&self) -> Value {
        self.jwk.to_json(self.alg, &self.kid)
    }

    /// A compact JWS of `claims`, with header `{"alg", "kid", "typ"}`.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String, KeyError> {
        let header = json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ});
        let mut jws = encode_json(&header)?;
        jws.push('.');
        jws.push_str(&encode_json(claims)?);
        let rng = SystemRandom::new();
        let signature = match &self.private {
            PrivateKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, jws.as_bytes(), &mut signature)
                    .map_err(|_| KeyError::Signing)?;
                signature
            }
            PrivateKey::Ec(pair) => pair.sign(&rng, jws.as_bytes()).map_err(|_| KeyError::Signing)?.as_ref().to_vec(),
        };
        jws.push('.');
        jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jws)
    }

    /// Whether `signature` over `signing_input` (`header.payload`, as received) is this key's.
    pub fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        self.public.verify_sig(signing_input, signature).is_ok()
    }
}

fn encode_json(value: &Value) -> Result<String, KeyError> {
    let bytes = serde_json::to_vec(value).map_err(|_| KeyError::Signing)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Header and payload of a compact JWS whose signature checked out.
pub struct CompactJws<'a> {
    pub kid: String,
    pub alg: String,
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
    payload: &'a str,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes a compact JWS; the signature is not checked here.
    pub fn parse(jws: &'a str) -> Result<CompactJws<'a>, KeyError> {
        let malformed = KeyError::InvalidToken;
        let (signing_input, signature) = jws.rsplit_once('.').ok_or(malformed("not a compact JWS"))?;
        let (header, payload) = signing_input.split_once('.').ok_or(malformed("not a compact JWS"))?;
        if payload.contains('.') {
            return Err(malformed("not a compact JWS"));
        }
        let header: Value = decode_json(header).ok_or(malformed("header is not base64url JSON"))?;
        // RFC 7515 §4.1.11: we understand no extension, so a token that requires one is refused.
        if header.get("crit").is_some() {
            return Err(malformed("unsupported critical header"));
        }
        let alg = header.get("alg").and_then(Value::as_str).ok_or(malformed("no alg in header"))?;
        let kid = header.get("kid").and_then(Value::as_str).ok_or(malformed("no kid in header"))?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed("signature is not base64url"))?;
        Ok(CompactJws { kid: kid.to_owned(), alg: alg.to_owned(), signing_input, signature, payload })
    }

    pub fn payload(&self) -> Result<Value, KeyError> {
        decode_json(self.payload).ok_or(KeyError::InvalidToken("payload is not base64url JSON"))
    }
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}
