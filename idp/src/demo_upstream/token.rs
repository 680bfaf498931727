//! The token endpoint (OIDC Core §3.1.3, RFC 6749 §4.1.3, RFC 7636 §4.6) and userinfo (§5.3).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mandate_store::exchange::PkceProof;
use mandate_store::secret_hash;
use serde_json::{json, Map, Value};

use super::citizens::Citizen;
use super::{DemoProvider, DemoUpstreamError, IssuedToken, ACCESS_TOKEN_LIFETIME, ACR};
use crate::configuration::{DEMO_UPSTREAM_CLIENT_ID, DEMO_UPSTREAM_CLIENT_SECRET};
use crate::encoding::{constant_time_eq, random_secret};
use crate::protocol::claims::{at_hash, claims_of_scope};
use crate::protocol::pkce::pkce_proof;
use crate::web::AppState;

type Params = Vec<(String, String)>;

/// The identity claims the citizens have (FranceConnect's pivot identity, e-mail, usage name).
pub const IDENTITY_CLAIMS: [&str; 8] =
    ["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email", "preferred_username"];

/// How long an ID token may be used to prove the login.
const ID_TOKEN_LIFETIME_SECONDS: i64 = 300;

/// RFC 6749 §3.1: no parameter may come twice; the first of a repeated name would be a guess.
fn repeats(params: &Params) -> bool {
    params.iter().enumerate().any(|(i, (name, _))| params[..i].iter().any(|(earlier, _)| earlier == name))
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// RFC 6749 §2.3.1: `client_secret_basic` (id and secret form-urlencoded inside Basic) or
/// `client_secret_post`, never both.
fn authenticate(req: &HttpRequest, form: &Params) -> Result<(), DemoUpstreamError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    let posted = (param(form, "client_id"), param(form, "client_secret"));
    let (id, secret, challenge) = match (basic, posted) {
        (Some(_), (_, Some(_))) => {
            return Err(DemoUpstreamError::token("invalid_request", "use one client authentication method"))
        }
        (Some(encoded), _) => {
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| DemoUpstreamError::invalid_client(true))?;
            let decoded = String::from_utf8(decoded).map_err(|_| DemoUpstreamError::invalid_client(true))?;
            let (id, secret) = decoded.split_once(':').ok_or(DemoUpstreamError::invalid_client(true))?;
            let decode =
                |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
            (decode(id).unwrap_or_default(), decode(secret).unwrap_or_default(), true)
        }
        (None, (Some(id), Some(secret))) => (id.to_owned(), secret.to_owned(), false),
        (None, _) => return Err(DemoUpstreamError::invalid_client(false)),
    };
    // A client_id in the form must name the client that authenticated.
    if param(form, "client_id").is_some_and(|posted| posted != id) {
        return Err(DemoUpstreamError::invalid_client(challenge));
    }
    let known = id == DEMO_UPSTREAM_CLIENT_ID;
    if !(known && constant_time_eq(secret.as_bytes(), DEMO_UPSTREAM_CLIENT_SECRET.as_bytes())) {
        return Err(DemoUpstreamError::invalid_client(challenge));
    }
    Ok(())
}

/// The citizen's claims that the granted scopes release.
fn granted_claims(citizen: &Citizen, scopes: &[String]) -> Map<String, Value> {
    let mut claims = Map::new();
    for scope in scopes {
        for name in claims_of_scope(scope) {
            if let Some(value) = citizen.claim(name) {
                claims.insert((*name).to_owned(), value);
            }
        }
    }
    claims
}

