//! The members of the provider's metadata and the JSON type of each (OpenID Connect Discovery
//! 1.0 §3 and the specifications beside it), as one table and one check per member.

use serde_json::Value;
use url::Url;

use super::{https, ok, Check};
use crate::report::Severity;

use MetadataType::{AnyUrl, Boolean, HttpsUrl, StringArray};

/// The JSON type a metadata member must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataType {
    /// A URL with the https scheme: the suite requires https of the issuer and of every endpoint
    /// (`AbstractJsonUriIsValidAndHttps`, `CheckDiscEndpointAllEndpointsAreHttps`).
    HttpsUrl,
    /// A URL, any scheme (documentation and policy pages).
    AnyUrl,
    /// A JSON array whose members are all strings.
    StringArray,
    Boolean,
}

/// One member of the provider's metadata, the condition that checks it, and how the suite weighs
/// its absence: `None` for an optional member (only its type is checked, when present).
pub struct MetadataMember {
    pub name: &'static str,
    pub condition: &'static str,
    pub kind: MetadataType,
    pub if_absent: Option<Severity>,
}

const fn member(
    name: &'static str,
    condition: &'static str,
    kind: MetadataType,
    if_absent: Option<Severity>,
) -> MetadataMember {
    MetadataMember { name, condition, kind, if_absent }
}

const REQUIRED: Option<Severity> = Some(Severity::Failure);
const RECOMMENDED: Option<Severity> = Some(Severity::Warning);
const OPTIONAL: Option<Severity> = None;

