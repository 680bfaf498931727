//! The authorization endpoint (OIDC Core §3.1.2): the request is checked, then a page lists the
//! citizens to pick; the choice comes back to `/demo-upstream/authorize/decision`, which
//! answers the relying party with a code, or `access_denied` when the person refuses.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::citizens::{Citizen, CITIZENS};
use super::{DemoProvider, DemoUpstreamError, IssuedCode, CODE_LIFETIME};
use crate::encoding::random_secret;
use crate::web::render::{html, see_other};
use crate::web::{Frame, Lang};

type Params = Vec<(String, String)>;

/// The parameters a request may carry once (RFC 6749 §3.1: no parameter more than once).
const SINGLE: [&str; 12] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "prompt",
    "choice",
];

/// The scopes this provider understands (FranceConnect's claim-named scopes and groups); others
/// are ignored (RFC 6749 §3.3).
const SCOPES: [&str; 12] = [
    "openid",
    "profile",
    "email",
    "birth",
    "identite_pivot",
    "given_name",
    "family_name",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "preferred_username",
];

/// An authorization request that passed every check.
struct Request {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    acr_values: Option<String>,
}

impl Request {
    /// The fields the citizen page sends back, so the decision is checked like the request.
    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", "code".to_owned()),
            ("scope", self.scopes.join(" ")),
        ];
        for (name, value) in [
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("acr_values", &self.acr_values),
        ] {
            if let Some(value) = value {
                fields.push((name, value.clone()));
            }
        }
        if self.code_challenge.is_some() {
            fields.push(("code_challenge_method", "S256".to_owned()));
        }
        fields
    }
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Checks a request as RFC 6749 §4.1.2.1 orders it: first whether the client and its redirect
/// URI can be trusted with an answer (else a page, never a redirect), then the rest (answered
/// at the redirect URI).
fn validate(demo: &DemoProvider, params: &Params) -> Result<Request, DemoUpstreamError> {
    let once = |name: &str| params.iter().filter(|(k, _)| k == name).count() <= 1;
    let client_id = param(params, "client_id").filter(|_| once("client_id"));
    let redirect_uri = param(params, "redirect_uri").filter(|_| once("redirect_uri"));
    let (Some(client_id), Some(redirect_uri)) = (client_id, redirect_uri) else {
        return Err(DemoUpstreamError::UntrustedRequest);
    };
    if !demo.knows_client(client_id) || !demo.registered_redirect(redirect_uri) {
        return Err(DemoUpstreamError::UntrustedRequest);
    }
    let state = param(params, "state").map(str::to_owned);
    let refuse = |error: &'static str, description: &'static str| DemoUpstreamError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        issuer: demo.issuer.clone(),
        state: state.clone(),
        error,
        description,
    };
    if !SINGLE.iter().all(|name| once(name)) {
        return Err(refuse("invalid_request", "a parameter is repeated"));
    }
    if param(params, "request").is_some() {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    if param(params, "request_uri").is_some() {
        return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
    }
    if param(params, "response_type") != Some("code") {
        return Err(refuse("unsupported_response_type", "only the code flow is supported"));
    }
    if param(params, "response_mode").is_some_and(|m| m != "query") {
        return Err(refuse("invalid_request", "only response_mode=query is supported"));
    }
    let mut scopes: Vec<String> = Vec::new();
    for scope in param(params, "scope").unwrap_or("").split_whitespace() {
        if SCOPES.contains(&scope) && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the scope must contain openid"));
    }
    // RFC 7636 §4.3: S256 only; a challenge of 43 base64url characters (a SHA-256).
    let code_challenge = match (param(params, "code_challenge"), param(params, "code_challenge_method")) {
        (None, None) => None,
        (Some(challenge), Some("S256"))
            if challenge.len() == 43
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => return Err(refuse("invalid_request", "code_challenge is not a base64url SHA-256")),
        (None, Some(_)) => return Err(refuse("invalid_request", "code_challenge_method without code_challenge")),
        _ => return Err(refuse("invalid_request", "code_challenge_method must be S256")),
    };
    // OIDC Core §3.1.2.6: the person must always pick here, so there is no silent login.
    if param(params, "prompt").is_some_and(|p| p.split_whitespace().any(|v| v == "none")) {
        return Err(refuse("login_required", "the person must choose who logs in"));
    }
    Ok(Request {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce: param(params, "nonce").map(str::to_owned),
        code_challenge,
        acr_values: param(params, "acr_values").map(str::to_owned),
    })
}

struct CitizenChoice {
    subject: &'static str,
    full_name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "demo_upstream/authorize.html")]
struct AuthorizePage {
    frame: Frame,
    citizens: Vec<CitizenChoice>,
    fields: Vec<(&'static str, String)>,
}

fn citizen_page(request: &Request) -> Result<HttpResponse, DemoUpstreamError> {
    let citizens = CITIZENS
        .iter()
        .map(|c| CitizenChoice { subject: c.subject, full_name: c.full_name(), description: c.birth_description() })
        .collect();
    html(&AuthorizePage { frame: Frame::anonymous(Lang::Fr), citizens, fields: request.hidden_fields() })
        .map_err(|e| DemoUpstreamError::Internal(e.to_string()))
}

/// OIDC Core §3.1.2.1: GET and POST are both supported.
pub async fn authorize_get(demo: DemoProvider, query: web::Query<Params>) -> Result<HttpResponse, DemoUpstreamError> {
    citizen_page(&validate(&demo, &query)?)
}

pub async fn authorize_post(demo: DemoProvider, form: web::Form<Params>) -> Result<HttpResponse, DemoUpstreamError> {
    citizen_page(&validate(&demo, &form)?)
}

/// The person picked a citizen, or refused.
pub async fn decision(demo: DemoProvider, form: web::Form<Params>) -> Result<HttpResponse, DemoUpstreamError> {
    let request = validate(&demo, &form)?;
    let refuse = |error: &'static str, description: &'static str| DemoUpstreamError::Redirect {
        redirect_uri: request.redirect_uri.clone(),
        issuer: demo.issuer.clone(),
        state: request.state.clone(),
        error,
        description,
    };
    let choice = param(&form, "choice").unwrap_or("");
    if choice == "refuse" {
        return Err(refuse("access_denied", "the person refused to log in"));
    }
    let citizen = Citizen::find(choice).ok_or_else(|| refuse("invalid_request", "no such citizen"))?;
    let code = random_secret();
    demo.keep_code(
        &code,
        IssuedCode {
            redirect_uri: request.redirect_uri.clone(),
            citizen,
            scopes: request.scopes.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: chrono::Utc::now().timestamp(),
            expires: std::time::Instant::now() + CODE_LIFETIME,
            exchanged_for: None,
        },
    );
    let mut target = url::Url::parse(&request.redirect_uri).map_err(|e| DemoUpstreamError::Internal(e.to_string()))?;
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = &request.state {
        target.query_pairs_mut().append_pair("state", state);
    }
    target.query_pairs_mut().append_pair("iss", &demo.issuer);
    Ok(see_other(target.as_str()))
}
