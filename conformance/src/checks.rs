//! The suite's conditions as pure functions. Each returns `Ok(message)` when the condition
//! holds and `Err(message)` when it does not; the caller records it under the suite's condition
//! class name with the suite's severity.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use crate::jose::{self, Jwt};

pub type Check = Result<String, String>;

/// Seconds of clock difference tolerated between the provider and us (the suite allows 5 min).
pub const CLOCK_SKEW: i64 = 5 * 60;

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn ok(msg: impl Into<String>) -> Check {
    Ok(msg.into())
}

// ---------------------------------------------------------------- server configuration and keys

/// `CheckServerConfiguration`: the endpoints a code flow needs and the issuer.
pub fn check_server_configuration(disc: &Value) -> Check {
    let missing: Vec<&str> = ["issuer", "authorization_endpoint", "token_endpoint"]
        .into_iter()
        .filter(|k| disc.get(*k).and_then(Value::as_str).is_none())
        .collect();
    if missing.is_empty() {
        ok("authorization_endpoint, token_endpoint and issuer present")
    } else {
        Err(format!("missing from the server configuration: {}", missing.join(", ")))
    }
}

fn jwks_keys(jwks: &Value) -> Result<&Vec<Value>, String> {
    jwks.get("keys").and_then(Value::as_array).ok_or_else(|| "the JWKS has no `keys` array".to_owned())
}

/// `ValidateServerJWKs`: a `keys` array whose members are well-formed public keys.
pub fn validate_server_jwks(jwks: &Value) -> Check {
    let keys = jwks_keys(jwks)?;
    if keys.is_empty() {
        return Err("the JWKS is empty".into());
    }
    for (i, key) in keys.iter().enumerate() {
        // RFC 7518 §6: the coordinates and modulus are base64url; `crv` is a curve name.
        let kty = key.get("kty").and_then(Value::as_str);
        let members: &[&str] = match kty {
            Some("RSA") => &["n", "e"],
            Some("EC") => &["x", "y"],
            Some("OKP") => &["x"],
            Some("oct") => &[],
            other => return Err(format!("key {i}: unknown or missing kty {other:?}")),
        };
        if matches!(kty, Some("EC") | Some("OKP")) {
            let crv = key.get("crv").and_then(Value::as_str);
            let known = ["P-256", "P-384", "P-521", "Ed25519", "Ed448", "X25519", "X448"];
            if !crv.is_some_and(|c| known.contains(&c)) {
                return Err(format!("key {i}: `crv` missing or unknown: {crv:?}"));
            }
        }
        for m in members {
            let text = key.get(*m).and_then(Value::as_str).ok_or_else(|| format!("key {i}: `{m}` missing"))?;
            jose::b64u_decode(text).map_err(|e| format!("key {i}: `{m}` {e}"))?;
        }
    }
    ok(format!("{} well-formed key(s)", keys.len()))
}

/// `EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys` (RFC 7518 §6.3.2.1).
pub fn ensure_no_private_keys(jwks: &Value) -> Check {
    let keys = jwks_keys(jwks)?;
    for key in keys {
        for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            if key.get(m).is_some() {
                return Err(format!("key {:?} publishes private member `{m}`", key.get("kid")));
            }
        }
        if key.get("kty").and_then(Value::as_str) == Some("oct") {
            return Err("a symmetric key is published".into());
        }
    }
    ok("no private or symmetric key material")
}

/// `CheckForKeyIdInServerJWKs` (OIDC Core §10.1): with several keys, each names its `kid`.
pub fn check_kid_in_server_jwks(jwks: &Value) -> Check {
    let keys = jwks_keys(jwks)?;
    if keys.len() > 1 && keys.iter().any(|k| k.get("kid").and_then(Value::as_str).is_none()) {
        return Err("several keys are published and not all have a `kid`".into());
    }
    ok("keys carry a kid")
}

/// `CheckDistinctKeyIdValueInServerJWKs` (RFC 7517 §4.5).
pub fn check_distinct_kids(jwks: &Value) -> Check {
    let keys = jwks_keys(jwks)?;
    let mut seen = HashSet::new();
    for kid in keys.iter().filter_map(|k| k.get("kid").and_then(Value::as_str)) {
        if !seen.insert(kid) {
            return Err(format!("kid `{kid}` is used by more than one key"));
        }
    }
    ok("kid values are distinct")
}

