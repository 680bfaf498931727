//! `oidcc-basic-certification-test-plan` (and, run with `response_mode=form_post`,
//! `oidcc-formpost-basic-certification-test-plan`).

//!
//! The modules that log in twice are in `second_login`, code reuse and refresh tokens in
//! `tokens`, request objects and request URIs in `request_object`; the others are here.

mod request_object;
mod second_login;
mod tokens;

use serde_json::{json, Value};

use crate::browser::Landing;
use crate::checks;
use crate::jose::{self, RsaSigner};
use crate::module::{random, Abort, AuthRequest, Module, Step, Test, UserinfoCall};
use crate::report::Severity::{Failure as F, Warning as W};

use request_object::{request_object_unsigned, request_object_with_redirect_uri, request_uri_unsigned};
use second_login::{
    id_token_hint, max_age_1, max_age_10000, prompt_login, prompt_none_logged_in, prompt_none_not_logged_in,
};
use tokens::{codereuse, codereuse_30seconds, refresh_token};

macro_rules! module {
    ($name:literal, $f:path) => {
        Module { name: $name, run: $f, configure: true }
    };
}

pub fn modules() -> Vec<Module> {
    vec![
        module!("oidcc-server", server),
        module!("oidcc-response-type-missing", response_type_missing),
        module!("oidcc-idtoken-signature", idtoken_signature),
        module!("oidcc-idtoken-unsigned", idtoken_unsigned),
        module!("oidcc-userinfo-get", userinfo_get),
        module!("oidcc-userinfo-post-header", userinfo_post_header),
        module!("oidcc-userinfo-post-body", userinfo_post_body),
        module!("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", without_nonce),
        module!("oidcc-scope-profile", scope_profile),
        module!("oidcc-scope-email", scope_email),
        module!("oidcc-scope-address", scope_address),
        module!("oidcc-scope-phone", scope_phone),
        module!("oidcc-scope-all", scope_all),
        module!("oidcc-alternate-happy-flow", alternate_happy_flow),
        module!("oidcc-display-page", display_page),
        module!("oidcc-display-popup", display_popup),
        module!("oidcc-prompt-login", prompt_login),
        module!("oidcc-prompt-none-not-logged-in", prompt_none_not_logged_in),
        module!("oidcc-prompt-none-logged-in", prompt_none_logged_in),
        module!("oidcc-max-age-1", max_age_1),
        module!("oidcc-max-age-10000", max_age_10000),
        module!("oidcc-ensure-request-with-unknown-parameter-succeeds", unknown_parameter),
        module!("oidcc-id-token-hint", id_token_hint),
        module!("oidcc-login-hint", login_hint),
        module!("oidcc-ui-locales", ui_locales),
        module!("oidcc-claims-locales", claims_locales),
        module!("oidcc-ensure-request-with-acr-values-succeeds", acr_values),
        module!("oidcc-codereuse", codereuse),
        module!("oidcc-codereuse-30seconds", codereuse_30seconds),
        module!("oidcc-ensure-registered-redirect-uri", registered_redirect_uri),
        module!("oidcc-ensure-post-request-succeeds", post_request),
        module!("oidcc-server-client-secret-post", server_client_secret_post),
        module!("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", request_uri_unsigned),
        module!(
            "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
            request_object_unsigned
        ),
        module!("oidcc-claims-essential", claims_essential),
        module!("oidcc-ensure-request-object-with-redirect-uri", request_object_with_redirect_uri),
        module!("oidcc-refresh-token", refresh_token),
        module!("oidcc-ensure-request-with-valid-pkce-succeeds", valid_pkce),
    ]
}

/// The happy flow of the Basic client, with the request changed by `edit`.
fn happy(t: &mut Test<'_>, edit: impl FnOnce(&mut AuthRequest)) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    edit(&mut req);
    t.code_flow(&req)?;
    Ok(())
}

