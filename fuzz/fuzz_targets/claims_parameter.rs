//! The `claims` parameter of an authorization request (OIDC Core §5.5), with FranceConnect's
//! `rep_scope` and the essential `acr`: any text as its value in an otherwise good request.
#![no_main]

use idp::protocol::params::{max_value_bytes, ProtocolParams, MAX_REQUEST_BYTES};
use idp::protocol::request::{validate, NoRedirectReason, RequestError};
use idp_fuzz::{client, REDIRECT_URI};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The query string is percent-decoded into text as the route reads it.
    let claims = String::from_utf8_lossy(data);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client().id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile")
        .append_pair("state", "s-1")
        .append_pair("claims", &claims)
        .finish();
    let result = validate(&ProtocolParams::parse(query.as_bytes()), Some(client()));
    if query.len() > MAX_REQUEST_BYTES {
        // Percent-encoded, a long `claims` can take the whole request over its limit: which of
        // its values were meant is then not read at all, and nothing is redirected.
        assert_eq!(result, Err(RequestError::NoRedirect { reason: NoRedirectReason::Malformed }));
        return;
    }
    let parsed = serde_json::from_str::<Value>(&claims).ok();
    let acceptable = claims.is_empty()
        || (claims.len() <= max_value_bytes("claims") && parsed.as_ref().is_some_and(Value::is_object));
    match result {
        Ok(request) => {
            assert!(acceptable, "claims accepted although not a JSON object within its limit");
            assert_eq!(request.claims, parsed.filter(|_| !claims.is_empty()));
            if let Some(narrowed) = &request.narrowed_to {
                assert!(narrowed.iter().all(|d| client().demarches().contains(d)), "{narrowed:?}");
            }
        }
        Err(RequestError::Redirect(error)) => {
            assert!(["invalid_request", "access_denied"].contains(&error.error), "{}", error.error);
            assert_eq!(error.state.as_deref(), Some("s-1"));
        }
        Err(RequestError::NoRedirect { reason }) => panic!("a good client and redirect URI refused: {reason:?}"),
    }
});
