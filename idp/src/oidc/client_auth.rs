//! Client authentication at the token, revocation and introspection endpoints: by the method
//! the client registered, and only that one (OIDC Core §9, RFC 7523 for private_key_jwt).

use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use mandate_store::clients::{self, Client};
use mandate_store::{grants, now, secret_hash, ClientAuthMethod};

use super::errors::TokenError;
use crate::blocking::with_conn;
use crate::encoding::constant_time_eq;
use crate::protocol::request::Params;
use crate::web::AppState;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion may not claim to live longer than this.
const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 600;

/// How the request tried to authenticate.
enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    Assertion { assertion: String, id: Option<String> },
    IdOnly { id: String },
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn presented(req: &HttpRequest, form: &Params) -> Result<Presented, TokenError> {
    let basic = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .map(str::trim);
    let form_secret = form.get("client_secret").filter(|s| !s.is_empty());
    let assertion = form.get("client_assertion").filter(|s| !s.is_empty());
    let form_id = form.get("client_id").filter(|s| !s.is_empty()).cloned();
    let methods = [basic.is_some(), form_secret.is_some(), assertion.is_some()].iter().filter(|m| **m).count();
    if methods > 1 {
        return Err(TokenError::invalid_request("use exactly one client authentication method"));
    }
    if let Some(encoded) = basic {
        let decoded = STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok());
        let (id, secret) = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .ok_or_else(|| TokenError::invalid_client("malformed Basic credentials"))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return Ok(Presented::Basic { id: form_decode(id), secret: form_decode(secret) });
    }
    if let Some(secret) = form_secret {
        let id = form_id.ok_or_else(|| TokenError::invalid_client("client_id is required with client_secret"))?;
        return Ok(Presented::Post { id, secret: secret.clone() });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return Err(TokenError::invalid_client("client_assertion_type must be jwt-bearer"));
        }
        return Ok(Presented::Assertion { assertion: assertion.clone(), id: form_id });
    }
    match form_id {
        Some(id) => Ok(Presented::IdOnly { id }),
        None => Err(TokenError::invalid_client("client authentication is required")),
    }
}

async fn find_client(state: &AppState, id: &str) -> Result<Client, TokenError> {
    let id = id.to_owned();
    with_conn(&state.store, move |conn| clients::find(conn, &id))
        .await?
        .ok_or_else(|| TokenError::invalid_client("unknown client"))
}

/// Authenticates the calling client; `audience` is this endpoint's URL (for assertions).
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    form: &Params,
    audience: &str,
) -> Result<Client, TokenError> {
    let wrong_method = || TokenError::invalid_client("this client must authenticate with its registered method");
    match presented(req, form)? {
        Presented::Basic { id, secret } | Presented::Post { id, secret } if secret.is_empty() => {
            let _ = id;
            Err(TokenError::invalid_client("empty client secret"))
        }
        Presented::Basic { id, secret } => {
            let client = find_client(state, &id).await?;
            if client.auth_method != ClientAuthMethod::ClientSecretBasic {
                return Err(wrong_method());
            }
            check_secret(client, &secret)
        }
        Presented::Post { id, secret } => {
            let client = find_client(state, &id).await?;
            if client.auth_method != ClientAuthMethod::ClientSecretPost {
                return Err(wrong_method());
            }
            check_secret(client, &secret)
        }
        Presented::IdOnly { id } => {
            let client = find_client(state, &id).await?;
            if !client.is_public() {
                return Err(TokenError::invalid_client("client authentication is required"));
            }
            Ok(client)
        }
        Presented::Assertion { assertion, id } => verify_assertion(state, &assertion, id.as_deref(), audience).await,
    }
}

fn check_secret(client: Client, secret: &str) -> Result<Client, TokenError> {
    match &client.secret_hash {
        Some(stored) if constant_time_eq(stored.as_bytes(), secret_hash(secret).as_bytes()) => Ok(client),
        _ => Err(TokenError::invalid_client("wrong client credentials")),
    }
}

async fn client_keys(state: &AppState, client: &Client) -> Result<JwkSet, TokenError> {
    let raw = match (&client.jwks, &client.jwks_uri) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(uri)) => state
            .http
            .get(uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TokenError::invalid_client(format!("cannot fetch the client's jwks_uri: {e}")))?
            .text()
            .await
            .map_err(|e| TokenError::invalid_client(format!("cannot read the client's jwks_uri: {e}")))?,
        (None, None) => return Err(TokenError::invalid_client("the client has no registered keys")),
    };
    serde_json::from_str(&raw).map_err(|_| TokenError::invalid_client("the client's JWKS is not valid"))
}

/// RFC 7523 §3: iss = sub = client_id, aud = this endpoint (or the issuer), exp, and a `jti`
/// never seen before.
async fn verify_assertion(
    state: &AppState,
    assertion: &str,
    claimed_id: Option<&str>,
    audience: &str,
) -> Result<Client, TokenError> {
    let invalid = |d: &str| TokenError::invalid_client(format!("client assertion refused: {d}"));
    let header = decode_header(assertion).map_err(|_| invalid("not a JWT"))?;
    let unverified: serde_json::Value = assertion
        .split('.')
        .nth(1)
        .and_then(crate::encoding::b64url_decode)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("unreadable claims"))?;
    let issuer = unverified.get("iss").and_then(|v| v.as_str()).ok_or_else(|| invalid("iss missing"))?.to_owned();
    if claimed_id.is_some_and(|id| id != issuer) {
        return Err(invalid("client_id differs from the assertion's iss"));
    }
    let client = find_client(state, &issuer).await?;
    if client.auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(TokenError::invalid_client("this client must authenticate with its registered method"));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256 | Algorithm::PS256) {
        return Err(invalid("unsupported alg"));
    }
    let keys = client_keys(state, &client).await?;
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| invalid("no registered key matches"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience, state.settings.issuer.as_str()]);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 30;
    let data = decode::<serde_json::Value>(assertion, &key, &validation).map_err(|e| invalid(&e.to_string()))?;
    let claims = data.claims;
    if claims.get("sub").and_then(|v| v.as_str()) != Some(issuer.as_str()) {
        return Err(invalid("sub must equal iss"));
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
    let now_unix = now().and_utc().timestamp();
    if exp - now_unix > MAX_ASSERTION_LIFETIME_SECONDS {
        return Err(invalid("exp too far in the future"));
    }
    let jti = claims.get("jti").and_then(|v| v.as_str()).ok_or_else(|| invalid("jti missing"))?.to_owned();
    let expires_at = chrono::DateTime::from_timestamp(exp + 60, 0).map(|d| d.naive_utc()).unwrap_or_else(now);
    let client_id = client.id.clone();
    let fresh =
        with_conn(&state.store, move |conn| grants::record_assertion_jti(conn, &client_id, &jti, expires_at, now()))
            .await?;
    if !fresh {
        return Err(invalid("jti already used (replay)"));
    }
    Ok(client)
}
