//! Time-based one-time codes (RFC 6238): SHA-1, 6 digits, a 30-second step for phone apps or
//! 60 seconds for the hardware cards the service hands out; one step of clock drift accepted.

use totp_rs::{Algorithm, Secret, TOTP};

use crate::encoding::constant_time_eq;

pub const ISSUER_LABEL: &str = "Aidants IdP";

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("invalid TOTP secret")]
    InvalidSecret,
}

fn totp(secret_base32: &str, step: u64, account: &str) -> Result<TOTP, TotpError> {
    let bytes = Secret::Encoded(secret_base32.to_owned()).to_bytes().map_err(|_| TotpError::InvalidSecret)?;
    TOTP::new(Algorithm::SHA1, 6, 1, step, bytes, Some(ISSUER_LABEL.to_owned()), account.to_owned())
        .map_err(|_| TotpError::InvalidSecret)
}

/// A fresh 160-bit secret, base32-encoded.
pub fn generate_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator app enrols from.
pub fn enrolment_uri(secret_base32: &str, step: u64, account: &str) -> Result<String, TotpError> {
    Ok(totp(secret_base32, step, account)?.get_url())
}

/// The time step `code` belongs to, if it is valid at `unix_time` (± one step).
/// Callers refuse a step at or before the last one used, so a code works once.
pub fn matching_step(secret_base32: &str, step: u64, code: &str, unix_time: u64) -> Result<Option<u64>, TotpError> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_base32, step, "")?;
    let current = unix_time / step;
    for candidate in [current, current.saturating_sub(1), current + 1] {
        if constant_time_eq(t.generate(candidate * step).as_bytes(), code.as_bytes()) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// The code at `unix_time` (demo output and tests).
pub fn code_at(secret_base32: &str, step: u64, unix_time: u64) -> Result<String, TotpError> {
    Ok(totp(secret_base32, step, "")?.generate(unix_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (base32 below), 8 digits there;
    // the 6 low digits here.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, 30, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 30, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 30, 2000000000).unwrap(), "279037");
    }

    #[test]
    fn codes_match_their_step_with_one_step_of_drift() {
        let s = generate_secret();
        for step in [30, 60] {
            let now = 1_764_000_000;
            let code = code_at(&s, step, now).unwrap();
            assert_eq!(matching_step(&s, step, &code, now).unwrap(), Some(now / step));
            assert_eq!(matching_step(&s, step, &code, now + step).unwrap(), Some(now / step));
            assert_eq!(matching_step(&s, step, &code, now + 3 * step).unwrap(), None);
            assert_eq!(matching_step(&s, step, "12345", now).unwrap(), None);
        }
    }

    #[test]
    fn enrolment_uri_names_the_account_and_period() {
        let uri = enrolment_uri(&generate_secret(), 60, "camille@example.fr").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("period=60"), "{uri}");
        assert!(uri.contains("camille%40example.fr") || uri.contains("camille@example.fr"), "{uri}");
    }
}
