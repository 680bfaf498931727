//! `oidcc-rp-initiated-logout-certification-test-plan` and
//! `oidcc-backchannel-rp-initiated-logout-certification-test-plan`.

use std::time::Duration;

use serde_json::json;
use url::Url;

use crate::browser::{Landing, Start, Visit};
use crate::checks;
use crate::jose::{self, Jwt};
use crate::module::{random, Abort, Module, Step, Test};
use crate::plans::config::{all_endpoints_https, endpoint_check};
use crate::report::Severity::{Failure as F, Warning as W};
use crate::target::ClientConfig;

macro_rules! module {
    ($name:literal, $f:path) => {
        Module { name: $name, run: $f, configure: true }
    };
}

pub fn rp_initiated_modules() -> Vec<Module> {
    vec![
        Module {
            name: "oidcc-rp-initiated-logout-discovery-endpoint-verification",
            run: rp_discovery,
            configure: false,
        },
        module!("oidcc-rp-initiated-logout", logout),
        module!("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", bad_post_logout_redirect_uri),
        module!("oidcc-rp-initiated-logout-modified-id-token-hint", modified_id_token_hint),
        module!("oidcc-rp-initiated-logout-no-id-token-hint", no_id_token_hint),
        module!("oidcc-rp-initiated-logout-no-params", no_params),
        module!("oidcc-rp-initiated-logout-no-post-logout-redirect-uri", no_post_logout_redirect_uri),
        module!("oidcc-rp-initiated-logout-no-state", no_state),
        module!("oidcc-rp-initiated-logout-only-state", only_state),
        module!("oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri", query_added),
        module!("oidcc-rp-initiated-logout-bad-id-token-hint", bad_id_token_hint),
    ]
}

pub fn backchannel_modules() -> Vec<Module> {
    vec![
        Module {
            name: "oidcc-backchannel-logout-discovery-endpoint-verification",
            run: backchannel_discovery,
            configure: false,
        },
        module!("oidcc-backchannel-rp-initiated-logout", backchannel_logout),
    ]
}

fn rp_discovery(t: &mut Test<'_>) -> Step {
    t.fetch_discovery()?;
    endpoint_check(t, "CheckDiscEndSessionEndpoint", "end_session_endpoint", F);
    all_endpoints_https(t);
    Ok(())
}

fn backchannel_discovery(t: &mut Test<'_>) -> Step {
    rp_discovery(t)?;
    let disc = t.disc.clone();
    for (name, member) in [
        ("CheckDiscEndpointBackchannelLogoutSupported", "backchannel_logout_supported"),
        ("CheckDiscEndpointBackchannelLogoutSessionSupported", "backchannel_logout_session_supported"),
    ] {
        t.check(
            name,
            F,
            match disc.get(member).and_then(serde_json::Value::as_bool) {
                Some(true) => Ok(format!("{member} true")),
                other => Err(format!("{member} is {other:?}; true is required")),
            },
        );
    }
    Ok(())
}

fn logout_client(t: &Test<'_>) -> Step<ClientConfig> {
    t.target.logout_client.clone().ok_or(Abort::Skip("no client registered with a post_logout_redirect_uri".into()))
}

/// Logs in with the client; returns the ID token.
fn login(t: &mut Test<'_>, client: &ClientConfig) -> Step<Jwt> {
    t.ensure_auth_supported(client)?;
    let req = t.request(client);
    Ok(t.code_flow(&req)?.id_token)
}

/// Sends the browser to end_session_endpoint with these parameters.
fn end_session(t: &mut Test<'_>, params: &[(&str, String)], submit: bool) -> Step<Visit> {
    let endpoint = t.endpoint("end_session_endpoint");
    let mut url: Url = t.require("CheckDiscEndSessionEndpoint", endpoint)?;
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let visit = t.browser.visit(Start::Get(url), submit);
    t.require("BrowserFollowsEndSessionRequest", visit)
}

/// The provider sent the browser to the post-logout redirect URI with the state.
fn expect_post_logout_redirect(t: &mut Test<'_>, visit: &Visit, client: &ClientConfig, state: Option<&str>) -> Step {
    let expected = client.post_logout_redirect_uri.clone().unwrap_or_default();
    let callback = match &visit.landing {
        Landing::Callback(c) => c,
        Landing::Page { status, url, .. } => {
            return t.require(
                "CheckForPostLogoutRedirect",
                Err(format!("no redirect to the post_logout_redirect_uri: status {status} at {url}")),
            );
        }
    };
    t.require("CheckForPostLogoutRedirect", checks::check_matching_callback(&callback.base(), &expected))?;
    t.check("CheckPostLogoutState", F, checks::check_state(callback.param("state"), state));
    let extra: Vec<&str> = callback.query.iter().map(|(k, _)| k.as_str()).filter(|k| *k != "state").collect();
    t.check(
        "CheckForUnexpectedParametersInPostLogoutRedirect",
        W,
        if extra.is_empty() {
            Ok("only state".into())
        } else {
            Err(format!("unexpected parameters: {}", extra.join(", ")))
        },
    );
    Ok(())
}