pub async fn token(
    demo: DemoProvider,
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<Params>,
) -> Result<HttpResponse, DemoUpstreamError> {
    if repeats(&form) {
        return Err(DemoUpstreamError::token("invalid_request", "a parameter is repeated"));
    }
    authenticate(&req, &form)?;
    if param(&form, "grant_type") != Some("authorization_code") {
        return Err(DemoUpstreamError::token("unsupported_grant_type", "only authorization_code is supported"));
    }
    let code = param(&form, "code").ok_or(DemoUpstreamError::token("invalid_request", "code is required"))?;
    let invalid_grant = |description| DemoUpstreamError::token("invalid_grant", description);
    let access_token = random_secret();
    // The code is claimed under the lock, so two exchanges of one code cannot both succeed.
    let issued = {
        let mut codes = demo.codes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(issued) = codes.get_mut(&secret_hash(code)) else {
            return Err(invalid_grant("unknown or expired code"));
        };
        if let Some(token_hash) = &issued.exchanged_for {
            // RFC 6749 §4.1.2: a code used twice revokes what it gave.
            demo.revoke_token(token_hash);
            return Err(invalid_grant("the code was already used"));
        }
        if issued.expires <= std::time::Instant::now() {
            return Err(invalid_grant("unknown or expired code"));
        }
        issued.exchanged_for = Some(secret_hash(&access_token));
        issued.clone()
    };
    if param(&form, "redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri is not the authorization request's"));
    }
    let verifier = param(&form, "code_verifier");
    match (&issued.code_challenge, pkce_proof(verifier)) {
        (None, PkceProof::Absent) => {}
        (Some(challenge), PkceProof::S256(proved)) if constant_time_eq(challenge.as_bytes(), proved.as_bytes()) => {}
        // RFC 9700 §2.1.1: a verifier without a challenge is refused too (PKCE downgrade).
        _ => return Err(invalid_grant("code_verifier does not match the code_challenge")),
    }

    let key = demo.key(&state).await?;
    let now = chrono::Utc::now().timestamp();
    let mut claims = granted_claims(issued.citizen, &issued.scopes);
    for (name, value) in [
        ("iss", json!(demo.issuer)),
        ("sub", json!(issued.citizen.subject)),
        ("aud", json!(DEMO_UPSTREAM_CLIENT_ID)),
        ("iat", json!(now)),
        ("exp", json!(now + ID_TOKEN_LIFETIME_SECONDS)),
        ("auth_time", json!(issued.auth_time)),
        ("acr", json!(ACR)),
        ("amr", json!(["pwd"])),
        ("at_hash", json!(at_hash(&access_token))),
    ] {
        claims.insert(name.to_owned(), value);
    }
    if let Some(nonce) = &issued.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let id_token = key.sign("JWT", &Value::Object(claims)).map_err(|e| DemoUpstreamError::Internal(e.to_string()))?;
    demo.keep_token(
        &access_token,
        IssuedToken {
            citizen: issued.citizen,
            scopes: issued.scopes.clone(),
            expires: std::time::Instant::now() + ACCESS_TOKEN_LIFETIME,
        },
    );
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache")).json(
        json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
            "id_token": id_token,
            "scope": issued.scopes.join(" "),
        }),
    ))
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn userinfo(demo: &DemoProvider, token: Option<String>) -> Result<HttpResponse, DemoUpstreamError> {
    let token = token.ok_or(DemoUpstreamError::Bearer {
        status: actix_web::http::StatusCode::UNAUTHORIZED,
        error: "invalid_request",
        description: "an access token is required",
    })?;
    let issued = demo.live_token(&token).ok_or(DemoUpstreamError::invalid_token("unknown or expired access token"))?;
    let mut claims = granted_claims(issued.citizen, &issued.scopes);
    claims.insert("sub".into(), json!(issued.citizen.subject));
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Value::Object(claims)))
}

/// RFC 6750 §2.1: the token in the Authorization header.
pub async fn userinfo_get(demo: DemoProvider, req: HttpRequest) -> Result<HttpResponse, DemoUpstreamError> {
    userinfo(&demo, bearer(&req))
}

/// RFC 6750 §2.1 and §2.2: in the header or the form body, not both.
pub async fn userinfo_post(
    demo: DemoProvider,
    req: HttpRequest,
    form: Option<web::Form<Params>>,
) -> Result<HttpResponse, DemoUpstreamError> {
    if form.as_ref().is_some_and(|f| repeats(f)) {
        return Err(DemoUpstreamError::Bearer {
            status: actix_web::http::StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: "a parameter is repeated",
        });
    }
    let in_form = form.as_ref().and_then(|f| param(f, "access_token")).map(str::to_owned);
    match (bearer(&req), in_form) {
        (Some(_), Some(_)) => Err(DemoUpstreamError::Bearer {
            status: actix_web::http::StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: "send the access token once",
        }),
        (header, form) => userinfo(&demo, header.or(form)),
    }
}
