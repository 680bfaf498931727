//! ID tokens we signed, as they come back in `id_token_hint` (logout and authorize): read and
//! checked by `KeySet::verify` against a keys folder holding the fuzzing-only keys.
//!
//! The first byte chooses the form of the rest. Even: a token as sent. Odd: JSON claims that
//! the harness signs with one of the keys (ES256 when bit 1 is set, else RS256), so that the
//! fuzzer reaches what follows a good signature; after a `0xFF` byte, a header that replaces the
//! signed one.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use idp::keys::SigningAlg;
use idp_fuzz::{has_float, key_set, signed_by_one_of, two_parts};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Whatever verifies was signed by one of our keys, and its payload is the token's.
fn check(token: &str) -> Option<Value> {
    let payload = key_set().verify(token).ok()?;
    assert!(signed_by_one_of(token, &key_set().jwks()), "accepted without a signature of ours");
    let encoded = token.split('.').nth(1).expect("three parts");
    let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("JSON");
    assert_eq!(payload, decoded);
    Some(payload)
}

fuzz_target!(|data: &[u8]| {
    let Some((form, rest)) = data.split_first() else { return };
    if form & 1 == 0 {
        if let Ok(token) = std::str::from_utf8(rest) {
            check(token);
        }
        return;
    }
    let (claims, header) = two_parts(rest);
    let Ok(claims) = serde_json::from_slice::<Value>(claims) else { return };
    let alg = if form & 2 != 0 { SigningAlg::Es256 } else { SigningAlg::Rs256 };
    let signed = key_set().sign(alg, "JWT", &claims).expect("the fuzzing key signs");
    match header {
        None => {
            let payload = check(&signed).expect("our own token refused");
            // Our tokens carry no float (times are integers): see `has_float`.
            if !has_float(&claims) {
                assert_eq!(payload, claims, "our own token read back otherwise");
            }
        }
        Some(header) => {
            let (original, rest) = signed.split_once('.').expect("three parts");
            let replaced = URL_SAFE_NO_PAD.encode(header);
            let forged = format!("{replaced}.{rest}");
            if replaced != original {
                assert!(check(&forged).is_none(), "a token whose header was changed is accepted");
            }
        }
    }
});
