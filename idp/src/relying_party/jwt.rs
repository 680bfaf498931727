//! Signed JWTs from the provider (the ID token, a signed userinfo response): choosing the key
//! by `kid` in the provider's JWKS, checking the signature with `jsonwebtoken`, then the claims
//! OpenID Connect Core §3.1.3.7 asks a relying party to check. Plain functions, tested without
//! a socket; fetching the JWKS again on an unknown `kid` is the caller's part.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

use super::error::TokenError;

/// Clock skew tolerated on `exp` between the provider and us.
pub const LEEWAY_SECONDS: u64 = 30;

/// Asymmetric algorithms only: `none` and the HMAC family (keyed with the client secret) are
/// never accepted (RFC 8725 §3.1, §3.2).
const ACCEPTED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The signing keys a provider publishes, those we can use: keys for encryption and keys of
/// other kinds are left out rather than failing the whole set (FranceConnect publishes both).
#[derive(Debug, Clone, Default)]
pub struct ProviderKeys {
    keys: Vec<Jwk>,
}

impl ProviderKeys {
    /// Reads a JWKS document (RFC 7517 §5).
    pub fn parse(document: &Value) -> Result<ProviderKeys, String> {
        let listed = document.get("keys").and_then(Value::as_array).ok_or("no \"keys\" array")?;
        let keys = listed
            .iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
            .filter(|jwk| matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature)))
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_)))
            .collect();
        Ok(ProviderKeys { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A compact JWS whose header was read (not yet verified).
pub struct SignedJwt<'a> {
    token: &'a str,
    header: Header,
}

impl<'a> SignedJwt<'a> {
    pub fn parse(token: &'a str) -> Result<SignedJwt<'a>, TokenError> {
        let header_part = token.split('.').next().unwrap_or("");
        if token.split('.').count() != 3 {
            // Five parts would be an encrypted token (JWE), which we do not ask for.
            return Err(TokenError::Malformed("not a compact JWS of three parts".into()));
        }
        let raw_header: Value = URL_SAFE_NO_PAD
            .decode(header_part)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| TokenError::Malformed("header is not base64url JSON".into()))?;
        // RFC 7515 §4.1.11: an extension we do not understand must not be ignored.
        if raw_header.get("crit").is_some() {
            return Err(TokenError::Malformed("unsupported critical header".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::Json(_) | ErrorKind::InvalidAlgorithmName => TokenError::AlgorithmRefused(
                raw_header.get("alg").and_then(Value::as_str).unwrap_or("no algorithm").to_owned(),
            ),
            _ => TokenError::Malformed(e.to_string()),
        })?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(TokenError::AlgorithmRefused(format!("{:?}", header.alg)));
        }
        Ok(SignedJwt { token, header })
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The provider's key that must have signed this token: the one named by `kid`, or the
    /// only one when there is no `kid` (OIDC Core §10.1). The key decides the algorithm family.
    pub fn key<'k>(&self, keys: &'k ProviderKeys) -> Result<&'k Jwk, TokenError> {
        let key = match self.kid() {
            Some(kid) => keys
                .keys
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .ok_or_else(|| TokenError::UnknownKid(kid.to_owned()))?,
            None => match keys.keys.as_slice() {
                [only] => only,
                _ => return Err(TokenError::NoKid),
            },
        };
        let refused = || TokenError::AlgorithmRefused(format!("{:?} for this key", self.header.alg));
        if let Some(declared) = key.common.key_algorithm {
            if declared != jsonwebtoken::jwk::KeyAlgorithm::from(self.header.alg) {
                return Err(refused());
            }
        }
        let family_matches = match &key.algorithm {
            AlgorithmParameters::RSA(_) => self.header.alg.family() == jsonwebtoken::AlgorithmFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => self.header.alg.family() == jsonwebtoken::AlgorithmFamily::Ec,
            _ => false,
        };
        if !family_matches {
            return Err(refused());
        }
        Ok(key)
    }

    /// Checks the signature with `key` and returns the claims, with `validation` applied.
    fn claims(&self, key: &Jwk, mut validation: Validation) -> Result<Map<String, Value>, TokenError> {
        let decoding = DecodingKey::from_jwk(key).map_err(|_| TokenError::BadSignature)?;
        validation.algorithms = vec![self.header.alg];
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(self.token, &decoding, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidAlgorithm
                    | ErrorKind::InvalidEcdsaKey
                    | ErrorKind::InvalidRsaKey(_) => TokenError::BadSignature,
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                    ErrorKind::InvalidAudience => TokenError::WrongAudience,
                    ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
                        TokenError::MissingClaim(claim.clone())
                    }
                    _ => TokenError::Malformed(e.to_string()),
                }
            })?;
        Ok(data.claims)
    }
}

