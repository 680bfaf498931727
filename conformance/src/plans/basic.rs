//! `oidcc-basic-certification-test-plan` (and, run with `response_mode=form_post`,
//! `oidcc-formpost-basic-certification-test-plan`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::Landing;
use crate::checks;
use crate::jose::{self, Jwt, RsaSigner};
use crate::module::{int_claim, random, Abort, AuthRequest, Module, Step, Test, UserinfoCall};
use crate::report::Severity::{Failure as F, Warning as W};

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

/// The first login of a two-request module.
fn first_login(t: &mut Test<'_>, edit: impl FnOnce(&mut AuthRequest)) -> Step<Jwt> {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    edit(&mut req);
    let flow = t.code_flow(&req)?;
    Ok(flow.id_token)
}

/// The second request, made without submitting any form when `silent`.
fn second_login(t: &mut Test<'_>, silent: bool, edit: impl FnOnce(&mut AuthRequest)) -> Step<(Jwt, bool)> {
    let mut req = t.basic_request();
    edit(&mut req);
    let visit = t.send(&req, !silent)?;
    let asked = visit.asked_to_log_in();
    let code = t.expect_code(&req, &visit)?;
    let http = t.redeem(&req, &code)?;
    let tokens = t.expect_tokens(http)?;
    let id_token = t.check_id_token(&tokens, &req)?;
    t.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
    Ok((id_token, asked))
}

fn same_sub(t: &mut Test<'_>, first: &Jwt, second: &Jwt) {
    t.check(
        "CheckIdTokenSubConsistentHybridFlow",
        F,
        match (first.str_claim("sub"), second.str_claim("sub")) {
            (Some(a), Some(b)) if a == b => Ok("same sub in both ID tokens".into()),
            (a, b) => Err(format!("sub changed from {a:?} to {b:?}")),
        },
    );
}

fn same_auth_time(t: &mut Test<'_>, first: &Jwt, second: &Jwt, required: bool) {
    t.check(
        "CheckIdTokenAuthTimeIsUnchanged",
        F,
        match (int_claim(first, "auth_time"), int_claim(second, "auth_time")) {
            (Some(a), Some(b)) if a == b => Ok("same auth_time".into()),
            (Some(a), Some(b)) => Err(format!("auth_time changed from {a} to {b} without a new login")),
            (None, None) if !required => Ok("no auth_time".into()),
            (a, b) => Err(format!("auth_time must be in both ID tokens: {a:?}, {b:?}")),
        },
    );
}

fn prompt_login(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    std::thread::sleep(Duration::from_secs(1));
    let (second, asked) = second_login(t, false, |r| {
        r.set("prompt", "login");
    })?;
    t.check(
        "ExpectReauthenticationForPromptLogin",
        F,
        if asked {
            Ok("the helper was asked to log in again".into())
        } else {
            Err("prompt=login did not make the provider authenticate the user again".into())
        },
    );
    t.check(
        "CheckSecondIdTokenAuthTimeIsLaterIfPresent",
        F,
        match (int_claim(&first, "auth_time"), int_claim(&second, "auth_time")) {
            (Some(a), Some(b)) if b > a => Ok("auth_time moved forward".into()),
            (Some(a), Some(b)) => Err(format!("second auth_time {b} is not later than the first {a}")),
            _ => Ok("auth_time absent".into()),
        },
    );
    same_sub(t, &first, &second);
    Ok(())
}

fn prompt_none_not_logged_in(t: &mut Test<'_>) -> Step {
    let mut fresh = t.browser.fresh();
    std::mem::swap(t.browser, &mut fresh);
    let outcome = (|| {
        let mut req = t.basic_request();
        req.set("prompt", "none").set("state", random(128));
        let visit = t.send(&req, false)?;
        let error = t.expect_error(&req, &visit)?;
        t.check(
            "CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface",
            F,
            checks::error_is_one_of(
                Some(&error),
                &["login_required", "interaction_required", "account_selection_required", "consent_required"],
            ),
        );
        Ok(())
    })();
    std::mem::swap(t.browser, &mut fresh);
    outcome
}

