//! HTTP Basic client authentication (RFC 6749 §2.3.1): the `Authorization` header's value as
//! sent, read by `client_auth::presented` as the token endpoint reads it.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idp::oidc::client_auth::{presented, Presented};
use idp::protocol::params::Params;
use libfuzzer_sys::fuzz_target;

fn form_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fuzz_target!(|data: &[u8]| {
    // A header value that is not visible ASCII is not text to actix, and so not Basic.
    let header = actix_web::http::header::HeaderValue::from_bytes(data).ok();
    let authorization = header.as_ref().and_then(|h| h.to_str().ok());
    let no_form = Params::new();
    match presented(authorization, &no_form) {
        Ok(Presented::Basic { id, secret }) => {
            // What a client library would send for these credentials reads back the same.
            let sent = format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encoded(&id), form_encoded(&secret))));
            match presented(Some(&sent), &no_form) {
                Ok(Presented::Basic { id: id2, secret: secret2 }) => {
                    assert_eq!((id2, secret2), (id, secret));
                }
                other => panic!("credentials written out again read as {other:?}"),
            }
        }
        Ok(other) => panic!("no form, yet {other:?}"),
        Err(_) => {}
    }
});
