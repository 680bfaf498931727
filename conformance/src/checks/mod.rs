//! The suite's conditions as pure functions. Each returns `Ok(message)` when the condition
//! holds and `Err(message)` when it does not; the caller records it under the suite's condition
//! class name with the suite's severity.
//!
//! One file per thing checked: the provider's configuration (`discovery`), its keys (`jwks`),
//! authorization responses and error responses (`authorization`), token responses (`token`),
//! ID tokens (`id_token`), claims shared by ID tokens and userinfo (`claims`), logout tokens
//! (`logout`), and the type of each member of the provider's metadata (`metadata`).

mod authorization;
mod claims;
mod discovery;
mod id_token;
mod jwks;
mod logout;
mod metadata;
mod token;

pub use authorization::*;
pub use claims::*;
pub use discovery::*;
pub use id_token::*;
pub use jwks::*;
pub use logout::*;
pub use metadata::*;
pub use token::*;

pub type Check = Result<String, String>;

/// Seconds of clock difference tolerated between the provider and us (the suite allows 5 min).
pub const CLOCK_SKEW: i64 = 5 * 60;

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn ok(msg: impl Into<String>) -> Check {
    Ok(msg.into())
}

/// RFC 6749 Appendix A: NQSCHAR / VSCHAR sets for error_description and tokens.
fn all_chars(value: &str, allowed: impl Fn(char) -> bool) -> bool {
    value.chars().all(allowed)
}

pub fn is_vschar(c: char) -> bool {
    ('\u{20}'..='\u{7e}').contains(&c)
}

/// `Content-Type: application/json`, parameters aside (discovery, token, userinfo answers).
pub fn is_json(content_type: Option<&str>) -> Check {
    match content_type {
        Some(c) if c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) => {
            ok("application/json")
        }
        other => Err(format!("Content-Type is {other:?}, not application/json")),
    }
}