fn prompt_none_logged_in(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    let (second, _) = second_login(t, true, |r| {
        r.set("prompt", "none");
    })?;
    same_auth_time(t, &first, &second, false);
    same_sub(t, &first, &second);
    Ok(())
}

fn max_age_1(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    std::thread::sleep(Duration::from_secs(2));
    let (second, asked) = second_login(t, false, |r| {
        r.set("max_age", "1");
    })?;
    t.check(
        "ExpectReauthenticationForMaxAge",
        F,
        if asked {
            Ok("the helper was asked to log in again".into())
        } else {
            Err("max_age=1 after 2 s did not make the provider authenticate the user again".into())
        },
    );
    let auth_time = int_claim(&second, "auth_time");
    t.check(
        "RequireIdTokenAuthTime",
        F,
        auth_time
            .map(|_| "auth_time present".into())
            .ok_or_else(|| "max_age was sent: auth_time is required (OIDC Core §3.1.2.1)".into()),
    );
    if let Some(b) = auth_time {
        t.check(
            "CheckSecondIdTokenAuthTimeIsLaterIfPresent",
            F,
            match int_claim(&first, "auth_time") {
                Some(a) if b <= a => Err(format!("auth_time {b} is not later than the first login's {a}")),
                _ => Ok("auth_time moved forward".into()),
            },
        );
        t.check(
            "CheckIdTokenAuthTimeIsRecentIfPresent",
            F,
            if b >= checks::now() - 60 {
                Ok("auth_time is recent".into())
            } else {
                Err(format!("auth_time {b} is not from this login"))
            },
        );
    }
    same_sub(t, &first, &second);
    Ok(())
}

fn max_age_10000(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |r| {
        r.set("max_age", "15000");
    })?;
    t.check(
        "RequireIdTokenAuthTime",
        F,
        int_claim(&first, "auth_time")
            .map(|_| "auth_time present".into())
            .ok_or_else(|| "max_age was sent: auth_time is required".into()),
    );
    let (second, asked) = second_login(t, false, |r| {
        r.set("max_age", "10000");
    })?;
    t.check(
        "ExpectNoReauthenticationForMaxAge",
        F,
        if asked {
            Err("max_age=10000 right after a login made the provider ask for credentials again".into())
        } else {
            Ok("no new login".into())
        },
    );
    same_auth_time(t, &first, &second, true);
    same_sub(t, &first, &second);
    Ok(())
}

fn id_token_hint(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    let (second, _) = second_login(t, true, |r| {
        r.set("prompt", "none").set("id_token_hint", first.raw.clone());
    })?;
    same_auth_time(t, &first, &second, false);
    same_sub(t, &first, &second);
    Ok(())
}

fn code_reuse(t: &mut Test<'_>, wait: Duration) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let req = t.basic_request();
    let (flow, code) = t.code_flow_keep_code(&req)?;
    std::thread::sleep(wait);
    let again = t.redeem(&req, &code)?;
    t.expect_token_error(&again, "invalid_grant");
    if !wait.is_zero() {
        // RFC 6749 §4.1.2: the provider SHOULD revoke the tokens issued from the reused code.
        let url = t.endpoint("userinfo_endpoint").map_err(|_| Abort::Skip("no userinfo endpoint".into()))?;
        let status = t.http.get(url).bearer_auth(&flow.tokens.access_token).send().map(|r| r.status().as_u16());
        t.check(
            "EnsureHttpStatusCodeIs4xx",
            W,
            match status {
                Ok(s) if (400..500).contains(&s) => Ok(format!("the first access token is refused ({s})")),
                Ok(s) => Err(format!("the access token from the reused code still works (HTTP {s})")),
                Err(e) => Err(e.to_string()),
            },
        );
    }
    Ok(())
}

fn codereuse(t: &mut Test<'_>) -> Step {
    code_reuse(t, Duration::ZERO)
}

