//! `POST /token` (and the revocation and introspection endpoints, which read the same form):
//! the body as sent, checked by `ClientForm::check`, then the client's credentials read by
//! `client_auth::presented`. The input is the body, then after a `0xFF` byte the
//! `Authorization` header's value, if any.
#![no_main]

use idp::oidc::client_auth::{presented, Presented};
use idp::oidc::client_form::ClientForm;
use idp::protocol::params::{max_value_bytes, ProtocolParams, MAX_REQUEST_BYTES};
use idp_fuzz::two_parts;
use libfuzzer_sys::fuzz_target;

const FORM: &str = "application/x-www-form-urlencoded";

fuzz_target!(|data: &[u8]| {
    let (body, header) = two_parts(data);
    let header = header.and_then(|h| actix_web::http::header::HeaderValue::from_bytes(h).ok());
    let authorization = header.as_ref().and_then(|h| h.to_str().ok());

    assert!(ClientForm::check("application/json", body).is_err(), "only a form body is read");
    let form = match ClientForm::check(FORM, body) {
        Ok(ClientForm(form)) => form,
        Err(_) => {
            assert!(ProtocolParams::parse(body).fault().is_some(), "a body without fault refused");
            return;
        }
    };
    assert!(body.len() <= MAX_REQUEST_BYTES);
    for (name, value) in &form {
        assert!(value.len() <= max_value_bytes(name), "{name} over its limit");
    }
    // Written out again, the form reads the same. Percent-encoding may make it longer than the
    // body that was sent (a raw byte becomes three): over the whole request's limit, the
    // refusal is the limit's, and right.
    let written = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish();
    match ClientForm::check(FORM, written.as_bytes()) {
        Ok(ClientForm(again)) => assert_eq!(again, form),
        Err(_) if written.len() > MAX_REQUEST_BYTES => {}
        Err(e) => panic!("an accepted form written out again is refused: {e:?}"),
    }

    let given = |name: &str| form.get(name).filter(|v| !v.is_empty());
    match presented(authorization, &form) {
        Ok(Presented::Basic { .. }) => assert!(authorization.is_some()),
        Ok(Presented::Post { id, secret }) => {
            assert_eq!(given("client_id"), Some(&id));
            assert_eq!(given("client_secret"), Some(&secret));
        }
        Ok(Presented::Assertion { assertion, id }) => {
            assert_eq!(given("client_assertion"), Some(&assertion));
            assert_eq!(given("client_id"), id.as_ref());
            assert_eq!(
                form.get("client_assertion_type").map(String::as_str),
                Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            );
        }
        Ok(Presented::IdOnly { id }) => {
            assert_eq!(given("client_id"), Some(&id));
            assert!(given("client_secret").is_none() && given("client_assertion").is_none());
        }
        Err(_) => {}
    }
});
