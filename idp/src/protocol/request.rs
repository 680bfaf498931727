//! Authorization requests (OpenID Connect Core §3.1.2.1): parsing and every validation rule,
//! independent of HTTP so that each rule is tested without a socket.

use std::collections::BTreeSet;

use mandate_store::clients::Client;
use mandate_store::Demarche;
use serde::{Deserialize, Serialize};

pub use super::params::Params;
use super::params::{max_value_bytes, ProtocolParams};

/// Where and how an error may be sent back to the relying party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// The one eIDAS level a password plus a one-time code reaches here.
pub const ACR_EIDAS1: &str = "eidas1";
pub const ACR_VALUES_SUPPORTED: [&str; 1] = [ACR_EIDAS1];
const EIDAS_LEVELS: [&str; 3] = ["eidas1", "eidas2", "eidas3"];

/// Scopes understood besides `demarche:<key>`: the standard ones and FranceConnect's
/// claim-named scopes with their groups.
pub const SCOPES_SUPPORTED: [&str; 15] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "preferred_username",
    "birth",
    "identite_pivot",
];

/// A request that passed every check: what the rest of the flow relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    /// Granted scopes, in the order asked, unknown ones dropped.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: BTreeSet<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// The `claims` parameter (OIDC Core §5.5), as given.
    pub claims: Option<serde_json::Value>,
    /// The démarches the relying party narrowed the choice to, by `demarche:<key>` scopes or by a
    /// FranceConnect v2 `rep_scope` claim request, already cut to those the client may receive.
    /// `None`: any démarche the client may receive. `Some` and empty: the relying party asked only
    /// for démarches it may not receive, so no usager can satisfy the request.
    pub narrowed_to: Option<Vec<Demarche>>,
}