/// Every member of OIDC Discovery 1.0 §3, then the members of the specifications our plans cover
/// (RP-Initiated Logout §2.1, Session Management §3.3, Back-Channel Logout §2.1, Front-Channel
/// Logout §3, RFC 8414 §2 for revocation and introspection, RFC 9207 §3), each with its type.
/// Required members missing fail; recommended ones warn, as the suite does for
/// `userinfo_endpoint`, `scopes_supported` and `claims_supported`; `registration_endpoint`,
/// recommended by §3, is only noted when absent, as the suite does for statically registered
/// clients. A member present with the wrong type fails whatever its level.
pub const DISCOVERY_METADATA: &[MetadataMember] = &[
    member("issuer", "EnsureServerConfigurationIssuerIsAnHttpsUrl", HttpsUrl, REQUIRED),
    member("authorization_endpoint", "EnsureServerConfigurationAuthorizationEndpointIsAnHttpsUrl", HttpsUrl, REQUIRED),
    member("token_endpoint", "EnsureServerConfigurationTokenEndpointIsAnHttpsUrl", HttpsUrl, REQUIRED),
    member("userinfo_endpoint", "EnsureServerConfigurationUserinfoEndpointIsAnHttpsUrl", HttpsUrl, RECOMMENDED),
    member("jwks_uri", "EnsureServerConfigurationJwksUriIsAnHttpsUrl", HttpsUrl, REQUIRED),
    member(
        "registration_endpoint",
        "EnsureServerConfigurationRegistrationEndpointIsAnHttpsUrl",
        HttpsUrl,
        Some(Severity::Info),
    ),
    member("scopes_supported", "EnsureServerConfigurationScopesSupportedIsAnArrayOfStrings", StringArray, RECOMMENDED),
    member(
        "response_types_supported",
        "EnsureServerConfigurationResponseTypesSupportedIsAnArrayOfStrings",
        StringArray,
        REQUIRED,
    ),
    member(
        "response_modes_supported",
        "EnsureServerConfigurationResponseModesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "grant_types_supported",
        "EnsureServerConfigurationGrantTypesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "acr_values_supported",
        "EnsureServerConfigurationAcrValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "subject_types_supported",
        "EnsureServerConfigurationSubjectTypesSupportedIsAnArrayOfStrings",
        StringArray,
        REQUIRED,
    ),
    member(
        "id_token_signing_alg_values_supported",
        "EnsureServerConfigurationIdTokenSigningAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        REQUIRED,
    ),
    member(
        "id_token_encryption_alg_values_supported",
        "EnsureServerConfigurationIdTokenEncryptionAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "id_token_encryption_enc_values_supported",
        "EnsureServerConfigurationIdTokenEncryptionEncValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "userinfo_signing_alg_values_supported",
        "EnsureServerConfigurationUserinfoSigningAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "userinfo_encryption_alg_values_supported",
        "EnsureServerConfigurationUserinfoEncryptionAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "userinfo_encryption_enc_values_supported",
        "EnsureServerConfigurationUserinfoEncryptionEncValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "request_object_signing_alg_values_supported",
        "EnsureServerConfigurationRequestObjectSigningAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "request_object_encryption_alg_values_supported",
        "EnsureServerConfigurationRequestObjectEncryptionAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "request_object_encryption_enc_values_supported",
        "EnsureServerConfigurationRequestObjectEncryptionEncValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "token_endpoint_auth_methods_supported",
        "EnsureServerConfigurationTokenEndpointAuthMethodsSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "token_endpoint_auth_signing_alg_values_supported",
        "EnsureServerConfigurationTokenEndpointAuthSigningAlgValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "display_values_supported",
        "EnsureServerConfigurationDisplayValuesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "claim_types_supported",
        "EnsureServerConfigurationClaimTypesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member("claims_supported", "EnsureServerConfigurationClaimsSupportedIsAnArrayOfStrings", StringArray, RECOMMENDED),
    member("service_documentation", "EnsureServerConfigurationServiceDocumentationIsAUrl", AnyUrl, OPTIONAL),
    member(
        "claims_locales_supported",
        "EnsureServerConfigurationClaimsLocalesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "ui_locales_supported",
        "EnsureServerConfigurationUiLocalesSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "claims_parameter_supported",
        "EnsureServerConfigurationClaimsParameterSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "request_parameter_supported",
        "EnsureServerConfigurationRequestParameterSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "request_uri_parameter_supported",
        "EnsureServerConfigurationRequestUriParameterSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "require_request_uri_registration",
        "EnsureServerConfigurationRequireRequestUriRegistrationIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member("op_policy_uri", "EnsureServerConfigurationOpPolicyUriIsAUrl", AnyUrl, OPTIONAL),
    member("op_tos_uri", "EnsureServerConfigurationOpTosUriIsAUrl", AnyUrl, OPTIONAL),
    // Logout and session management.
    member("end_session_endpoint", "EnsureServerConfigurationEndSessionEndpointIsAnHttpsUrl", HttpsUrl, OPTIONAL),
    member("check_session_iframe", "EnsureServerConfigurationCheckSessionIframeIsAnHttpsUrl", HttpsUrl, OPTIONAL),
    member(
        "backchannel_logout_supported",
        "EnsureServerConfigurationBackchannelLogoutSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "backchannel_logout_session_supported",
        "EnsureServerConfigurationBackchannelLogoutSessionSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "frontchannel_logout_supported",
        "EnsureServerConfigurationFrontchannelLogoutSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    member(
        "frontchannel_logout_session_supported",
        "EnsureServerConfigurationFrontchannelLogoutSessionSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
    // Revocation and introspection (RFC 8414 §2), the iss response parameter (RFC 9207 §3).
    member("revocation_endpoint", "EnsureServerConfigurationRevocationEndpointIsAnHttpsUrl", HttpsUrl, OPTIONAL),
    member(
        "revocation_endpoint_auth_methods_supported",
        "EnsureServerConfigurationRevocationEndpointAuthMethodsSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member("introspection_endpoint", "EnsureServerConfigurationIntrospectionEndpointIsAnHttpsUrl", HttpsUrl, OPTIONAL),
    member(
        "introspection_endpoint_auth_methods_supported",
        "EnsureServerConfigurationIntrospectionEndpointAuthMethodsSupportedIsAnArrayOfStrings",
        StringArray,
        OPTIONAL,
    ),
    member(
        "authorization_response_iss_parameter_supported",
        "EnsureServerConfigurationAuthorizationResponseIssParameterSupportedIsABoolean",
        Boolean,
        OPTIONAL,
    ),
];

/// A metadata member checked against its type: `None` when it is optional and absent (nothing
/// to record), else the severity to record it at and whether it holds. Absence weighs as the
/// member's level says; a wrong type always fails.
pub fn metadata_member(disc: &Value, member: &MetadataMember) -> Option<(Severity, Check)> {
    let Some(value) = disc.get(member.name) else {
        let level = match member.if_absent? {
            Severity::Failure => "REQUIRED",
            _ => "RECOMMENDED",
        };
        return Some((
            member.if_absent?,
            Err(format!("{} is absent; OpenID Connect Discovery 1.0 §3 makes it {level}", member.name)),
        ));
    };
    Some((Severity::Failure, metadata_type(member.name, value, member.kind)))
}

fn metadata_type(name: &str, value: &Value, kind: MetadataType) -> Check {
    match kind {
        HttpsUrl | AnyUrl => {
            let text = value.as_str().ok_or_else(|| format!("{name} {value} is not a string"))?;
            let url = Url::parse(text).map_err(|e| format!("{name} `{text}` is not a URL: {e}"))?;
            if kind == HttpsUrl {
                https(&url, name)
            } else {
                ok(format!("{name} is a URL"))
            }
        }
        StringArray => match value.as_array() {
            Some(list) if list.iter().all(Value::is_string) => ok(format!("{name} is an array of strings")),
            Some(_) => Err(format!("{name} {value} holds a member that is not a string")),
            None => Err(format!("{name} {value} is not an array")),
        },
        Boolean if value.is_boolean() => ok(format!("{name} is {value}")),
        Boolean => Err(format!("{name} {value} is not a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn verdict(disc: &Value, name: &str) -> Option<(Severity, bool)> {
        let member = DISCOVERY_METADATA.iter().find(|m| m.name == name).unwrap();
        metadata_member(disc, member).map(|(severity, check)| (severity, check.is_ok()))
    }

    #[test]
    fn a_metadata_member_weighs_by_its_level_when_absent_and_fails_when_of_the_wrong_type() {
        let empty = json!({});
        assert_eq!(verdict(&empty, "subject_types_supported"), Some((Severity::Failure, false)));
        assert_eq!(verdict(&empty, "claims_supported"), Some((Severity::Warning, false)));
        assert_eq!(verdict(&empty, "registration_endpoint"), Some((Severity::Info, false)));
        assert_eq!(verdict(&empty, "op_tos_uri"), None);
        let disc = json!({
            "issuer": "https://op.example", "jwks_uri": "http://op.example/jwks", "scopes_supported": "openid",
            "claims_supported": ["sub", 3], "claims_parameter_supported": "true", "op_tos_uri": "http://op.example/tos",
            "request_parameter_supported": false,
        });
        assert_eq!(verdict(&disc, "issuer"), Some((Severity::Failure, true)));
        assert_eq!(verdict(&disc, "jwks_uri"), Some((Severity::Failure, false)), "https is required");
        assert_eq!(verdict(&disc, "op_tos_uri"), Some((Severity::Failure, true)), "any scheme");
        assert_eq!(verdict(&disc, "scopes_supported"), Some((Severity::Failure, false)));
        assert_eq!(verdict(&disc, "claims_supported"), Some((Severity::Failure, false)));
        assert_eq!(verdict(&disc, "claims_parameter_supported"), Some((Severity::Failure, false)));
        assert_eq!(verdict(&disc, "request_parameter_supported"), Some((Severity::Failure, true)));
    }

    #[test]
    fn the_metadata_table_names_each_member_once_and_each_condition_after_its_member() {
        let mut names: Vec<&str> = DISCOVERY_METADATA.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DISCOVERY_METADATA.len());
        for m in DISCOVERY_METADATA {
            let camel: String = m.name.split('_').map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect();
            assert!(m.condition.starts_with(&format!("EnsureServerConfiguration{camel}Is")), "{}", m.condition);
        }
    }
}
