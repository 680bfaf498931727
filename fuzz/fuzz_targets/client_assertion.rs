//! Client assertions (`private_key_jwt`, RFC 7523) at the token, revocation and introspection
//! endpoints: `client_auth::read_assertion` (before any key is looked at), then
//! `client_auth::check_assertion` with the key the client registered, as `verify_assertion`
//! does. The client registered the two fuzzing-only keys.
//!
//! The first byte chooses the form of the rest, as in `id_token_hint`: even, an assertion as
//! sent; odd, JSON claims the harness signs (ES256 when bit 1 is set, else RS256). Bit 2 sends
//! `client_id` with it.
#![no_main]

use std::sync::OnceLock;

use idp::client_keys::find_key;
use idp::keys::SigningAlg;
use idp::oidc::client_auth::{check_assertion, read_assertion};
use idp_fuzz::{signed_by_one_of, standalone_key};
use jsonwebtoken::jwk::JwkSet;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const CLIENT_ID: &str = "service-impots";
const AUDIENCES: [&str; 2] = ["https://idp.example.fr/token", "https://idp.example.fr"];

struct Client {
    signers: [idp::keys::StandaloneKey; 2],
    jwks: Value,
    keys: JwkSet,
}

fn registered() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let signers = [standalone_key(SigningAlg::Rs256), standalone_key(SigningAlg::Es256)];
        let jwks = json!({"keys": [signers[0].jwks()["keys"][0], signers[1].jwks()["keys"][0]]});
        let keys = serde_json::from_value(jwks.clone()).expect("a JWK set");
        Client { signers, jwks, keys }
    })
}

fn check(assertion: &str, claimed_id: Option<&str>) {
    let now = chrono::Utc::now().timestamp();
    let Ok(read) = read_assertion(assertion, claimed_id, now) else { return };
    assert!(claimed_id.is_none_or(|id| id == read.client_id));
    if read.client_id != CLIENT_ID {
        return; // an unknown client: refused before any key
    }
    let Some(key) = find_key(&registered().keys, read.kid.as_deref()) else { return };
    let Ok(verified) = check_assertion(assertion, &read, key, &AUDIENCES, now) else { return };
    assert!(signed_by_one_of(assertion, &registered().jwks), "accepted without the client's signature");
    let claims: Value = serde_json::from_slice(
        &idp::encoding::b64url_decode(assertion.split('.').nth(1).expect("three parts")).expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    let aud = &claims["aud"];
    let ours = |v: &Value| AUDIENCES.iter().any(|a| v == a);
    assert!(ours(aud) || aud.as_array().is_some_and(|a| a.iter().any(ours)), "{aud}");
    assert!(verified.exp + 30 >= now && verified.exp <= now + 600, "exp {}", verified.exp);
    assert_eq!(claims["jti"], verified.jti.as_str());
}

fuzz_target!(|data: &[u8]| {
    let Some((form, rest)) = data.split_first() else { return };
    let claimed_id = (form & 4 != 0).then_some(CLIENT_ID);
    if form & 1 == 0 {
        if let Ok(assertion) = std::str::from_utf8(rest) {
            check(assertion, claimed_id);
        }
        return;
    }
    let Ok(mut claims) = serde_json::from_slice::<Value>(rest) else { return };
    // Seeds say "exp": "now+60" (or any offset): the harness makes it a time near this run's.
    if let Some(offset) = claims.get("exp").and_then(Value::as_str).and_then(|e| e.strip_prefix("now")) {
        if let Ok(offset) = offset.parse::<i64>() {
            claims["exp"] = json!(chrono::Utc::now().timestamp().saturating_add(offset));
        }
    }
    let signer = &registered().signers[usize::from(form & 2 != 0)];
    check(&signer.sign("JWT", &claims).expect("the fuzzing key signs"), claimed_id);
});