/// What the ID token must say for this login.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// The levels asked for with `acr_values` (space-separated); `None` when none is required.
    pub acr_values: Option<&'a str>,
}

/// OIDC Core §3.1.3.7: signature, `iss`, `aud` (and `azp`), `exp`, `iat`, `nonce`, `acr`.
pub fn verify_id_token(
    jwt: &SignedJwt<'_>,
    key: &Jwk,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, TokenError> {
    let mut validation = Validation::new(jwt.header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jwt.claims(key, validation)?;
    if claims.get("sub").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(TokenError::MissingClaim("sub".into()));
    }
    if !claims.get("iat").is_some_and(Value::is_number) {
        return Err(TokenError::MissingClaim("iat".into()));
    }
    // §3.1.3.7 items 4 and 5: with several audiences `azp` is required, and it names us.
    let several_audiences = claims.get("aud").and_then(Value::as_array).is_some_and(|a| a.len() > 1);
    match claims.get("azp").map(Value::as_str) {
        Some(Some(azp)) if azp == expected.client_id => {}
        None if !several_audiences => {}
        _ => return Err(TokenError::WrongAudience),
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(expected.nonce) {
        return Err(TokenError::NonceMismatch);
    }
    if let Some(asked) = expected.acr_values {
        let acr = claims.get("acr").and_then(Value::as_str).unwrap_or("");
        if !acr_satisfies(asked, acr) {
            return Err(TokenError::AcrRefused);
        }
    }
    Ok(claims)
}

/// A signed userinfo response (OIDC Core §5.3.2): signature with the provider's key, and `iss`
/// and `aud` when present. It carries no `exp` to check.
pub fn verify_userinfo(
    jwt: &SignedJwt<'_>,
    key: &Jwk,
    issuer: &str,
    client_id: &str,
) -> Result<Map<String, Value>, TokenError> {
    let mut validation = Validation::new(jwt.header.alg);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    jwt.claims(key, validation)
}

/// Whether the `acr` obtained is one of the levels asked for, an eIDAS level counting for the
/// lower ones (FranceConnect may authenticate the usager higher than asked, never lower).
pub fn acr_satisfies(asked: &str, obtained: &str) -> bool {
    let eidas = |value: &str| value.strip_prefix("eidas").and_then(|n| n.parse::<u8>().ok());
    asked.split_whitespace().any(|level| {
        level == obtained || matches!((eidas(level), eidas(obtained)), (Some(asked), Some(got)) if got >= asked)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::{SigningAlg, StandaloneKey};

    const ISSUER: &str = "https://fc.example.fr";

    fn key() -> StandaloneKey {
        let pem = StandaloneKey::generate_pem(SigningAlg::Es256).unwrap();
        StandaloneKey::from_pem(SigningAlg::Es256, &pem).unwrap()
    }

    fn keys_of(key: &StandaloneKey) -> ProviderKeys {
        ProviderKeys::parse(&key.jwks()).unwrap()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": "client", "sub": "s-1", "iat": now(), "exp": now() + 60,
               "nonce": "n-1", "acr": "eidas1"})
    }

    fn expected() -> Expected<'static> {
        Expected { issuer: ISSUER, client_id: "client", nonce: "n-1", acr_values: Some("eidas1") }
    }

    fn check(signer: &StandaloneKey, keys: &ProviderKeys, claims: Value) -> Result<Map<String, Value>, TokenError> {
        let token = signer.sign("JWT", &claims).unwrap();
        let jwt = SignedJwt::parse(&token)?;
        let key = jwt.key(keys)?;
        verify_id_token(&jwt, key, &expected())
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    #[test]
    fn a_good_id_token_gives_its_claims() {
        let provider = key();
        let claims = check(&provider, &keys_of(&provider), claims()).unwrap();
        assert_eq!(claims["sub"], "s-1");
    }

    #[test]
    fn each_claim_rule_refuses_its_own_failure() {
        let provider = key();
        let keys = keys_of(&provider);
        let refused = |claims| check(&provider, &keys, claims).unwrap_err();
        assert_eq!(refused(with(claims(), "iss", json!("https://other.example.fr"))), TokenError::WrongIssuer);
        assert_eq!(refused(with(claims(), "aud", json!("another-client"))), TokenError::WrongAudience);
        assert_eq!(refused(with(claims(), "aud", json!(["client", "another"]))), TokenError::WrongAudience);
        let with_azp = with(with(claims(), "aud", json!(["client", "another"])), "azp", json!("client"));
        assert!(check(&provider, &keys, with_azp).is_ok(), "several audiences with azp naming us");
        assert_eq!(refused(with(claims(), "exp", json!(now() - 120))), TokenError::Expired);
        assert!(check(&provider, &keys, with(claims(), "exp", json!(now() - 5))).is_ok(), "within the leeway");
        assert_eq!(refused(with(claims(), "nonce", json!("n-2"))), TokenError::NonceMismatch);
        assert_eq!(refused(without(claims(), "nonce")), TokenError::NonceMismatch);
        assert_eq!(refused(with(claims(), "acr", json!("eidas0"))), TokenError::AcrRefused);
        assert_eq!(refused(without(claims(), "acr")), TokenError::AcrRefused);
        assert!(check(&provider, &keys, with(claims(), "acr", json!("eidas2"))).is_ok(), "higher than asked");
        assert_eq!(refused(without(claims(), "iat")), TokenError::MissingClaim("iat".into()));
        assert_eq!(refused(without(claims(), "sub")), TokenError::MissingClaim("sub".into()));
    }

    #[test]
    fn another_key_or_an_unknown_kid_is_refused() {
        let provider = key();
        let impostor = key();
        // The impostor's token names the provider's kid: the signature gives it away.
        let token = impostor.sign("JWT", &claims()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": provider.kid()}).to_string());
        let forged = parts.join(".");
        let jwt = SignedJwt::parse(&forged).unwrap();
        let keys = keys_of(&provider);
        assert_eq!(verify_id_token(&jwt, jwt.key(&keys).unwrap(), &expected()).unwrap_err(), TokenError::BadSignature);
        // Under its own kid, it is simply not one of the provider's keys.
        assert_eq!(check(&impostor, &keys, claims()).unwrap_err(), TokenError::UnknownKid(impostor.kid().into()));
    }

    #[test]
    fn none_and_hmac_are_never_accepted() {
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k"}).to_string());
            let token = format!("{header}.{payload}.c2ln");
            assert!(matches!(SignedJwt::parse(&token), Err(TokenError::AlgorithmRefused(_))), "{alg}");
        }
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "crit": ["exp"]}).to_string());
        assert!(matches!(SignedJwt::parse(&format!("{header}.{payload}.c2ln")), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn keys_for_encryption_are_left_out_of_the_set() {
        let provider = key();
        let mut jwks = provider.jwks();
        let mut encryption = jwks["keys"][0].clone();
        encryption["use"] = json!("enc");
        encryption["kid"] = json!("enc-key");
        jwks["keys"].as_array_mut().unwrap().push(encryption);
        jwks["keys"].as_array_mut().unwrap().push(json!({"kty": "unknown"}));
        assert_eq!(ProviderKeys::parse(&jwks).unwrap().len(), 1);
    }

    #[test]
    fn signed_userinfo_is_checked_for_issuer_and_audience() {
        let provider = key();
        let keys = keys_of(&provider);
        let verify = |claims: Value| {
            let token = provider.sign("JWT", &claims).unwrap();
            let jwt = SignedJwt::parse(&token).unwrap();
            verify_userinfo(&jwt, jwt.key(&keys).unwrap(), ISSUER, "client")
        };
        assert!(verify(json!({"sub": "s-1", "iss": ISSUER, "aud": "client"})).is_ok());
        assert!(verify(json!({"sub": "s-1"})).is_ok(), "iss and aud are optional");
        assert_eq!(verify(json!({"sub": "s-1", "aud": "other"})).unwrap_err(), TokenError::WrongAudience);
    }

    #[test]
    fn eidas_levels_count_for_the_lower_ones() {
        assert!(acr_satisfies("eidas1", "eidas1"));
        assert!(acr_satisfies("eidas1", "eidas3"));
        assert!(!acr_satisfies("eidas2", "eidas1"));
        assert!(acr_satisfies("eidas2 eidas1", "eidas1"));
        assert!(!acr_satisfies("eidas1", ""));
        assert!(acr_satisfies("urn:level:a", "urn:level:a"));
    }
}