fn server(t: &mut Test<'_>) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let req = t.basic_request();
    let visit = t.send(&req, true)?;
    let code = t.expect_code(&req, &visit)?;
    t.check("EnsureMinimumAuthorizationCodeLength", F, checks::ensure_code_length(&code));
    t.check("EnsureMinimumAuthorizationCodeEntropy", F, checks::ensure_entropy(&code, "authorization code"));
    let http = t.redeem(&req, &code)?;
    let tokens = t.expect_tokens(http)?;
    t.check(
        "ExtractExpiresInFromTokenEndpointResponse",
        W,
        match tokens.json.get("expires_in") {
            Some(_) => Ok("expires_in present".into()),
            None => Err("no expires_in in the token response".into()),
        },
    );
    let id_token = t.check_id_token(&tokens, &req)?;
    t.check(
        "EnsureIdTokenDoesNotContainName",
        W,
        match id_token.claim("name") {
            None => Ok("no name".into()),
            Some(_) => Err("name is in the ID token although only openid was requested".into()),
        },
    );
    t.check("EnsureIdTokenDoesNotContainNonRequestedClaims", W, checks::only_protocol_claims(&id_token, &[]));
    t.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
    Ok(())
}

fn response_type_missing(t: &mut Test<'_>) -> Step {
    let mut req = t.basic_request();
    req.remove("response_type");
    let visit = t.send(&req, true)?;
    match &visit.landing {
        Landing::Callback(_) => {
            let error = t.expect_error(&req, &visit)?;
            t.check(
                "CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType",
                F,
                checks::error_is_one_of(Some(&error), &["invalid_request", "unsupported_response_type"]),
            );
            Ok(())
        }
        Landing::Page { .. } => t.expect_error_page("ExpectResponseTypeMissingErrorPage", &visit, req.redirect_uri()),
    }
}

fn idtoken_signature(t: &mut Test<'_>) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let req = t.basic_request();
    let flow = t.code_flow(&req)?;
    t.check(
        "EnsureIdTokenContainsKid",
        F,
        match flow.id_token.kid() {
            Some(_) => Ok("kid present".into()),
            None => Err("the ID token header has no kid (OIDC Core §10.1)".into()),
        },
    );
    t.check(
        "EnsureIdTokenSignatureIsRS256",
        F,
        match flow.id_token.alg() {
            Some("RS256") => Ok("RS256".into()),
            other => Err(format!("alg {other:?}; RS256 is the default when no alg is registered")),
        },
    );
    Ok(())
}

fn idtoken_unsigned(t: &mut Test<'_>) -> Step {
    let supported = checks::string_array(&t.disc, "id_token_signing_alg_values_supported").unwrap_or_default();
    if !supported.contains(&"none") {
        return Err(Abort::Skip("`none` is not in id_token_signing_alg_values_supported".into()));
    }
    Err(Abort::Skip("`none` is advertised but needs a client registered with id_token_signed_response_alg=none".into()))
}

fn userinfo_with(t: &mut Test<'_>, how: UserinfoCall) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let req = t.basic_request();
    let (flow, _) = t.code_flow_keep_code(&req)?;
    // RFC 6750 §2.2: the form-body method is optional, so its refusal only warns.
    let severity = if how == UserinfoCall::PostBody { W } else { F };
    t.userinfo(&flow.tokens.access_token, how, &flow.id_token, severity)?;
    Ok(())
}

fn userinfo_get(t: &mut Test<'_>) -> Step {
    userinfo_with(t, UserinfoCall::Get)
}

fn userinfo_post_header(t: &mut Test<'_>) -> Step {
    userinfo_with(t, UserinfoCall::PostHeader)
}

fn userinfo_post_body(t: &mut Test<'_>) -> Step {
    userinfo_with(t, UserinfoCall::PostBody)
}

fn without_nonce(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.remove("nonce");
    })
}

fn scope_test(t: &mut Test<'_>, scopes: &[&str]) -> Step {
    if let Some(supported) = checks::string_array(&t.disc, "scopes_supported") {
        let missing: Vec<&&str> = scopes.iter().filter(|s| !supported.contains(s)).collect();
        if !missing.is_empty() {
            return Err(Abort::Skip(format!("scopes_supported does not list {missing:?}")));
        }
    }
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    req.set("scope", format!("openid {}", scopes.join(" ")));
    let flow = t.code_flow(&req)?;
    let claims = flow.userinfo.unwrap_or(Value::Null);
    t.check("VerifyScopesReturnedInUserInfoClaims", W, checks::scopes_returned(&claims, scopes));
    Ok(())
}