/// The provider showed its own page and did not redirect.
fn expect_logged_out_page(t: &mut Test<'_>, visit: &Visit) -> Step {
    match &visit.landing {
        Landing::Page { status, .. } if (200..300).contains(status) => {
            t.check("CheckLogoutPageShown", F, Ok(format!("the provider's page ({status})")));
            Ok(())
        }
        other => t.require(
            "CheckLogoutPageShown",
            Err(format!("expected the provider's logged-out page, got {}", other.describe())),
        ),
    }
}

/// The session is gone: prompt=none must fail with a user-interface error.
fn expect_session_ended(t: &mut Test<'_>, client: &ClientConfig) -> Step {
    let mut req = t.request(client);
    req.set("prompt", "none");
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
}

/// A request the provider must not honour with a redirect (it shows an error or asks the user).
fn expect_no_post_logout_redirect(t: &mut Test<'_>, visit: &Visit, not_to: &str) -> Step {
    match &visit.landing {
        Landing::Callback(c) if c.url.as_str().starts_with(not_to) => {
            t.require("ExpectNoPostLogoutRedirect", Err(format!("the provider redirected to {}", c.url)))
        }
        other => {
            t.check("ExpectNoPostLogoutRedirect", F, Ok(format!("no redirect: {}", other.describe())));
            Ok(())
        }
    }
}

fn full_logout(t: &mut Test<'_>, with_state: bool) -> Step {
    let client = logout_client(t)?;
    let id_token = login(t, &client)?;
    let state = with_state.then(|| random(16));
    let mut params = vec![
        ("id_token_hint", id_token.raw.clone()),
        ("post_logout_redirect_uri", client.post_logout_redirect_uri.clone().unwrap_or_default()),
    ];
    if let Some(s) = &state {
        params.push(("state", s.clone()));
    }
    let visit = end_session(t, &params, true)?;
    expect_post_logout_redirect(t, &visit, &client, state.as_deref())?;
    expect_session_ended(t, &client)
}

fn logout(t: &mut Test<'_>) -> Step {
    full_logout(t, true)
}

fn no_state(t: &mut Test<'_>) -> Step {
    full_logout(t, false)
}

fn logged_out_without_redirect(t: &mut Test<'_>, params: impl FnOnce(&Jwt) -> Vec<(&'static str, String)>) -> Step {
    let client = logout_client(t)?;
    let id_token = login(t, &client)?;
    let visit = end_session(t, &params(&id_token), true)?;
    expect_logged_out_page(t, &visit)?;
    expect_session_ended(t, &client)
}

fn no_params(t: &mut Test<'_>) -> Step {
    logged_out_without_redirect(t, |_| vec![])
}

fn only_state(t: &mut Test<'_>) -> Step {
    logged_out_without_redirect(t, |_| vec![("state", random(16))])
}

fn no_post_logout_redirect_uri(t: &mut Test<'_>) -> Step {
    logged_out_without_redirect(t, |id| vec![("id_token_hint", id.raw.clone()), ("state", random(16))])
}

fn refused(t: &mut Test<'_>, params: impl FnOnce(&Jwt, &str) -> Result<Vec<(&'static str, String)>, String>) -> Step {
    let client = logout_client(t)?;
    let id_token = login(t, &client)?;
    let registered = client.post_logout_redirect_uri.clone().unwrap_or_default();
    let params = t.require("BuildEndSessionRequest", params(&id_token, &registered))?;
    let target =
        params.iter().find(|(k, _)| *k == "post_logout_redirect_uri").map(|(_, v)| v.clone()).unwrap_or(registered);
    let visit = end_session(t, &params, false)?;
    expect_no_post_logout_redirect(t, &visit, &target)
}

fn bad_post_logout_redirect_uri(t: &mut Test<'_>) -> Step {
    refused(t, |id, uri| {
        Ok(vec![
            ("id_token_hint", id.raw.clone()),
            ("post_logout_redirect_uri", format!("{}/{}", uri.trim_end_matches('/'), random(8))),
            ("state", random(16)),
        ])
    })
}

