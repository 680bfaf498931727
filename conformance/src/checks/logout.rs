//! Logout tokens (OIDC Back-Channel Logout 1.0 §2.4, §2.6).

use serde_json::Value;

use super::{now, ok, Check, CLOCK_SKEW};
use crate::jose::Jwt;

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