fn scope_profile(t: &mut Test<'_>) -> Step {
    scope_test(t, &["profile"])
}

fn scope_email(t: &mut Test<'_>) -> Step {
    scope_test(t, &["email"])
}

fn scope_address(t: &mut Test<'_>) -> Step {
    scope_test(t, &["address"])
}

fn scope_phone(t: &mut Test<'_>) -> Step {
    scope_test(t, &["phone"])
}

fn scope_all(t: &mut Test<'_>) -> Step {
    scope_test(t, &["profile", "email", "address", "phone"])
}

fn alternate_happy_flow(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        // RFC 6749 §3.3: the order of scopes does not matter; nor does the order of parameters.
        r.set("scope", "email openid");
        r.params.reverse();
    })
}

fn display_page(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.set("display", "page");
    })
}

fn display_popup(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.set("display", "popup");
    })
}

fn unknown_parameter(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.set("extra", "foobar");
    })
}

fn login_hint(t: &mut Test<'_>) -> Step {
    let host = t.target.issuer.host_str().unwrap_or("localhost").to_owned();
    happy(t, |r| {
        r.set("login_hint", format!("buffy@{host}"));
    })
}

fn ui_locales(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.set("ui_locales", "se");
    })
}

fn claims_locales(t: &mut Test<'_>) -> Step {
    happy(t, |r| {
        r.set("claims_locales", "se");
    })
}

fn post_request(t: &mut Test<'_>) -> Step {
    happy(t, |r| r.post = true)
}

fn valid_pkce(t: &mut Test<'_>) -> Step {
    let verifier = random(64);
    let challenge = jose::s256(&verifier);
    happy(t, |r| {
        r.set("code_challenge", challenge).set("code_challenge_method", "S256");
        r.code_verifier = Some(verifier);
    })
}

fn acr_values(t: &mut Test<'_>) -> Step {
    let values = checks::string_array(&t.disc, "acr_values_supported")
        .filter(|v| !v.is_empty())
        .map(|v| v.join(" "))
        .unwrap_or_else(|| "1 2".to_owned());
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    req.set("acr_values", values.clone());
    let flow = t.code_flow(&req)?;
    t.check(
        "ValidateIdTokenACRClaimAgainstAcrValuesRequest",
        W,
        match flow.id_token.str_claim("acr") {
            Some(acr) if values.split(' ').any(|v| v == acr) => Ok(format!("acr `{acr}` was requested")),
            Some(acr) => Err(format!("acr `{acr}` is not one of the requested `{values}`")),
            None => Err("no acr in the ID token".into()),
        },
    );
    Ok(())
}

fn registered_redirect_uri(t: &mut Test<'_>) -> Step {
    let mut req = t.basic_request();
    let bad = format!("{}/{}", t.target.client.redirect_uri.trim_end_matches('/'), random(10));
    req.set("redirect_uri", bad.clone());
    let visit = t.send(&req, true)?;
    t.expect_error_page("ExpectRedirectUriErrorPage", &visit, &bad)
}

fn server_client_secret_post(t: &mut Test<'_>) -> Step {
    let client =
        t.target.client_post.clone().ok_or(Abort::Skip("no client registered with client_secret_post".into()))?;
    t.ensure_auth_supported(&client)?;
    let req = t.request(&client);
    t.code_flow(&req)?;
    Ok(())
}

fn claims_essential(t: &mut Test<'_>) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    req.set("claims", json!({"userinfo": {"name": {"essential": true}}}).to_string());
    let flow = t.code_flow(&req)?;
    t.check(
        "EnsureUserInfoContainsName",
        W,
        match flow.userinfo.as_ref().and_then(|u| u.get("name")) {
            Some(_) => Ok("name returned".into()),
            None => Err("name was requested as essential but userinfo does not return it".into()),
        },
    );
    t.check(
        "EnsureIdTokenDoesNotContainName",
        W,
        match flow.id_token.claim("name") {
            None => Ok("no name in the ID token".into()),
            Some(_) => Err("name was requested for userinfo only but is in the ID token".into()),
        },
    );
    Ok(())
}

/// A key that is not the provider's, for hints that must be refused.
pub fn foreign_signer() -> Result<RsaSigner, String> {
    RsaSigner::generate("conformance-foreign").map_err(|e| e.to_string())
}
