//! The Basic modules about what the token endpoint hands out: a code used twice, refresh tokens.

use std::time::Duration;

use crate::checks;
use crate::jose::Jwt;
use crate::module::{int_claim, Abort, Step, Test, UserinfoCall};
use crate::report::Severity::{Failure as F, Warning as W};

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

pub(super) fn codereuse(t: &mut Test<'_>) -> Step {
    code_reuse(t, Duration::ZERO)
}

pub(super) fn codereuse_30seconds(t: &mut Test<'_>) -> Step {
    code_reuse(t, Duration::from_secs(30))
}

pub(super) fn refresh_token(t: &mut Test<'_>) -> Step {
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
        "EnsureServerConfigurationSupportsRefreshToken",
        W,
        checks::array_contains(&disc, "grant_types_supported", "refresh_token"),
    );
    t.check("EnsureRefreshTokenContainsAllowedCharactersOnly", F, checks::token_characters(&refresh, "refresh token"));
    let form =
        vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("refresh_token".to_owned(), refresh.clone())];
    let http = t.token_call(&client, form)?;
    let tokens = t.expect_tokens(http)?;
    t.check("EnsureMinimumAccessTokenEntropy", F, checks::ensure_entropy(&tokens.access_token, "access token"));
    t.check(
        "EnsureAccessTokenContainsAllowedCharactersOnly",
        F,
        checks::token_characters(&tokens.access_token, "access token"),
    );
    if let Some(raw) = &tokens.id_token {
        let second = t.require("ExtractIdTokenFromTokenResponse", Jwt::parse(raw))?;
        let jwks = t.jwks.clone();
        t.check("ValidateIdTokenSignature", F, checks::validate_signature(&second, &jwks));
        t.check("CompareIdTokenClaims", F, compare_refreshed(&flow.id_token, &second));
    }
    if let Some(new_refresh) = &tokens.refresh_token {
        t.check(
            "EnsureRefreshTokenContainsAllowedCharactersOnly",
            F,
            checks::token_characters(new_refresh, "new refresh token"),
        );
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
