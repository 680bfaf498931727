//! The provider's published keys (RFC 7517, RFC 7518 §6).

use std::collections::HashSet;

use serde_json::Value;

use super::{ok, Check};
use crate::jose;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwks_with_ec_keys_are_checked_by_curve_name_and_coordinates() {
        let ec = |crv: &str, x: &str| json!({"keys": [{"kty": "EC", "crv": crv, "x": x, "y": "AQAB", "kid": "k"}]});
        assert!(validate_server_jwks(&ec("P-256", "AQAB")).is_ok());
        assert!(validate_server_jwks(&ec("P-999", "AQAB")).is_err());
        assert!(validate_server_jwks(&ec("P-256", "not base64url!")).is_err());
    }
}
