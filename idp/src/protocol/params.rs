//! The parameters of a protocol request, as sent (a query string or a form body), with the two
//! checks every endpoint owes before reading them: no parameter twice (RFC 6749 §3.1: "Request
//! and response parameters MUST NOT be included more than once") and no parameter longer than
//! its purpose needs, so that a stranger cannot make us store or echo kilobytes.

use std::collections::{BTreeSet, HashMap};

/// The raw parameters, one value per name.
pub type Params = HashMap<String, String>;

/// The most a whole authorization request, logout request or token request may weigh (query
/// string or form body). The largest legitimate one carries an ID token hint and a `claims`
/// object: a few KiB.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// The longest value each parameter may have, in bytes. `state` and `nonce` are echoed to the
/// relying party and stored with the pending request: 512 bytes hold any random value or
/// signed cookie a relying party would use. A parameter not listed may have
/// [`DEFAULT_MAX_VALUE_BYTES`].
const MAX_VALUE_BYTES: [(&str, usize); 22] = [
    ("client_id", 255),
    ("redirect_uri", 2048),
    ("post_logout_redirect_uri", 2048),
    ("response_type", 64),
    ("response_mode", 32),
    ("scope", 1024),
    ("state", 512),
    ("nonce", 512),
    ("prompt", 64),
    ("max_age", 16),
    ("ui_locales", 64),
    ("login_hint", 256),
    ("acr_values", 256),
    ("code_challenge", 128),
    ("code_challenge_method", 16),
    ("claims", 4096),
    ("grant_type", 64),
    ("code", 256),
    // RFC 7636 §4.1: 43 to 128 characters.
    ("code_verifier", 128),
    ("refresh_token", 256),
    ("token", 256),
    ("client_secret", 512),
];

/// Signed JWTs (a client assertion, an ID token hint) and anything not listed.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 8 * 1024;

/// The longest value `name` may have.
pub fn max_value_bytes(name: &str) -> usize {
    MAX_VALUE_BYTES.iter().find(|(n, _)| *n == name).map_or(DEFAULT_MAX_VALUE_BYTES, |(_, max)| *max)
}

/// What is wrong with the shape of a request, before any of its meaning is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    TooLarge,
    Repeated(String),
    TooLong(String),
}

impl ShapeError {
    /// The parameter at fault, when one is.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            ShapeError::TooLarge => None,
            ShapeError::Repeated(name) | ShapeError::TooLong(name) => Some(name),
        }
    }

    /// The `error_description` sent with `invalid_request`.
    pub fn description(&self) -> String {
        match self {
            ShapeError::TooLarge => format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
            ShapeError::Repeated(name) => format!("{name} is repeated"),
            ShapeError::TooLong(name) => format!("{name} is longer than {} bytes", max_value_bytes(name)),
        }
    }
}

/// Form-encoded parameters with the names that came more than once and those over their length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolParams {
    /// The first value of each name (never used when the name repeats: the request is refused).
    pub values: Params,
    repeated: BTreeSet<String>,
    too_long: BTreeSet<String>,
    too_large: bool,
}

impl ProtocolParams {
    /// Reads `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(input: &[u8]) -> ProtocolParams {
        let mut parsed = ProtocolParams { too_large: input.len() > MAX_REQUEST_BYTES, ..Default::default() };
        for (name, value) in url::form_urlencoded::parse(input) {
            if value.len() > max_value_bytes(&name) {
                parsed.too_long.insert(name.clone().into_owned());
            }
            if parsed.values.contains_key(name.as_ref()) {
                parsed.repeated.insert(name.into_owned());
            } else {
                parsed.values.insert(name.into_owned(), value.into_owned());
            }
        }
        parsed
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        self.values.get(name)
    }

    /// The first fault among `names` (repeated, then too long), if any.
    pub fn fault_among(&self, names: &[&str]) -> Option<ShapeError> {
        let repeated = names.iter().find(|n| self.repeated.contains(**n));
        let too_long = names.iter().find(|n| self.too_long.contains(**n));
        repeated
            .map(|n| ShapeError::Repeated((*n).to_owned()))
            .or_else(|| too_long.map(|n| ShapeError::TooLong((*n).to_owned())))
    }

    /// The request's first fault of shape, if any: too large, a parameter repeated, one too long.
    pub fn fault(&self) -> Option<ShapeError> {
        if self.too_large {
            return Some(ShapeError::TooLarge);
        }
        let repeated = self.repeated.iter().next().map(|n| ShapeError::Repeated(n.clone()));
        repeated.or_else(|| self.too_long.iter().next().map(|n| ShapeError::TooLong(n.clone())))
    }

    /// Whether the whole request is over [`MAX_REQUEST_BYTES`].
    pub fn too_large(&self) -> bool {
        self.too_large
    }
}

impl From<Params> for ProtocolParams {
    /// Parameters already one per name (tests, and callers that built them).
    fn from(values: Params) -> ProtocolParams {
        let too_long = values.iter().filter(|(k, v)| v.len() > max_value_bytes(k)).map(|(k, _)| k.clone()).collect();
        ProtocolParams { values, too_long, ..Default::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_named_even_with_the_same_value() {
        let p = ProtocolParams::parse(b"client_id=a&scope=openid&client_id=a");
        assert_eq!(p.fault(), Some(ShapeError::Repeated("client_id".into())));
        assert_eq!(p.fault_among(&["scope"]), None);
        assert_eq!(p.get("client_id").map(String::as_str), Some("a"));
    }

    #[test]
    fn an_empty_repeat_is_a_repeat_too() {
        let p = ProtocolParams::parse(b"code=abc&code=");
        assert_eq!(p.fault(), Some(ShapeError::Repeated("code".into())));
    }

    #[test]
    fn values_over_their_limit_are_named() {
        let state = "s".repeat(513);
        let p = ProtocolParams::parse(format!("state={state}&nonce=n").as_bytes());
        assert_eq!(p.fault(), Some(ShapeError::TooLong("state".into())));
        let p = ProtocolParams::parse(format!("state={}", "s".repeat(512)).as_bytes());
        assert_eq!(p.fault(), None, "512 bytes are allowed");
        // The limit is on the decoded value: percent-encoding does not hide bytes.
        let p = ProtocolParams::parse(format!("nonce={}", "%C3%A9".repeat(300)).as_bytes());
        assert_eq!(p.fault(), Some(ShapeError::TooLong("nonce".into())));
    }

    #[test]
    fn a_request_over_the_whole_limit_is_refused_whatever_its_parameters() {
        let query = format!("x={}&y={}", "a".repeat(8 * 1024), "b".repeat(8 * 1024));
        assert_eq!(ProtocolParams::parse(query.as_bytes()).fault(), Some(ShapeError::TooLarge));
    }
}