fn codereuse_30seconds(t: &mut Test<'_>) -> Step {
    code_reuse(t, Duration::from_secs(30))
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

fn request_uri_unsigned(t: &mut Test<'_>) -> Step {
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

fn request_object_unsigned(t: &mut Test<'_>) -> Step {
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

fn request_object_with_redirect_uri(t: &mut Test<'_>) -> Step {
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

fn refresh_token(t: &mut Test<'_>) -> Step {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let offline = checks::string_array(&t.disc, "scopes_supported").is_some_and(|s| s.contains(&"offline_access"));
    let mut req = t.basic_request();
    if offline {
        req.set("scope", "openid offline_access");
    }
    let (flow, _) = t.code_flow_keep_code(&req)?;
    let Some(refresh) = flow.tokens.refresh_token.clone() else {
        return Err(Abort::Skip("no refresh_token was issued".into()));
    };
    let disc = t.disc.clone();
    t.check(
        "CheckDiscEndpointGrantTypesSupportedContainsRefreshToken",
        W,
        checks::array_contains(&disc, "grant_types_supported", "refresh_token"),
    );
    t.check("ValidateRefreshTokenNotRotated", F, checks::token_characters(&refresh, "refresh token"));
    let form =
        vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("refresh_token".to_owned(), refresh.clone())];
    let http = t.token_call(&client, form)?;
    let tokens = t.expect_tokens(http)?;
    t.check("EnsureMinimumAccessTokenEntropy", F, checks::ensure_entropy(&tokens.access_token, "access token"));
    t.check("ValidateAccessTokenCharacters", F, checks::token_characters(&tokens.access_token, "access token"));
    if let Some(raw) = &tokens.id_token {
        let second = t.require("ExtractIdTokenFromTokenResponse", Jwt::parse(raw))?;
        let jwks = t.jwks.clone();
        t.check("ValidateIdTokenSignature", F, checks::validate_signature(&second, &jwks));
        t.check("CompareIdTokenClaims", F, compare_refreshed(&flow.id_token, &second));
    }
    if let Some(new_refresh) = &tokens.refresh_token {
        t.check("ValidateRefreshTokenCharacters", F, checks::token_characters(new_refresh, "new refresh token"));
    }
    let id_token = flow.id_token.clone();
    t.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
    // The second client's refresh token presented by the first client.
    if let Some(client2) = t.target.client2.clone() {
        let mut req2 = t.request(&client2);
        req2.set("scope", req.get("scope").unwrap_or("openid"));
        let (flow2, _) = t.code_flow_keep_code(&req2)?;
        if let Some(refresh2) = flow2.tokens.refresh_token {
            let form =
                vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("refresh_token".to_owned(), refresh2)];
            let http = t.token_call(&client, form)?;
            t.expect_token_error(&http, "invalid_grant");
        } else {
            t.info("CheckForRefreshTokenValue", "the second client got no refresh token");
        }
    }
    Ok(())
}

/// OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud and auth_time, and is newer.
fn compare_refreshed(first: &Jwt, second: &Jwt) -> checks::Check {
    for claim in ["iss", "sub", "aud", "auth_time", "azp"] {
        if second.claim(claim).is_some() || claim != "azp" {
            if claim == "auth_time" && second.claim(claim).is_none() {
                continue;
            }
            if first.claim(claim) != second.claim(claim) {
                return Err(format!("{claim} changed: {:?} → {:?}", first.claim(claim), second.claim(claim)));
            }
        }
    }
    match (int_claim(first, "iat"), int_claim(second, "iat")) {
        (Some(a), Some(b)) if b < a => Err(format!("the refreshed ID token's iat {b} is older than {a}")),
        _ => Ok("iss, sub, aud, auth_time kept".into()),
    }
}

/// A key that is not the provider's, for hints that must be refused.
pub fn foreign_signer() -> Result<RsaSigner, String> {
    RsaSigner::generate("conformance-foreign").map_err(|e| e.to_string())
}