/// `EnsureServerConfigurationSupports<Method>`: absent means client_secret_basic only.
pub fn ensure_auth_method_supported(disc: &Value, method: &str) -> Check {
    match disc.get("token_endpoint_auth_methods_supported").and_then(Value::as_array) {
        None if method == "client_secret_basic" => ok("absent: client_secret_basic is the default"),
        None => Err(format!("token_endpoint_auth_methods_supported is absent, so {method} is not supported")),
        Some(list) if list.iter().any(|v| v.as_str() == Some(method)) => ok(format!("{method} is supported")),
        Some(_) => Err(format!("{method} is not in token_endpoint_auth_methods_supported")),
    }
}

// ---------------------------------------------------------------- authorization responses

/// `CheckMatchingCallbackParameters`: the response came to the redirect_uri of the request.
pub fn check_matching_callback(callback_base: &str, redirect_uri: &str) -> Check {
    let strip = |u: &str| {
        Url::parse(u).map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
    };
    if strip(callback_base).ok() == strip(redirect_uri).ok() {
        ok("the callback reached the redirect_uri")
    } else {
        Err(format!("the provider sent the browser to {callback_base}, not to {redirect_uri}"))
    }
}

/// `ValidateIssIfPresentInAuthorizationResponse` (RFC 9207).
pub fn validate_iss_if_present(iss: Option<&str>, issuer: &str) -> Check {
    match iss {
        None => ok("no iss in the authorization response"),
        Some(i) if i == issuer => ok("iss matches the issuer"),
        Some(i) => Err(format!("iss `{i}` is not the issuer `{issuer}`")),
    }
}

/// `CheckMatchingStateParameter` / `CheckStateInAuthorizationResponse`: state echoed exactly.
pub fn check_state(returned: Option<&str>, sent: Option<&str>) -> Check {
    match (sent, returned) {
        (Some(s), Some(r)) if s == r => ok("state echoed"),
        (None, None) => ok("no state sent, none returned"),
        (Some(_), None) => Err("state was sent but not returned".into()),
        (None, Some(r)) => Err(format!("state `{r}` returned but none was sent")),
        (Some(s), Some(r)) => Err(format!("state `{r}` returned for `{s}`")),
    }
}

/// `EnsureMinimumAuthorizationCodeLength` (RFC 6749 §10.10, RFC 6819 §5.1.4.2.2): 128 bits.
pub fn ensure_code_length(code: &str) -> Check {
    if code.len() >= 16 {
        ok(format!("{} characters", code.len()))
    } else {
        Err(format!("the code has {} characters; at least 16 (128 bits) are required", code.len()))
    }
}

/// Shannon entropy per character times the length: the suite's estimate of a value's entropy.
pub fn entropy_bits(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = value.chars().count() as f64;
    let per_char: f64 = counts.values().map(|c| *c as f64 / n).map(|p| -p * p.log2()).sum();
    per_char * n
}

/// `EnsureMinimumAuthorizationCodeEntropy` / `EnsureMinimumAccessTokenEntropy`: 96 bits estimated.
pub fn ensure_entropy(value: &str, what: &str) -> Check {
    let bits = entropy_bits(value);
    if bits >= 96.0 {
        ok(format!("{what}: about {bits:.0} bits of entropy"))
    } else {
        Err(format!("{what}: only about {bits:.0} bits of entropy; 96 are required"))
    }
}

/// RFC 6749 Appendix A: NQSCHAR / VSCHAR sets for error_description and tokens.
fn all_chars(value: &str, allowed: impl Fn(char) -> bool) -> bool {
    value.chars().all(allowed)
}

pub fn is_vschar(c: char) -> bool {
    ('\u{20}'..='\u{7e}').contains(&c)
}

/// Checks shared by error responses from the authorization and token endpoints.
pub fn error_description_charset(description: Option<&str>) -> Check {
    match description {
        None => ok("no error_description"),
        Some(d) if all_chars(d, |c| matches!(c, '\u{20}'..='\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{7e}')) => {
            ok("error_description uses the allowed characters")
        }
        Some(d) => Err(format!(
            "error_description has characters outside RFC 6749 §4.1.2.1 (%x20-21 / %x23-5B / %x5D-7E): {d:?}"
        )),
    }
}

pub fn error_description_no_crlftab(description: Option<&str>) -> Check {
    match description {
        Some(d) if d.contains(['\r', '\n', '\t']) => Err("error_description contains CR, LF or TAB".into()),
        _ => ok("no CR, LF or TAB in error_description"),
    }
}

