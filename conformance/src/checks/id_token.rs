//! ID tokens (OIDC Core §2, §3.1.3.7).

use serde_json::Value;

use super::{now, ok, Check, CLOCK_SKEW};
use crate::jose::{self, Jwt};

/// What the relying party expects of an ID token.
pub struct IdTokenExpectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
}

/// `ValidateIdToken` (OIDC Core §3.1.3.7).
pub fn validate_id_token(jwt: &Jwt, want: &IdTokenExpectations<'_>) -> Check {
    let now = now();
    match jwt.claim("iss").and_then(Value::as_str) {
        None => return Err("iss missing".into()),
        Some(iss) if iss != want.issuer => return Err(format!("iss `{iss}` is not the issuer `{}`", want.issuer)),
        _ => {}
    }
    let audiences = match jwt.claim("aud") {
        Some(Value::String(a)) if a == want.client_id => 1,
        Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(want.client_id)) => list.len(),
        Some(a) => return Err(format!("aud {a} does not contain the client_id `{}`", want.client_id)),
        None => return Err("aud missing".into()),
    };
    // OIDC Core §3.1.3.7 items 4 and 5 (azp defined in §2): with several audiences the token
    // names the party it was issued to, and whenever it names one, that party is this client.
    match jwt.claim("azp") {
        None if audiences > 1 => {
            return Err(format!("aud has {audiences} audiences and no azp names the client `{}`", want.client_id))
        }
        None => {}
        Some(Value::String(azp)) if azp == want.client_id => {}
        Some(azp) => return Err(format!("azp {azp} is not the client_id `{}`", want.client_id)),
    }
    let number = |name: &str| -> Result<Option<i64>, String> {
        match jwt.claim(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| format!("{name} is not a number")),
        }
    };
    let exp = number("exp")?.ok_or("exp missing")?;
    if exp + CLOCK_SKEW < now {
        return Err(format!("the token expired at {exp}, now is {now}"));
    }
    if exp > now + 50 * 365 * 86400 {
        return Err(format!("exp {exp} is more than 50 years ahead (milliseconds instead of seconds?)"));
    }
    let iat = number("iat")?.ok_or("iat missing")?;
    if iat > now + CLOCK_SKEW {
        return Err(format!("iat {iat} is in the future (now {now})"));
    }
    if let Some(auth_time) = number("auth_time")? {
        if auth_time > now + CLOCK_SKEW {
            return Err(format!("auth_time {auth_time} is in the future"));
        }
        if auth_time < now - 366 * 86400 {
            return Err(format!("auth_time {auth_time} is more than a year ago"));
        }
    }
    if let Some(acr) = jwt.claim("acr") {
        if acr.as_str().is_none_or(str::is_empty) {
            return Err("acr is present but not a non-empty string".into());
        }
    }
    ok("iss, aud, azp, exp, iat, auth_time and acr are valid")
}

/// `ValidateIdTokenNonce`: the nonce sent, or none when none was sent.
pub fn validate_nonce(jwt: &Jwt, sent: Option<&str>) -> Check {
    match (sent, jwt.claim("nonce")) {
        (Some(s), Some(Value::String(n))) if n == s => ok("nonce matches"),
        (Some(_), None) => Err("nonce was sent but the ID token has none".into()),
        (Some(s), Some(n)) => Err(format!("nonce {n} is not the one sent ({s})")),
        (None, None) => ok("no nonce sent, none in the ID token"),
        (None, Some(n)) => Err(format!("no nonce was sent but the ID token carries {n}")),
    }
}

