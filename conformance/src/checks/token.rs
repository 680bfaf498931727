//! Token endpoint responses (RFC 6749 §5.1).

use serde_json::Value;

use super::{all_chars, is_vschar, ok, Check};

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

/// `EnsureRefreshTokenContainsAllowedCharactersOnly` / `EnsureAccessTokenContainsAllowedCharactersOnly`:
/// RFC 6749 Appendix A.17 and A.12, VSCHAR only.
pub fn token_characters(token: &str, what: &str) -> Check {
    if !token.is_empty() && all_chars(token, is_vschar) {
        ok(format!("{what} uses the allowed characters"))
    } else {
        Err(format!("{what} has characters outside %x20-7E or is empty"))
    }
}
