//! `oidcc-config-certification-test-plan` and the discovery modules of the logout plans.

use serde_json::Value;

use crate::checks;
use crate::module::{Module, Step, Test};
use crate::report::Severity::{Failure as F, Info as I, Warning as W};

pub fn modules() -> Vec<Module> {
    vec![Module {
        name: "oidcc-discovery-endpoint-verification",
        run: discovery_endpoint_verification,
        configure: false,
    }]
}

/// `OIDCCDiscoveryEndpointVerification.performEndpointVerification`.
pub fn discovery_endpoint_verification(t: &mut Test<'_>) -> Step {
    t.fetch_discovery()?;
    let disc = t.disc.clone();
    let url = t.target.discovery_url();
    t.check("OIDCCCheckDiscEndpointResponseTypesSupported", F, checks::response_types_supported(&disc));
    t.check("CheckDiscEndpointDiscoveryUrl", F, checks::discovery_url(&url));
    t.check("CheckDiscEndpointIssuer", F, checks::discovery_issuer(&disc, &url));
    match checks::issuer_valid_url(&disc) {
        Ok(issuer) => {
            t.check("CheckDiscEndpointIssuerIsValidUrl", F, Ok("a URL without query or fragment".into()));
            t.check("CheckDiscEndpointIssuerIsHttps", F, checks::https(&issuer, "issuer"));
        }
        Err(e) => {
            t.check("CheckDiscEndpointIssuerIsValidUrl", F, Err(e));
        }
    }
    t.check("CheckDiscEndpointSubjectTypesSupported", F, checks::subject_types_supported(&disc));
    t.check(
        "OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported",
        F,
        checks::array_contains(&disc, "id_token_signing_alg_values_supported", "RS256"),
    );
    if disc.get("userinfo_signing_alg_values_supported").is_some() {
        let ok = checks::string_array(&disc, "userinfo_signing_alg_values_supported").is_some_and(|l| {
            !l.is_empty() && l.len() == disc["userinfo_signing_alg_values_supported"].as_array().map_or(0, Vec::len)
        });
        t.check(
            "OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported",
            F,
            if ok { Ok("well-formed".into()) } else { Err("not a non-empty array of strings".into()) },
        );
    }
    endpoint_check(t, "CheckDiscEndpointAuthorizationEndpoint", "authorization_endpoint", F);
    endpoint_check(t, "CheckDiscEndpointTokenEndpoint", "token_endpoint", F);
    if disc.get("userinfo_endpoint").is_some() {
        endpoint_check(t, "CheckDiscEndpointUserinfoEndpoint", "userinfo_endpoint", F);
    } else {
        t.check("CheckDiscEndpointUserinfoEndpoint", W, Err("no userinfo_endpoint (recommended)".into()));
    }
    if disc.get("registration_endpoint").is_some() {
        endpoint_check(t, "CheckDiscEndpointRegistrationEndpoint", "registration_endpoint", F);
    }
    endpoint_check(t, "CheckJwksUri", "jwks_uri", F);
    t.fetch_keys()?;
    // The suite's `AbstractValidateJsonBoolean` conditions: they hold when the member is true,
    // and are information only (none of these features is required).
    for (name, member) in [
        ("CheckDiscEndpointRequestParameterSupported", "request_parameter_supported"),
        ("CheckDiscEndpointRequestUriParameterSupported", "request_uri_parameter_supported"),
        ("CheckDiscEndpointClaimsParameterSupported", "claims_parameter_supported"),
    ] {
        t.check(
            name,
            I,
            match disc.get(member) {
                Some(Value::Bool(true)) => Ok(format!("{member} is true")),
                other => Err(format!("{member} is {}", other.map_or("absent".to_owned(), Value::to_string))),
            },
        );
    }
    if disc.get("request_object_signing_alg_values_supported").is_some() {
        t.check(
            "CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256",
            W,
            checks::array_contains(&disc, "request_object_signing_alg_values_supported", "RS256"),
        );
    }
    t.check(
        "OIDCCCheckDiscEndpointClaimsSupported",
        W,
        match checks::string_array(&disc, "claims_supported") {
            Some(l) if !l.is_empty() => Ok(format!("{} claims", l.len())),
            _ => Err("claims_supported is absent or empty (recommended)".into()),
        },
    );
    t.check(
        "OIDCCCheckDiscEndpointGrantTypesSupported",
        F,
        match disc.get("grant_types_supported") {
            None => Ok("absent (defaults apply)".into()),
            Some(Value::Array(l)) if !l.is_empty() && l.iter().all(Value::is_string) => Ok("a non-empty array".into()),
            Some(v) => Err(format!("grant_types_supported {v} is not a non-empty array of strings")),
        },
    );
    if disc.get("scopes_supported").is_some() {
        t.check(
            "CheckDiscEndpointScopesSupportedContainsOpenId",
            F,
            checks::array_contains(&disc, "scopes_supported", "openid"),
        );
    } else {
        t.check("CheckDiscEndpointScopesSupportedContainsOpenId", W, Err("scopes_supported is absent".into()));
    }
    t.check("CheckDiscEndpointScopesSupportedSyntax", F, checks::scopes_syntax(&disc));
    t.check("CheckDiscEndpointLocalesSyntax", F, checks::locales(&disc, false));
    t.check("CheckDiscEndpointLocalesCanonicalCasing", W, checks::locales(&disc, true));
    all_endpoints_https(t);
    t.check(
        "EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray",
        F,
        match disc.get("code_challenge_methods_supported") {
            None | Some(Value::Array(_)) => Ok("absent or an array".into()),
            Some(v) => Err(format!("{v} is not an array")),
        },
    );
    check_metadata_types(t);
    Ok(())
}

/// Each member of the metadata has its type, and the required and recommended ones are there
/// (OpenID Connect Discovery 1.0 §3): one condition per member, see `checks::DISCOVERY_METADATA`.
pub fn check_metadata_types(t: &mut Test<'_>) {
    for member in checks::DISCOVERY_METADATA {
        if let Some((severity, result)) = checks::metadata_member(&t.disc, member) {
            t.check(member.condition, severity, result);
        }
    }
}

/// An endpoint present, a URL and https, at `severity` (as the suite's condition).
pub fn endpoint_check(t: &mut Test<'_>, name: &str, member: &str, severity: crate::report::Severity) {
    let result = checks::endpoint(&t.disc, member).and_then(|url| checks::https(&url, member));
    t.check(name, severity, result);
}

/// `CheckDiscEndpointAllEndpointsAreHttps`.
pub fn all_endpoints_https(t: &mut Test<'_>) {
    let plain: Vec<String> = checks::all_endpoints(&t.disc)
        .into_iter()
        .filter(|(_, u)| !u.starts_with("https://"))
        .map(|(k, _)| k)
        .collect();
    t.check(
        "CheckDiscEndpointAllEndpointsAreHttps",
        F,
        if plain.is_empty() {
            Ok("every endpoint is https".into())
        } else {
            Err(format!("not https: {}", plain.join(", ")))
        },
    );
}