/// `ValidateIdTokenACRClaimAgainstRequest`: essential acr values requested through `claims`.
pub fn validate_acr_against_request(jwt: &Jwt, claims_request: Option<&Value>) -> Check {
    let requested = claims_request.and_then(|c| c.pointer("/id_token/acr"));
    let Some(requested) = requested.filter(|r| r.get("essential").and_then(Value::as_bool) == Some(true)) else {
        if let Some(acr) = jwt.claim("acr") {
            if !acr.is_string() {
                return Err("acr is not a string".into());
            }
        }
        return ok("acr was not requested as essential");
    };
    let values: Vec<&str> = match (requested.get("value"), requested.get("values")) {
        (Some(Value::String(v)), _) => vec![v.as_str()],
        (_, Some(Value::Array(vs))) => vs.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    match jwt.claim("acr").and_then(Value::as_str) {
        None => Err("acr was requested as essential but is absent".into()),
        Some(acr) if values.is_empty() || values.contains(&acr) => ok(format!("acr `{acr}`")),
        Some(acr) => Err(format!("acr `{acr}` is not one of the requested {values:?}")),
    }
}

/// `ValidateIdTokenSignature` + `ValidateIdTokenSignatureUsingKid`: one key of the JWKS
/// selected by kid (kty, alg, use) verifies the signature.
pub fn validate_signature(jwt: &Jwt, jwks: &Value) -> Check {
    if jwt.alg() == Some("none") {
        return Err("alg is `none`: the token is unsigned".into());
    }
    let candidates = jose::candidate_keys(jwt, jwks);
    match candidates.len() {
        0 => Err(format!("no key of the JWKS matches kid {:?} and alg {:?}", jwt.kid(), jwt.alg())),
        1 => jose::verify_with_key(jwt, candidates[0]).map(|_| format!("signature verified with kid {:?}", jwt.kid())),
        n => Err(format!("{n} keys of the JWKS match the header; the key cannot be chosen")),
    }
}

/// `ValidateIdTokenSignatureUsingKid`: the header's kid names a key of the JWKS.
pub fn validate_kid_found(jwt: &Jwt, jwks: &Value) -> Check {
    let Some(kid) = jwt.kid() else {
        return ok("no kid in the header (checked by EnsureIdTokenContainsKid where required)");
    };
    let keys = jwks.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if keys.iter().any(|k| k.get("kid").and_then(Value::as_str) == Some(kid)) {
        ok(format!("kid `{kid}` is in the JWKS"))
    } else {
        Err(format!("kid `{kid}` is not in the JWKS"))
    }
}

/// `ValidateAtHash` / `ValidateCHash`: correct when present (required only when the token comes
/// from the authorization endpoint, never in the code flow).
pub fn validate_half_hash(jwt: &Jwt, claim: &str, value: &str, required: bool) -> Check {
    match jwt.str_claim(claim) {
        None if required => Err(format!("{claim} is required")),
        None => ok(format!("no {claim} (optional for a token endpoint ID token)")),
        Some(h) => {
            let expected = jose::half_hash(value, jwt.alg().unwrap_or_default())?;
            if h == expected {
                ok(format!("{claim} is correct"))
            } else {
                Err(format!("{claim} `{h}` does not match the token (expected `{expected}`)"))
            }
        }
    }
}

/// `EnsureIdTokenDoesNotContainNonRequestedClaims` (only `openid` was asked for).
pub fn only_protocol_claims(jwt: &Jwt, extra_allowed: &[&str]) -> Check {
    // The suite's list (EnsureIdTokenDoesNotContainNonRequestedClaims.idTokenValidClaims).
    const PROTOCOL: [&str; 17] = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "at_hash",
        "c_hash",
        "nbf",
        "jti",
        "sid",
        "s_hash",
        "txn",
    ];
    let extra: Vec<&str> = jwt
        .claims
        .as_object()
        .map(|o| o.keys().map(String::as_str).filter(|k| !PROTOCOL.contains(k) && !extra_allowed.contains(k)).collect())
        .unwrap_or_default();
    if extra.is_empty() {
        ok("no claims beyond those of the protocol")
    } else {
        Err(format!("claims not requested: {}", extra.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn token(claims: Value) -> Jwt {
        Jwt::parse(&jose::unsigned(json!({"alg": "none"}), &claims)).unwrap()
    }

    fn claims(aud: Value, azp: Option<&str>) -> Value {
        let now = now();
        let mut c = json!({"iss": "https://op.example", "sub": "u", "aud": aud, "exp": now + 60, "iat": now});
        if let Some(azp) = azp {
            c["azp"] = json!(azp);
        }
        c
    }

    const WANT: IdTokenExpectations<'static> =
        IdTokenExpectations { issuer: "https://op.example", client_id: "client", nonce: None };

    #[test]
    fn azp_names_the_client_whenever_present_and_with_several_audiences() {
        assert!(validate_id_token(&token(claims(json!("client"), None)), &WANT).is_ok());
        assert!(validate_id_token(&token(claims(json!(["client"]), None)), &WANT).is_ok());
        assert!(validate_id_token(&token(claims(json!(["client", "api"]), Some("client"))), &WANT).is_ok());
        assert!(validate_id_token(&token(claims(json!(["client", "api"]), None)), &WANT).is_err());
        assert!(validate_id_token(&token(claims(json!(["client", "api"]), Some("api"))), &WANT).is_err());
        assert!(validate_id_token(&token(claims(json!("client"), Some("other"))), &WANT).is_err());
    }
}
