//! The one-time code a helper types (sign-in, and again to sign or revoke a mandate):
//! `second_factor::matching_step` on a factor with the RFC 6238 test secret. The first byte
//! chooses the step (an app's 30 s or a card's 60 s), the next eight the clock (up to
//! year 36000: the clock is the server's, never the sender's), the rest is the code as typed.
#![no_main]

use idp::pages::second_factor::matching_step;
use idp::totp;
use libfuzzer_sys::fuzz_target;
use mandate_store::second_factors::{FactorKind, SecondFactor};

const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let step: u64 = if data[0] & 1 == 0 { 30 } else { 60 };
    let clock = u64::from_le_bytes(data[1..9].try_into().expect("eight bytes")) % (1 << 40);
    let code = String::from_utf8_lossy(&data[9..]);
    let factor = SecondFactor {
        id: "f-1".into(),
        aidant_id: "a-1".into(),
        kind: FactorKind::App,
        secret: RFC_SECRET.into(),
        step_seconds: step as i32,
        card_serial: None,
        last_step: None,
        confirmed_at: None,
        created_at: chrono::NaiveDateTime::default(),
    };
    match matching_step(&factor, &code, clock) {
        Some(found) => {
            let found = u64::try_from(found).expect("a step is positive");
            let current = clock / step;
            assert!(found + 1 >= current && found <= current + 1, "step {found} is not within one of {current}");
            let expected = totp::code_at(RFC_SECRET, step, found * step).expect("the secret is valid");
            assert_eq!(code.trim(), expected);
        }
        None => {
            let typed = code.trim();
            let valid_now = totp::code_at(RFC_SECRET, step, clock).expect("the secret is valid");
            assert_ne!(typed, valid_now, "the current code refused");
        }
    }
});
