//! Authorization responses, and the error responses of the authorization and token endpoints
//! (RFC 6749 §4.1.2, §5.2, Appendix A).

use url::Url;

use super::{all_chars, ok, Check};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_description_charset_excludes_quote_and_backslash() {
        assert!(error_description_charset(Some("the code was used")).is_ok());
        assert!(error_description_charset(Some("bad \"code\"")).is_err());
        assert!(error_description_charset(Some("é")).is_err());
        assert!(error_description_no_crlftab(Some("a\nb")).is_err());
    }

    #[test]
    fn entropy_estimates_reject_repetitive_codes() {
        assert!(ensure_entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "code").is_err());
        assert!(ensure_entropy("Xk2_9fQpLmZ7tRw8vBn4HcYe1JsAoUdG", "code").is_ok());
    }
}