impl AuthorizationRequest {
    pub fn prompt(&self, value: &str) -> bool {
        self.prompt.contains(value)
    }
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The client or redirect URI cannot be trusted: show a page, never redirect
    /// (RFC 6749 §4.1.2.1).
    NoRedirect { reason: NoRedirectReason },
    /// Everything else goes back to the relying party.
    Redirect(RedirectError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRedirectReason {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
    /// `client_id` or `redirect_uri` repeated or too long, or the whole request too large:
    /// which of the values was meant cannot be known (RFC 6749 §3.1).
    Malformed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub error: &'static str,
    pub description: String,
}

fn param<'a>(params: &'a ProtocolParams, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Checks the client and redirect URI first: only once both are trusted may errors be
/// redirected. `client` is the registered client named by `client_id`, if any.
pub fn validate(params: &ProtocolParams, client: Option<&Client>) -> Result<AuthorizationRequest, RequestError> {
    let no_redirect = |reason| RequestError::NoRedirect { reason };
    if params.too_large() || params.fault_among(&["client_id", "redirect_uri"]).is_some() {
        return Err(no_redirect(NoRedirectReason::Malformed));
    }
    if param(params, "client_id").is_none() {
        return Err(no_redirect(NoRedirectReason::MissingClientId));
    }
    let client = client.ok_or(no_redirect(NoRedirectReason::UnknownClient))?;
    let redirect_uri = param(params, "redirect_uri").ok_or(no_redirect(NoRedirectReason::MissingRedirectUri))?;
    // Exact string comparison (OIDC Core §3.1.2.1, RFC 6749 §3.1.2.3 simple string comparison).
    if !client.redirect_uris().iter().any(|registered| registered == redirect_uri) {
        return Err(no_redirect(NoRedirectReason::UnregisteredRedirectUri));
    }

    // A state too long to keep is not echoed either: the error says why it is missing.
    let state = param(params, "state").filter(|s| s.len() <= max_value_bytes("state")).map(str::to_owned);
    let requested_mode = param(params, "response_mode");
    let response_mode = match requested_mode {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let fail = |error: &'static str, description: &str| {
        RequestError::Redirect(RedirectError {
            redirect_uri: redirect_uri.to_owned(),
            response_mode,
            state: state.clone(),
            error,
            description: description.to_owned(),
        })
    };

    // RFC 6749 §3.1: no parameter twice; and none longer than its use needs, since what is
    // accepted here is stored with the pending request and echoed to the relying party.
    if let Some(fault) = params.fault() {
        return Err(fail("invalid_request", &fault.description()));
    }
    if let Some(mode) = requested_mode {
        if mode != "query" && mode != "form_post" {
            return Err(fail("invalid_request", "response_mode must be query or form_post"));
        }
    }
    if params.values.contains_key("request") {
        return Err(fail("request_not_supported", "request objects are not supported"));
    }
    if params.values.contains_key("request_uri") {
        return Err(fail("request_uri_not_supported", "request_uri is not supported"));
    }
    match param(params, "response_type") {
        None => return Err(fail("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => return Err(fail("unsupported_response_type", "only response_type=code is supported")),
    }

    let asked: Vec<&str> = param(params, "scope").unwrap_or("").split_whitespace().collect();
    if !asked.contains(&"openid") {
        return Err(fail("invalid_scope", "the scope must contain openid"));
    }
    let mut scopes: Vec<String> = Vec::new();
    let mut demarches = Vec::new();
    for scope in asked {
        if let Some(key) = scope.strip_prefix("demarche:") {
            match key.parse::<Demarche>() {
                Ok(d) => demarches.push(d),
                Err(_) => return Err(fail("invalid_scope", &format!("unknown démarche in scope {scope}"))),
            }
        } else if !SCOPES_SUPPORTED.contains(&scope) {
            // RFC 6749 §3.3: the server may ignore scopes it does not know.
            continue;
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }

    let code_challenge = param(params, "code_challenge").map(str::to_owned);
    let code_challenge_method = match (&code_challenge, param(params, "code_challenge_method")) {
        (None, Some(_)) => return Err(fail("invalid_request", "code_challenge_method without code_challenge")),
        (None, None) => None,
        (Some(_), None | Some("plain")) => {
            return Err(fail("invalid_request", "code_challenge_method must be S256 (plain is refused)"))
        }
        (Some(_), Some("S256")) => Some("S256".to_owned()),
        (Some(_), Some(_)) => return Err(fail("invalid_request", "unsupported code_challenge_method")),
    };
    if let Some(challenge) = &code_challenge {
        // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
        let valid =
            challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(fail("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)"));
        }
    }
    if client.is_public() && code_challenge.is_none() {
        return Err(fail("invalid_request", "public clients must use PKCE (code_challenge with S256)"));
    }

    let prompt: BTreeSet<String> =
        param(params, "prompt").unwrap_or("").split_whitespace().map(str::to_owned).collect();
    for value in &prompt {
        if !["none", "login", "consent", "select_account"].contains(&value.as_str()) {
            return Err(fail("invalid_request", "unknown prompt value"));
        }
    }
    if prompt.contains("none") && prompt.len() > 1 {
        return Err(fail("invalid_request", "prompt=none cannot be combined with other values"));
    }

    let max_age = match param(params, "max_age") {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return Err(fail("invalid_request", "max_age must be a non-negative integer")),
        },
    };

    let claims = match param(params, "claims") {
        None => None,
        Some(raw) => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v) if v.is_object() => Some(v),
            _ => return Err(fail("invalid_request", "claims must be a JSON object")),
        },
    };

    // eIDAS levels: never answer below what was asked (FranceConnect rejects a lower acr).
    // Values other than eIDAS levels are not ours to judge and are ignored.
    let requested_levels: Vec<&str> =
        param(params, "acr_values").unwrap_or("").split_whitespace().filter(|v| EIDAS_LEVELS.contains(v)).collect();
    if !requested_levels.is_empty() && !requested_levels.contains(&ACR_EIDAS1) {
        return Err(fail("access_denied", "the requested eIDAS level cannot be reached here (eidas1 only)"));
    }
    if let Some(values) = essential_acr_values(claims.as_ref()) {
        if !values.iter().any(|v| v == ACR_EIDAS1) {
            return Err(fail("access_denied", "the essential acr requested cannot be satisfied (eidas1 only)"));
        }
    }

    let allowed = client.demarches();
    if !demarches.is_empty() {
        demarches.retain(|d| allowed.contains(d));
        if demarches.is_empty() {
            return Err(fail("invalid_scope", "none of the démarches asked is allowed for this service"));
        }
    }
    let mut narrowed_to = (!demarches.is_empty()).then_some(demarches);
    match rep_scope_values(claims.as_ref()) {
        Err(description) => return Err(fail("invalid_request", &description)),
        Ok(None) => {}
        Ok(Some(asked)) => {
            // Both ways of narrowing: only what both allow.
            let mut kept: Vec<Demarche> = asked
                .into_iter()
                .filter(|d| allowed.contains(d) && narrowed_to.as_ref().is_none_or(|n| n.contains(d)))
                .collect();
            kept.sort();
            kept.dedup();
            narrowed_to = Some(kept);
        }
    }

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        response_mode,
        scopes,
        state,
        nonce: param(params, "nonce").map(str::to_owned),
        code_challenge,
        code_challenge_method,
        prompt,
        max_age,
        login_hint: param(params, "login_hint").map(str::to_owned),
        id_token_hint: param(params, "id_token_hint").map(str::to_owned),
        ui_locales: param(params, "ui_locales").map(str::to_owned),
        claims,
        narrowed_to,
    })
}

