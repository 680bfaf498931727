//! ID tokens from the upstream provider (FranceConnect, or the demo upstream) when a usager
//! proves who they are: `SignedJwt::parse`, the key chosen in the provider's JWKS,
//! `verify_id_token` (OIDC Core §3.1.3.7), then the pivot identity read by `identity_of`. The
//! provider's JWKS holds the two fuzzing-only keys.
//!
//! The first byte chooses the form of the rest, as in `id_token_hint`: even, a token as
//! received; odd, JSON claims the harness signs (ES256 when bit 1 is set, else RS256).
#![no_main]

use std::sync::OnceLock;

use idp::keys::{SigningAlg, StandaloneKey};
use idp::relying_party::jwt::{acr_satisfies, verify_id_token, Expected, ProviderKeys, SignedJwt, LEEWAY_SECONDS};
use idp::relying_party::Verified;
use idp::upstream::identity_of;
use idp_fuzz::{signed_by_one_of, standalone_key};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const ISSUER: &str = "https://fc.example.fr";
const EXPECTED: Expected<'static> =
    Expected { issuer: ISSUER, client_id: "client", nonce: "n-1", acr_values: Some("eidas1") };

struct Provider {
    rs256: StandaloneKey,
    es256: StandaloneKey,
    jwks: Value,
    keys: ProviderKeys,
}

fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let (rs256, es256) = (standalone_key(SigningAlg::Rs256), standalone_key(SigningAlg::Es256));
        let jwks = json!({"keys": [rs256.jwks()["keys"][0], es256.jwks()["keys"][0]]});
        let keys = ProviderKeys::parse(&jwks).expect("the provider's JWKS");
        assert_eq!(keys.len(), 2);
        Provider { rs256, es256, jwks, keys }
    })
}

fn check(token: &str) {
    let Ok(jwt) = SignedJwt::parse(token) else { return };
    let Ok(key) = jwt.key(&provider().keys) else { return };
    let Ok(claims) = verify_id_token(&jwt, key, &EXPECTED) else { return };
    assert!(signed_by_one_of(token, &provider().jwks), "accepted without the provider's signature");
    assert_eq!(claims["iss"], ISSUER);
    let aud = &claims["aud"];
    assert!(aud == "client" || aud.as_array().is_some_and(|a| a.iter().any(|v| v == "client")), "{aud}");
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(claims["nonce"], EXPECTED.nonce);
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_f64().expect("exp is a number");
    assert!(exp + LEEWAY_SECONDS as f64 >= now as f64, "expired token accepted: exp {exp}");
    assert!(acr_satisfies("eidas1", claims["acr"].as_str().unwrap_or("")));

    let verified = Verified { id_token: token.to_owned(), id_token_claims: claims, userinfo: None };
    if let Ok(identity) = identity_of(&verified, ISSUER) {
        assert_eq!(identity.subject, verified.subject());
        for value in [&identity.given_name, &identity.family_name, &identity.birthdate, &identity.email] {
            assert!(!value.is_empty() && value.trim() == value, "{value:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((form, rest)) = data.split_first() else { return };
    if form & 1 == 0 {
        if let Ok(token) = std::str::from_utf8(rest) {
            check(token);
        }
        return;
    }
    let Ok(claims) = serde_json::from_slice::<Value>(rest) else { return };
    let key = if form & 2 != 0 { &provider().es256 } else { &provider().rs256 };
    check(&key.sign("JWT", &claims).expect("the fuzzing key signs"));
});