fn query_added(t: &mut Test<'_>) -> Step {
    refused(t, |id, uri| {
        let sep = if uri.contains('?') { '&' } else { '?' };
        Ok(vec![
            ("id_token_hint", id.raw.clone()),
            ("post_logout_redirect_uri", format!("{uri}{sep}foo=bar")),
            ("state", random(16)),
        ])
    })
}

fn no_id_token_hint(t: &mut Test<'_>) -> Step {
    refused(t, |_, uri| Ok(vec![("post_logout_redirect_uri", uri.to_owned()), ("state", random(16))]))
}

fn modified_id_token_hint(t: &mut Test<'_>) -> Step {
    refused(t, |id, uri| {
        let modified = jose::unsigned(json!({"typ": "JWT"}), &id.claims);
        Ok(vec![("id_token_hint", modified), ("post_logout_redirect_uri", uri.to_owned()), ("state", random(16))])
    })
}

fn bad_id_token_hint(t: &mut Test<'_>) -> Step {
    refused(t, |id, uri| {
        let signer = crate::plans::basic::foreign_signer()?;
        let forged = signer.sign(json!({"kid": id.kid().unwrap_or("k")}), &id.claims);
        Ok(vec![("id_token_hint", forged), ("post_logout_redirect_uri", uri.to_owned()), ("state", random(16))])
    })
}

fn backchannel_logout(t: &mut Test<'_>) -> Step {
    let bc =
        t.target.backchannel.clone().ok_or(Abort::Skip("no client registered with a backchannel_logout_uri".into()))?;
    let client = bc.client.clone();
    bc.receiver.clear();
    let id_token = login(t, &client)?;
    t.check(
        "CheckIdTokenHasSid",
        F,
        id_token
            .str_claim("sid")
            .map(|_| "sid present".to_owned())
            .ok_or_else(|| "the ID token has no sid (backchannel_logout_session_required)".to_owned()),
    );
    let state = random(16);
    let params = vec![
        ("id_token_hint", id_token.raw.clone()),
        ("post_logout_redirect_uri", client.post_logout_redirect_uri.clone().unwrap_or_default()),
        ("state", state.clone()),
    ];
    let visit = end_session(t, &params, true)?;
    let delivery = bc.receiver.wait(Duration::from_secs(10));
    let delivery = t.require(
        "WaitForBackChannelLogoutRequest",
        delivery.ok_or_else(|| "no back-channel logout request within 10 s".to_owned()),
    )?;
    t.check(
        "CheckBackChannelLogoutRequestIsPost",
        F,
        if delivery.method == "POST" { Ok("POST".into()) } else { Err(delivery.method.clone()) },
    );
    t.check(
        "CheckBackChannelLogoutRequestContentType",
        F,
        match delivery.content_type.as_deref() {
            Some(c) if c.starts_with("application/x-www-form-urlencoded") => Ok(c.to_owned()),
            other => Err(format!("Content-Type {other:?}")),
        },
    );
    let extra: Vec<&str> = delivery.form.iter().map(|(k, _)| k.as_str()).filter(|k| *k != "logout_token").collect();
    t.check(
        "CheckForUnexpectedParametersInBackChannelLogoutRequest",
        W,
        if extra.is_empty() {
            Ok("only logout_token".into())
        } else {
            Err(format!("unexpected: {}", extra.join(", ")))
        },
    );
    let raw = delivery.form.iter().find(|(k, _)| k == "logout_token").map(|(_, v)| v.clone());
    let raw = t.require("ExtractLogoutTokenFromBackChannelRequest", raw.ok_or_else(|| "no logout_token".to_owned()))?;
    let token = t.require("ExtractLogoutTokenFromBackChannelRequest", Jwt::parse(&raw))?;
    let jwks = t.jwks.clone();
    t.check("ValidateLogoutTokenSignature", F, checks::validate_signature(&token, &jwks));
    t.check(
        "CheckLogoutTokenTyp",
        W,
        match token.header.get("typ").and_then(serde_json::Value::as_str) {
            Some("logout+jwt") => Ok("typ logout+jwt".into()),
            other => Err(format!("typ {other:?}; logout+jwt is recommended (Back-Channel Logout §2.4)")),
        },
    );
    let issuer = t.issuer().to_owned();
    for (name, result) in checks::validate_logout_token(&token, &issuer, &client.client_id, &id_token) {
        t.check(name, F, result);
    }
    expect_post_logout_redirect(t, &visit, &client, Some(&state))?;
    expect_session_ended(t, &client)
}