/// The `values` of an essential `acr` claim request, in the id_token or userinfo section.
/// FranceConnect v2's restriction of the démarches a service asks for:
/// `claims={"id_token":{"rep_scope":{"essential":true,"values":[…]}}}` (or under `userinfo`).
/// `None` when no section restricts them; every value must be a démarche key.
fn rep_scope_values(claims: Option<&serde_json::Value>) -> Result<Option<Vec<Demarche>>, String> {
    let Some(claims) = claims else { return Ok(None) };
    let mut found: Option<Vec<Demarche>> = None;
    for section in ["id_token", "userinfo"] {
        let Some(rep_scope) = claims.get(section).and_then(|s| s.get("rep_scope")) else { continue };
        let mut raw: Vec<&serde_json::Value> = Vec::new();
        if let Some(values) = rep_scope.get("values") {
            raw.extend(values.as_array().ok_or("rep_scope values must be an array of démarches")?);
        }
        if let Some(value) = rep_scope.get("value") {
            raw.push(value);
        }
        if raw.is_empty() {
            continue;
        }
        let list = found.get_or_insert_with(Vec::new);
        for value in raw {
            let key = value.as_str().unwrap_or_default();
            let demarche = key.parse::<Demarche>().map_err(|_| format!("rep_scope value {value} is not a démarche"))?;
            list.push(demarche);
        }
    }
    Ok(found)
}