pub fn error_uri_valid(uri: Option<&str>) -> Check {
    match uri {
        None => ok("no error_uri"),
        Some(u)
            if Url::parse(u).is_ok()
                && all_chars(u, |c| matches!(c, '\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{7e}')) =>
        {
            ok("error_uri is a valid URI")
        }
        Some(u) => Err(format!("error_uri `{u}` is not a valid URI")),
    }
}

pub fn error_code_syntax(error: Option<&str>) -> Check {
    match error {
        Some(e)
            if !e.is_empty()
                && all_chars(e, |c| matches!(c, '\u{20}'..='\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{7e}')) =>
        {
            ok(format!("error `{e}`"))
        }
        Some(e) => Err(format!("error `{e}` has characters outside RFC 6749 §5.2")),
        None => Err("no `error` member".into()),
    }
}

/// `CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint`.
pub fn only_error_parameters(params: &[(String, String)]) -> Check {
    const EXPECTED: [&str; 6] = ["error", "error_description", "error_uri", "state", "session_state", "iss"];
    let extra: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).filter(|k| !EXPECTED.contains(k)).collect();
    if extra.is_empty() {
        ok("only the expected parameters")
    } else {
        Err(format!("unexpected parameters in the error response: {}", extra.join(", ")))
    }
}

/// One of a permitted list of `error` values.
pub fn error_is_one_of(error: Option<&str>, permitted: &[&str]) -> Check {
    match error {
        Some(e) if permitted.contains(&e) => ok(format!("error `{e}`")),
        Some(e) => Err(format!("error `{e}` is not one of {}", permitted.join(", "))),
        None => Err("no `error` in the response".into()),
    }
}

// ---------------------------------------------------------------- token endpoint

/// `ValidateExpiresIn`: a positive number when present.
pub fn validate_expires_in(value: Option<&Value>) -> Check {
    match value {
        None => ok("no expires_in"),
        Some(v) if v.as_f64().is_some_and(|n| n > 0.0) => ok(format!("expires_in {v}")),
        Some(v) => Err(format!("expires_in {v} is not a positive number")),
    }
}

/// `CheckTokenTypeIsBearer` (case-insensitive, RFC 6749 §5.1).
pub fn check_token_type_bearer(value: Option<&Value>) -> Check {
    match value.and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => ok("token_type Bearer"),
        other => Err(format!("token_type is {other:?}, not Bearer")),
    }
}

/// `CheckTokenEndpointCacheHeaders` (RFC 6749 §5.1: Cache-Control: no-store).
pub fn check_cache_headers(cache_control: Option<&str>) -> Check {
    match cache_control {
        Some(c) if c.to_ascii_lowercase().contains("no-store") => ok("Cache-Control: no-store"),
        other => Err(format!("Cache-Control is {other:?}; no-store is required")),
    }
}

pub fn is_json(content_type: Option<&str>) -> Check {
    match content_type {
        Some(c) if c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) => {
            ok("application/json")
        }
        other => Err(format!("Content-Type is {other:?}, not application/json")),
    }
}

/// `ValidateRefreshToken` characters (RFC 6749 Appendix A.17: VSCHAR).
pub fn token_characters(token: &str, what: &str) -> Check {
    if !token.is_empty() && all_chars(token, is_vschar) {
        ok(format!("{what} uses the allowed characters"))
    } else {
        Err(format!("{what} has characters outside %x20-7E or is empty"))
    }
}

// ---------------------------------------------------------------- ID token

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
    match jwt.claim("aud") {
        Some(Value::String(a)) if a == want.client_id => {}
        Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(want.client_id)) => {
            if list.len() > 1 && jwt.str_claim("azp").is_none_or(|azp| azp != want.client_id) {
                // OIDC Core §2: azp SHOULD be present with several audiences.
            }
        }
        Some(a) => return Err(format!("aud {a} does not contain the client_id `{}`", want.client_id)),
        None => return Err("aud missing".into()),
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
    ok("iss, aud, exp, iat, auth_time and acr are valid")
}

