//! The provider's configuration document (OIDC Discovery 1.0, RFC 8414).

use serde_json::Value;
use url::Url;

use super::{all_chars, ok, Check};

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

/// `EnsureServerConfigurationSupports<Method>`: absent means client_secret_basic only.
pub fn ensure_auth_method_supported(disc: &Value, method: &str) -> Check {
    match disc.get("token_endpoint_auth_methods_supported").and_then(Value::as_array) {
        None if method == "client_secret_basic" => ok("absent: client_secret_basic is the default"),
        None => Err(format!("token_endpoint_auth_methods_supported is absent, so {method} is not supported")),
        Some(list) if list.iter().any(|v| v.as_str() == Some(method)) => ok(format!("{method} is supported")),
        Some(_) => Err(format!("{method} is not in token_endpoint_auth_methods_supported")),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuer_must_equal_the_discovery_prefix() {
        let url = Url::parse("https://op.example/.well-known/openid-configuration").unwrap();
        assert!(discovery_issuer(&json!({"issuer": "https://op.example"}), &url).is_ok());
        assert!(discovery_issuer(&json!({"issuer": "https://op.example/"}), &url).is_err());
        assert!(discovery_issuer(&json!({"issuer": "https://other.example"}), &url).is_err());
    }
}
