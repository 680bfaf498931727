//! The helpers' second factor: RFC 6238 TOTP (HMAC-SHA-1, 6 digits). The server accepts the
//! previous, current and next step but each step only once per helper, so every helper keeps
//! the last step it used and takes the next unused one, waiting for the clock when none is left.
//! The time spent waiting is counted: the run reports it, as the sign that more helpers are needed.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// RFC 4648 base32 (upper or lower case, padding optional).
pub fn base32_decode(text: &str) -> Result<Vec<u8>, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .ok_or_else(|| format!("`{}` is not base32", c as char))? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// RFC 4226 HOTP value for one counter, as 6 digits.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let code = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", code % 1_000_000)
}

/// One helper's authenticator, remembering the last step used.
pub struct Authenticator {
    secret: Vec<u8>,
    step: u64,
    last_used: Mutex<u64>,
    /// Codes given and the time spent waiting for the clock before giving them.
    usage: Mutex<CodeUsage>,
}

/// How many codes an authenticator gave, and how long it waited for free steps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CodeUsage {
    pub codes: u32,
    pub waited: Duration,
}

impl std::ops::Add for CodeUsage {
    type Output = CodeUsage;
    fn add(self, other: CodeUsage) -> CodeUsage {
        CodeUsage { codes: self.codes + other.codes, waited: self.waited + other.waited }
    }
}

impl Authenticator {
    pub fn new(secret_base32: &str, step: u64) -> Result<Authenticator, String> {
        Ok(Authenticator {
            secret: base32_decode(secret_base32)?,
            step: step.max(1),
            last_used: Mutex::new(0),
            usage: Mutex::new(CodeUsage::default()),
        })
    }

    fn now_step(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / self.step
    }

    /// How long until a code is available (zero when one is).
    pub fn wait_needed(&self) -> Duration {
        let last = *self.last_used.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.now_step();
        if last < now + 1 {
            Duration::ZERO
        } else {
            // `last` = now + 1: the next free step is now + 2, usable once the clock reaches now + 1.
            let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
            let next = ((now + 1) * self.step) as f64;
            Duration::from_secs_f64((next - secs).max(0.0) + 0.05)
        }
    }

    /// The next unused code within [now-1, now+1], waiting for the clock if all three are used.
    pub fn next_code(&self) -> String {
        let mut waited = Duration::ZERO;
        loop {
            let wait = self.wait_needed();
            if wait.is_zero() {
                break;
            }
            std::thread::sleep(wait);
            waited += wait;
        }
        let mut last = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.now_step();
        let step = (*last + 1).max(now.saturating_sub(1));
        *last = step;
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        *usage = *usage + CodeUsage { codes: 1, waited };
        hotp(&self.secret, step)
    }

    /// The codes given so far and the time spent waiting for them.
    pub fn usage(&self) -> CodeUsage {
        *self.usage.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        // RFC 6238 Appendix B, truncated to 6 digits: T = 59 s and 1111111109 s, step 30.
        assert_eq!(hotp(secret, 59 / 30), "287082");
        assert_eq!(hotp(secret, 1111111109 / 30), "081804");
        assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(), secret.to_vec());
    }

    #[test]
    fn a_step_is_never_used_twice() {
        let auth = Authenticator::new("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 30).unwrap();
        let a = auth.next_code();
        let b = auth.next_code();
        assert_ne!(a, b);
        // The first three steps (previous, current, next) need no wait.
        assert_eq!(auth.usage(), CodeUsage { codes: 2, waited: Duration::ZERO });
    }
}