/// The JSON type of each standard claim (OIDC Core §5.1).
fn standard_claim_type_ok(name: &str, value: &Value) -> Option<bool> {
    let string = value.is_string();
    Some(match name {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "picture" | "website" | "email" | "gender" | "birthdate" | "zoneinfo" | "locale" | "phone_number" => string,
        "email_verified" | "phone_number_verified" => value.is_boolean(),
        "updated_at" => value.is_number(),
        "address" => value.as_object().is_some_and(|a| {
            ["formatted", "street_address", "locality", "region", "postal_code", "country"]
                .iter()
                .all(|k| a.get(*k).is_none_or(Value::is_string))
        }),
        "sub" => string,
        _ => return None,
    })
}

/// `ValidateIdTokenStandardClaims` / `ValidateUserInfoStandardClaims`.
pub fn validate_standard_claims(claims: &Value) -> Check {
    let object = claims.as_object().ok_or("the claims are not a JSON object")?;
    for (name, value) in object {
        if standard_claim_type_ok(name, value) == Some(false) {
            return Err(format!("standard claim `{name}` has the wrong JSON type: {value}"));
        }
    }
    ok("standard claims have their types")
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

/// `EnsureIdTokenUpdatedAtValid` / user info variant.
pub fn updated_at_valid(claims: &Value) -> Check {
    match claims.get("updated_at") {
        None => ok("no updated_at"),
        Some(v) if v.is_number() => ok("updated_at is a number"),
        Some(v) => Err(format!("updated_at {v} is not a number")),
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

// ---------------------------------------------------------------- scopes and claims

/// OIDC Core §5.4: the claims each scope asks for.
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// `VerifyScopesReturnedInUserInfoClaims`: every requested scope yields at least one claim.
pub fn scopes_returned(claims: &Value, scopes: &[&str]) -> Check {
    let missing: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| !scope_claims(s).is_empty())
        .filter(|s| !scope_claims(s).iter().any(|c| claims.get(*c).is_some()))
        .collect();
    if missing.is_empty() {
        ok("every requested scope returned claims")
    } else {
        Err(format!("no claim returned for scope(s): {}", missing.join(", ")))
    }
}

// ---------------------------------------------------------------- discovery

/// `CheckDiscEndpointDiscoveryUrl`: https and ends with the well-known path.
pub fn discovery_url(url: &Url) -> Check {
    if !url.path().ends_with("/.well-known/openid-configuration") {
        return Err(format!("{url} does not end with /.well-known/openid-configuration"));
    }
    https(url, "discovery URL")
}

pub fn https(url: &Url, what: &str) -> Check {
    if url.scheme() == "https" {
        ok(format!("{what} is https"))
    } else {
        Err(format!("{what} {url} is not https"))
    }
}

/// `CheckDiscEndpointIssuer`: the issuer is the URL the document was fetched from, minus the
/// well-known suffix (OIDC Discovery §4.3).
pub fn discovery_issuer(disc: &Value, discovery_url: &Url) -> Check {
    let issuer = disc.get("issuer").and_then(Value::as_str).ok_or("issuer missing")?;
    let expected = discovery_url.as_str().trim_end_matches("/.well-known/openid-configuration");
    if issuer.trim_end_matches('/') == expected.trim_end_matches('/') && issuer == expected {
        ok(format!("issuer `{issuer}`"))
    } else {
        Err(format!("issuer `{issuer}` is not the discovery URL's issuer `{expected}`"))
    }
}

/// `CheckDiscEndpointIssuerIsValidUrl` (RFC 8414 §2): a URL with no query and no fragment
/// (https checked separately).
pub fn issuer_valid_url(disc: &Value) -> Result<Url, String> {
    let issuer = disc.get("issuer").and_then(Value::as_str).ok_or("issuer missing")?;
    let url = Url::parse(issuer).map_err(|e| format!("issuer is not a URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer has a query or fragment".into());
    }
    Ok(url)
}

pub fn string_array<'a>(disc: &'a Value, member: &str) -> Option<Vec<&'a str>> {
    disc.get(member).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect())
}

/// `<member>` is an array of strings containing `value`.
pub fn array_contains(disc: &Value, member: &str, value: &str) -> Check {
    match string_array(disc, member) {
        None => Err(format!("{member} is absent or not an array")),
        Some(list) if list.contains(&value) => ok(format!("{member} contains {value}")),
        Some(list) => Err(format!("{member} {list:?} does not contain {value}")),
    }
}

/// `OIDCCCheckDiscEndpointResponseTypesSupported`: at least one OIDC response type.
pub fn response_types_supported(disc: &Value) -> Check {
    const OIDC: [&str; 7] =
        ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token", "token id_token"];
    let list = string_array(disc, "response_types_supported").ok_or("response_types_supported missing")?;
    if list.iter().any(|t| OIDC.contains(t)) {
        ok(format!("response_types_supported {list:?}"))
    } else {
        Err(format!("response_types_supported {list:?} has no OpenID Connect response type"))
    }
}

