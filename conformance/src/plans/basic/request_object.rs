//! The Basic modules that pass the request by value (`request`) or by reference (`request_uri`).

use serde_json::{json, Value};

use crate::browser::Landing;
use crate::checks;
use crate::jose;
use crate::module::{random, Abort, AuthRequest, Step, Test};
use crate::report::Severity::Failure as F;

fn request_object_claims(req: &AuthRequest, issuer: &str) -> Value {
    let mut claims = json!({"iss": req.client.client_id, "aud": issuer});
    for (k, v) in &req.params {
        claims[k] = json!(v);
    }
    claims
}

/// Honoured (the flow completes) or refused with the named error at the redirect URI.
fn honoured_or_refused(t: &mut Test<'_>, req: &AuthRequest, refusal: &str, condition: &str) -> Step {
    let visit = t.send(req, true)?;
    let callback = t.callback(req, &visit)?;
    if callback.param("error").is_some() {
        let error = t.expect_error(req, &visit)?;
        t.check(condition, F, checks::error_is_one_of(Some(&error), &[refusal]));
        return Ok(());
    }
    let code = t.expect_code(req, &visit)?;
    let http = t.redeem(req, &code)?;
    let tokens = t.expect_tokens(http)?;
    t.check_id_token(&tokens, req)?;
    Ok(())
}

pub(super) fn request_uri_unsigned(t: &mut Test<'_>) -> Step {
    let base = t.basic_request();
    let object = jose::unsigned(json!({}), &request_object_claims(&base, t.issuer()));
    let served = crate::backchannel::serve_once(object, "application/oauth-authz-req+jwt");
    let uri = t.require("ServeRequestObjectAtRequestUri", served.map_err(|e| e.to_string()))?;
    let mut req = base.clone();
    req.params.retain(|(k, _)| {
        ["client_id", "response_type", "scope", "redirect_uri", "state", "nonce", "response_mode"].contains(&k.as_str())
    });
    req.set("request_uri", uri);
    honoured_or_refused(
        t,
        &req,
        "request_uri_not_supported",
        "EnsureErrorFromAuthorizationEndpointResponseIsRequestUriNotSupported",
    )
}

fn request_object_support(t: &mut Test<'_>) -> Step {
    let algs = checks::string_array(&t.disc, "request_object_signing_alg_values_supported").unwrap_or_default();
    if !algs.contains(&"none") {
        return Err(Abort::Skip("`none` is not in request_object_signing_alg_values_supported".into()));
    }
    Ok(())
}

pub(super) fn request_object_unsigned(t: &mut Test<'_>) -> Step {
    request_object_support(t)?;
    let mut req = t.basic_request();
    let object = jose::unsigned(json!({}), &request_object_claims(&req, t.issuer()));
    req.set("request", object);
    honoured_or_refused(
        t,
        &req,
        "request_not_supported",
        "EnsureErrorFromAuthorizationEndpointResponseIsRequestNotSupported",
    )
}

pub(super) fn request_object_with_redirect_uri(t: &mut Test<'_>) -> Step {
    request_object_support(t)?;
    let good = t.basic_request();
    let object = jose::unsigned(json!({}), &request_object_claims(&good, t.issuer()));
    let mut req = good.clone();
    let bad = format!("{}/{}", good.redirect_uri().trim_end_matches('/'), random(8));
    req.set("redirect_uri", bad.clone()).set("request", object);
    let visit = t.send(&req, true)?;
    match &visit.landing {
        Landing::Callback(c) if c.base() == good.redirect_uri() => {
            t.expect_code(&good, &visit)?;
            Ok(())
        }
        _ => t.expect_error_page("ExpectRedirectUriErrorPage", &visit, &bad),
    }
}