fn essential_acr_values(claims: Option<&serde_json::Value>) -> Option<Vec<String>> {
    let claims = claims?;
    for section in ["id_token", "userinfo"] {
        let Some(acr) = claims.get(section).and_then(|s| s.get("acr")) else { continue };
        if acr.get("essential").and_then(|e| e.as_bool()) != Some(true) {
            continue;
        }
        let mut values: Vec<String> = acr
            .get("values")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if let Some(value) = acr.get("value").and_then(|v| v.as_str()) {
            values.push(value.to_owned());
        }
        if !values.is_empty() {
            return Some(values);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_store::clients::{DemarcheList, UriList};

    fn client(auth_method: &str) -> Client {
        Client {
            id: "service-impots".into(),
            name: "Impôts".into(),
            secret_hash: None,
            redirect_uris: UriList(vec!["https://rp.example.fr/cb".into()]),
            post_logout_redirect_uris: UriList::default(),
            auth_method: auth_method.parse().unwrap(),
            jwks: None,
            jwks_uri: None,
            id_token_signed_response_alg: mandate_store::SigningAlg::Rs256,
            userinfo_signed_response_alg: None,
            subject_type: mandate_store::SubjectType::Pairwise,
            sector_identifier: "rp.example.fr".into(),
            demarches: DemarcheList(vec![Demarche::Argent, Demarche::Logement]),
            backchannel_logout_uri: None,
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    fn params(extra: &[(&str, &str)]) -> ProtocolParams {
        let mut p: Params = [
            ("client_id", "service-impots"),
            ("redirect_uri", "https://rp.example.fr/cb"),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "s-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            if v.is_empty() {
                p.remove(*k);
            } else {
                p.insert(k.to_string(), v.to_string());
            }
        }
        p.into()
    }

    fn error_code(result: Result<AuthorizationRequest, RequestError>) -> &'static str {
        match result {
            Err(RequestError::Redirect(e)) => e.error,
            other => panic!("expected a redirected error, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_request_is_accepted() {
        let r = validate(&params(&[("nonce", "n")]), Some(&client("client_secret_basic"))).unwrap();
        assert_eq!(r.scopes, ["openid", "profile"]);
        assert_eq!(r.response_mode, ResponseMode::Query);
        assert_eq!(r.nonce.as_deref(), Some("n"));
    }

    #[test]
    fn untrusted_client_or_redirect_uri_never_redirects() {
        let c = client("client_secret_basic");
        for (p, reason) in [
            (params(&[("client_id", "")]), NoRedirectReason::MissingClientId),
            (params(&[("redirect_uri", "")]), NoRedirectReason::MissingRedirectUri),
            (params(&[("redirect_uri", "https://rp.example.fr/cb/extra")]), NoRedirectReason::UnregisteredRedirectUri),
            (params(&[("redirect_uri", "https://rp.example.fr/cb?x=1")]), NoRedirectReason::UnregisteredRedirectUri),
            (params(&[("redirect_uri", "https://RP.example.fr/cb")]), NoRedirectReason::UnregisteredRedirectUri),
        ] {
            assert_eq!(validate(&p, Some(&c)), Err(RequestError::NoRedirect { reason }));
        }
        assert_eq!(
            validate(&params(&[]), None),
            Err(RequestError::NoRedirect { reason: NoRedirectReason::UnknownClient })
        );
    }

    #[test]
    fn protocol_errors_go_back_with_state() {
        let c = client("client_secret_basic");
        assert_eq!(error_code(validate(&params(&[("response_type", "")]), Some(&c))), "invalid_request");
        assert_eq!(error_code(validate(&params(&[("response_type", "token")]), Some(&c))), "unsupported_response_type");
        assert_eq!(error_code(validate(&params(&[("scope", "profile")]), Some(&c))), "invalid_scope");
        assert_eq!(error_code(validate(&params(&[("request", "eyJ…")]), Some(&c))), "request_not_supported");
        assert_eq!(
            error_code(validate(&params(&[("request_uri", "https://x")]), Some(&c))),
            "request_uri_not_supported"
        );
        assert_eq!(error_code(validate(&params(&[("prompt", "none login")]), Some(&c))), "invalid_request");
        assert_eq!(error_code(validate(&params(&[("max_age", "-1")]), Some(&c))), "invalid_request");
        assert_eq!(error_code(validate(&params(&[("claims", "[1]")]), Some(&c))), "invalid_request");
        match validate(&params(&[("response_type", "")]), Some(&c)) {
            Err(RequestError::Redirect(e)) => assert_eq!(e.state.as_deref(), Some("s-1")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_repeated_client_id_or_redirect_uri_never_redirects() {
        let c = client("client_secret_basic");
        let base =
            "client_id=service-impots&redirect_uri=https%3A%2F%2Frp.example.fr%2Fcb&response_type=code&scope=openid";
        for extra in ["client_id=other", "redirect_uri=https%3A%2F%2Fattacker.example%2Fcb", "client_id=service-impots"]
        {
            let p = ProtocolParams::parse(format!("{base}&{extra}").as_bytes());
            assert_eq!(
                validate(&p, Some(&c)),
                Err(RequestError::NoRedirect { reason: NoRedirectReason::Malformed }),
                "{extra}"
            );
        }
        let long_uri = format!("client_id=service-impots&redirect_uri={}", "a".repeat(3000));
        assert_eq!(
            validate(&ProtocolParams::parse(long_uri.as_bytes()), Some(&c)),
            Err(RequestError::NoRedirect { reason: NoRedirectReason::Malformed })
        );
    }

    #[test]
    fn other_repeated_or_oversized_parameters_go_back_as_invalid_request() {
        let c = client("client_secret_basic");
        let base = "client_id=service-impots&redirect_uri=https%3A%2F%2Frp.example.fr%2Fcb&response_type=code&scope=openid&state=s-1";
        for extra in ["response_type=code", "scope=openid", "nonce=a&nonce=b", "state=s-2"] {
            let p = ProtocolParams::parse(format!("{base}&{extra}").as_bytes());
            match validate(&p, Some(&c)) {
                Err(RequestError::Redirect(e)) => {
                    assert_eq!(e.error, "invalid_request", "{extra}");
                    assert!(e.description.contains("repeated"), "{extra}: {}", e.description);
                    assert_eq!(e.state.as_deref(), Some("s-1"), "the first state is echoed");
                }
                other => panic!("{extra}: {other:?}"),
            }
        }
        for (name, length) in [("nonce", 513), ("claims", 4097), ("login_hint", 257), ("acr_values", 257)] {
            let p = params(&[(name, &"x".repeat(length))]);
            assert_eq!(error_code(validate(&p, Some(&c))), "invalid_request", "{name}");
        }
        match validate(&params(&[("state", &"s".repeat(513))]), Some(&c)) {
            Err(RequestError::Redirect(e)) => {
                assert_eq!(e.error, "invalid_request");
                assert_eq!(e.state, None, "a state too long is not echoed");
            }
            other => panic!("{other:?}"),
        }
        assert!(validate(&params(&[("state", &"s".repeat(512)), ("nonce", &"n".repeat(512))]), Some(&c)).is_ok());
    }

    #[test]
    fn pkce_is_s256_only_and_required_for_public_clients() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let c = client("client_secret_basic");
        let ok =
            validate(&params(&[("code_challenge", challenge), ("code_challenge_method", "S256")]), Some(&c)).unwrap();
        assert_eq!(ok.code_challenge.as_deref(), Some(challenge));
        assert_eq!(
            error_code(validate(
                &params(&[("code_challenge", challenge), ("code_challenge_method", "plain")]),
                Some(&c)
            )),
            "invalid_request"
        );
        assert_eq!(error_code(validate(&params(&[("code_challenge", challenge)]), Some(&c))), "invalid_request");
        assert_eq!(error_code(validate(&params(&[]), Some(&client("none")))), "invalid_request");
        assert!(validate(
            &params(&[("code_challenge", challenge), ("code_challenge_method", "S256")]),
            Some(&client("none"))
        )
        .is_ok());
    }

    #[test]
    fn unknown_parameters_and_scopes_are_ignored_in_any_order() {
        let c = client("client_secret_basic");
        let r = validate(&params(&[("extra", "foobar"), ("scope", "email unknown openid")]), Some(&c)).unwrap();
        assert_eq!(r.scopes, ["email", "openid"]);
    }

    #[test]
    fn acr_is_never_answered_lower_than_asked() {
        let c = client("client_secret_basic");
        assert!(validate(&params(&[("acr_values", "eidas1")]), Some(&c)).is_ok());
        assert!(validate(&params(&[("acr_values", "1 2")]), Some(&c)).is_ok(), "non-eIDAS values are ignored");
        assert_eq!(error_code(validate(&params(&[("acr_values", "eidas2 eidas3")]), Some(&c))), "access_denied");
        let essential = r#"{"id_token":{"acr":{"essential":true,"values":["eidas2"]}}}"#;
        assert_eq!(error_code(validate(&params(&[("claims", essential)]), Some(&c))), "access_denied");
        let satisfiable = r#"{"id_token":{"acr":{"essential":true,"values":["eidas1","eidas2"]}}}"#;
        assert!(validate(&params(&[("claims", satisfiable)]), Some(&c)).is_ok());
    }

    #[test]
    fn rep_scope_narrows_and_refuses_what_is_not_a_demarche() {
        let c = client("client_secret_basic");
        let claims = |values: &str| format!(r#"{{"id_token":{{"rep_scope":{{"essential":true,"values":{values}}}}}}}"#);
        let r = validate(&params(&[("claims", &claims(r#"["logement","justice","argent"]"#))]), Some(&c)).unwrap();
        assert_eq!(r.narrowed_to, Some(vec![Demarche::Logement, Demarche::Argent]), "justice is not this service's");
        let r = validate(&params(&[("claims", &claims(r#"["justice"]"#))]), Some(&c)).unwrap();
        assert_eq!(r.narrowed_to, Some(vec![]), "nothing this service may receive: no usager can satisfy it");
        for bad in [r#"["impots"]"#, r#"[1]"#, r#""logement""#] {
            assert_eq!(
                error_code(validate(&params(&[("claims", &claims(bad))]), Some(&c))),
                "invalid_request",
                "{bad}"
            );
        }
        let r = validate(&params(&[("claims", r#"{"id_token":{"rep_scope":null}}"#)]), Some(&c)).unwrap();
        assert_eq!(r.narrowed_to, None, "asking for the claim alone narrows nothing");
        let both = params(&[("scope", "openid demarche:argent"), ("claims", &claims(r#"["logement","argent"]"#))]);
        assert_eq!(validate(&both, Some(&c)).unwrap().narrowed_to, Some(vec![Demarche::Argent]));
    }

    #[test]
    fn demarche_scopes_narrow_to_what_the_service_allows() {
        let c = client("client_secret_basic");
        let r = validate(&params(&[("scope", "openid demarche:argent demarche:justice")]), Some(&c)).unwrap();
        assert_eq!(r.narrowed_to, Some(vec![Demarche::Argent]));
        assert_eq!(error_code(validate(&params(&[("scope", "openid demarche:justice")]), Some(&c))), "invalid_scope");
        assert_eq!(error_code(validate(&params(&[("scope", "openid demarche:impots")]), Some(&c))), "invalid_scope");
    }
}