/// `CheckDiscEndpointSubjectTypesSupported`.
pub fn subject_types_supported(disc: &Value) -> Check {
    let list = string_array(disc, "subject_types_supported").ok_or("subject_types_supported missing")?;
    if list.iter().any(|t| *t == "public" || *t == "pairwise") {
        ok(format!("subject_types_supported {list:?}"))
    } else {
        Err(format!("subject_types_supported {list:?} has neither public nor pairwise"))
    }
}

/// An endpoint member present and a URL (https judged by the caller).
pub fn endpoint(disc: &Value, member: &str) -> Result<Url, String> {
    let text = disc.get(member).and_then(Value::as_str).ok_or_else(|| format!("{member} missing"))?;
    Url::parse(text).map_err(|e| format!("{member} `{text}` is not a URL: {e}"))
}

/// Every member whose name ends in `_endpoint` (and `jwks_uri`).
pub fn all_endpoints(disc: &Value) -> Vec<(String, String)> {
    disc.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.ends_with("_endpoint") || *k == "jwks_uri")
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// RFC 6749 §3.3 scope-token syntax for `scopes_supported`.
pub fn scopes_syntax(disc: &Value) -> Check {
    let Some(list) = disc.get("scopes_supported") else {
        return ok("no scopes_supported");
    };
    let list = list.as_array().ok_or("scopes_supported is not an array")?;
    for s in list {
        let s = s.as_str().ok_or("a scope is not a string")?;
        if s.is_empty() || !all_chars(s, |c| matches!(c, '\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{7e}')) {
            return Err(format!("scope `{s}` breaks the RFC 6749 §3.3 syntax"));
        }
    }
    ok("scopes are well-formed")
}

/// BCP 47 syntax for `ui_locales_supported` / `claims_locales_supported` (loose: alphanumeric
/// subtags of 1–8 characters separated by `-`), and the canonical casing check.
pub fn locales(disc: &Value, canonical: bool) -> Check {
    for member in ["ui_locales_supported", "claims_locales_supported"] {
        let Some(list) = disc.get(member) else {
            continue;
        };
        let list = list.as_array().ok_or_else(|| format!("{member} is not an array"))?;
        for tag in list {
            let tag = tag.as_str().ok_or_else(|| format!("{member} holds a non-string"))?;
            let subtags: Vec<&str> = tag.split('-').collect();
            if subtags.iter().any(|s| s.is_empty() || s.len() > 8 || !s.chars().all(|c| c.is_ascii_alphanumeric())) {
                return Err(format!("{member}: `{tag}` is not a BCP 47 language tag"));
            }
            if canonical {
                let lang_ok = subtags[0].chars().all(|c| c.is_ascii_lowercase());
                let region_ok =
                    subtags.get(1).is_none_or(|r| r.len() != 2 || r.chars().all(|c| c.is_ascii_uppercase()));
                if !lang_ok || !region_ok {
                    return Err(format!("{member}: `{tag}` is not in canonical casing"));
                }
            }
        }
    }
    ok("locales are well-formed")
}

// ---------------------------------------------------------------- back-channel logout

