//! `GET /authorize?…` and `POST /authorize`: the query string or form body as sent, read by
//! `ProtocolParams::parse` and judged by `request::validate`, as `oidc::authorize` does.
#![no_main]

use idp::protocol::params::{max_value_bytes, ProtocolParams};
use idp::protocol::request::{validate, AuthorizationRequest, RequestError, SCOPES_SUPPORTED};
use idp_fuzz::{client, has_float, REDIRECT_URI};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let params = ProtocolParams::parse(data);

    // The values kept, written out again, read back the same.
    let written: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params.values).finish();
    assert_eq!(ProtocolParams::parse(written.as_bytes()).values, params.values);

    // Without a registered client nothing is accepted, and nothing is sent anywhere.
    assert!(matches!(validate(&params, None), Err(RequestError::NoRedirect { .. })));

    match validate(&params, Some(client())) {
        Ok(request) => {
            assert_eq!(params.fault(), None, "a request with a fault of shape was accepted");
            assert_eq!(request.redirect_uri, REDIRECT_URI);
            assert!(request.has_scope("openid"));
            for scope in &request.scopes {
                assert!(SCOPES_SUPPORTED.contains(&scope.as_str()) || scope.starts_with("demarche:"), "{scope}");
            }
            for (name, value) in [("state", &request.state), ("nonce", &request.nonce)] {
                assert!(value.as_ref().is_none_or(|v| v.len() <= max_value_bytes(name)), "{name} too long");
            }
            assert!(request.claims.as_ref().is_none_or(serde_json::Value::is_object));
            if let Some(narrowed) = &request.narrowed_to {
                assert!(narrowed.iter().all(|d| client().demarches().contains(d)), "{narrowed:?}");
            }
            // The pending request is stored as JSON and read back at every step of the flow
            // (a float in `claims` may come back a bit off: see `has_float`).
            let stored = serde_json::to_string(&request).expect("an accepted request is stored");
            let read: AuthorizationRequest = serde_json::from_str(&stored).expect("a stored request reads back");
            if !request.claims.as_ref().is_some_and(has_float) {
                assert_eq!(read, request);
            }
        }
        Err(RequestError::Redirect(error)) => {
            // RFC 6749 §4.1.2.1: errors go only to the registered redirect URI.
            assert_eq!(error.redirect_uri, REDIRECT_URI);
            assert!(error.state.as_ref().is_none_or(|s| s.len() <= max_value_bytes("state")));
        }
        Err(RequestError::NoRedirect { .. }) => {}
    }
});