/// OIDC Back-Channel Logout 1.0 §2.4 and §2.6: the logout token's claims.
pub fn validate_logout_token(jwt: &Jwt, issuer: &str, client_id: &str, id_token: &Jwt) -> Vec<(&'static str, Check)> {
    let now = now();
    let mut out = Vec::new();
    out.push((
        "CheckLogoutTokenIssuer",
        match jwt.str_claim("iss") {
            Some(i) if i == issuer => ok("iss is the issuer"),
            other => Err(format!("iss {other:?} is not `{issuer}`")),
        },
    ));
    out.push((
        "CheckLogoutTokenAudience",
        match jwt.claim("aud") {
            Some(Value::String(a)) if a == client_id => ok("aud is the client"),
            Some(Value::Array(l)) if l.iter().any(|a| a.as_str() == Some(client_id)) => ok("aud contains the client"),
            other => Err(format!("aud {other:?} does not contain `{client_id}`")),
        },
    ));
    out.push((
        "CheckLogoutTokenIatClaim",
        match jwt.claim("iat").and_then(Value::as_i64) {
            Some(iat) if iat > now + CLOCK_SKEW => Err(format!("iat {iat} is in the future")),
            Some(iat) if iat < now - 86400 => Err(format!("iat {iat} is more than a day old")),
            Some(_) => ok("iat is recent"),
            None => Err("iat missing or not a number".into()),
        },
    ));
    out.push((
        "CheckLogoutTokenHasJti",
        match jwt.str_claim("jti") {
            Some(j) if !j.is_empty() => ok("jti present"),
            _ => Err("jti missing".into()),
        },
    ));
    out.push((
        "CheckLogoutTokenEventsClaim",
        match jwt.claim("events").and_then(Value::as_object) {
            Some(events) => match events.get("http://schemas.openid.net/event/backchannel-logout") {
                Some(Value::Object(inner)) if events.len() == 1 && inner.is_empty() => {
                    ok("the back-channel logout event")
                }
                Some(Value::Object(_)) if events.len() == 1 => Err("the event's value is not an empty object".into()),
                Some(_) if events.len() == 1 => Err("the event's value is not an object".into()),
                _ => Err(format!(
                    "events {:?} is not exactly the back-channel logout event",
                    events.keys().collect::<Vec<_>>()
                )),
            },
            None => Err("events missing or not an object".into()),
        },
    ));
    let sid = jwt.str_claim("sid");
    let sub = jwt.str_claim("sub");
    out.push((
        "CheckLogoutTokenHasSubOrSid",
        if sid.is_some() || sub.is_some() { ok("sub and/or sid present") } else { Err("neither sub nor sid".into()) },
    ));
    out.push((
        "CheckLogoutTokenSidMatchesIdToken",
        match (sid, id_token.str_claim("sid")) {
            (Some(a), Some(b)) if a == b => ok("sid matches the ID token"),
            (Some(a), b) => Err(format!("sid `{a}` differs from the ID token's {b:?}")),
            (None, _) => Err("sid missing; backchannel_logout_session_supported requires it".into()),
        },
    ));
    out.push((
        "CheckLogoutTokenSubMatchesIdToken",
        match (sub, id_token.str_claim("sub")) {
            (Some(a), Some(b)) if a != b => Err(format!("sub `{a}` differs from the ID token's `{b}`")),
            _ => ok("sub absent or equal to the ID token's"),
        },
    ));
    out.push((
        "CheckLogoutTokenNoNonce",
        if jwt.claim("nonce").is_some() { Err("a logout token must not carry a nonce".into()) } else { ok("no nonce") },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_description_charset_excludes_quote_and_backslash() {
        assert!(error_description_charset(Some("the code was used")).is_ok());
        assert!(error_description_charset(Some("bad \"code\"")).is_err());
        assert!(error_description_charset(Some("é")).is_err());
        assert!(error_description_no_crlftab(Some("a\nb")).is_err());
    }

    #[test]
    fn jwks_with_ec_keys_are_checked_by_curve_name_and_coordinates() {
        let ec = |crv: &str, x: &str| json!({"keys": [{"kty": "EC", "crv": crv, "x": x, "y": "AQAB", "kid": "k"}]});
        assert!(validate_server_jwks(&ec("P-256", "AQAB")).is_ok());
        assert!(validate_server_jwks(&ec("P-999", "AQAB")).is_err());
        assert!(validate_server_jwks(&ec("P-256", "not base64url!")).is_err());
    }

    #[test]
    fn entropy_estimates_reject_repetitive_codes() {
        assert!(ensure_entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "code").is_err());
        assert!(ensure_entropy("Xk2_9fQpLmZ7tRw8vBn4HcYe1JsAoUdG", "code").is_ok());
    }

    #[test]
    fn issuer_must_equal_the_discovery_prefix() {
        let url = Url::parse("https://op.example/.well-known/openid-configuration").unwrap();
        assert!(discovery_issuer(&json!({"issuer": "https://op.example"}), &url).is_ok());
        assert!(discovery_issuer(&json!({"issuer": "https://op.example/"}), &url).is_err());
        assert!(discovery_issuer(&json!({"issuer": "https://other.example"}), &url).is_err());
    }

    #[test]
    fn scopes_need_one_of_their_claims() {
        assert!(scopes_returned(&json!({"sub": "a", "email": "x@y"}), &["openid", "email"]).is_ok());
        assert!(scopes_returned(&json!({"sub": "a"}), &["openid", "phone"]).is_err());
    }
}
