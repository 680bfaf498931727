//! Client authentication at the token, revocation and introspection endpoints: by the method
//! the client registered, and only that one (OIDC Core §9, RFC 7523 for private_key_jwt).
//!
//! Every refusal is the same `invalid_client` (RFC 6749 §5.2), whatever its cause: an unknown
//! client, a wrong secret, another method, a bad assertion. A stranger learns nothing about
//! which clients exist; the cause goes to the log. An unknown client's secret is hashed and
//! compared all the same, so that both refusals take the same path.

use actix_web::{FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use mandate_store::clients::{self, Client};
use mandate_store::{grants, now, secret_hash, ClientAuthMethod, DbConnection};

use super::errors::TokenError;
use crate::blocking::with_conn;
use crate::client_keys::find_key;
use crate::encoding::constant_time_eq;
use crate::protocol::request::Params;
use crate::web::client_address::ClientAddress;
use crate::web::AppState;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// A client assertion may not claim to live longer than this.
const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 600;

/// The one answer to a client whose authentication failed; `cause` is only logged.
fn refused(cause: &str) -> TokenError {
    tracing::info!(cause, "client authentication refused");
    TokenError::invalid_client("client authentication failed")
}

/// How the request tried to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    Assertion { assertion: String, id: Option<String> },
    IdOnly { id: String },
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The client's credentials as presented: the `Authorization` header (its value as text, when it
/// is text) and the form. Public so that the fuzzing targets (`fuzz/`) read them exactly as the
/// token, revocation and introspection endpoints do.
pub fn presented(authorization: Option<&str>, form: &Params) -> Result<Presented, TokenError> {
    let basic =
        authorization.and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))).map(str::trim);
    let form_secret = form.get("client_secret").filter(|s| !s.is_empty());
    let assertion = form.get("client_assertion").filter(|s| !s.is_empty());
    let form_id = form.get("client_id").filter(|s| !s.is_empty()).cloned();
    let methods = [basic.is_some(), form_secret.is_some(), assertion.is_some()].iter().filter(|m| **m).count();
    if methods > 1 {
        return Err(TokenError::invalid_request("use exactly one client authentication method"));
    }
    if let Some(encoded) = basic {
        let decoded = STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok());
        let (id, secret) =
            decoded.as_deref().and_then(|d| d.split_once(':')).ok_or_else(|| refused("malformed Basic credentials"))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return Ok(Presented::Basic { id: form_decode(id), secret: form_decode(secret) });
    }
    if let Some(secret) = form_secret {
        let id = form_id.ok_or_else(|| refused("client_secret without client_id"))?;
        return Ok(Presented::Post { id, secret: secret.clone() });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return Err(refused("client_assertion_type is not jwt-bearer"));
        }
        return Ok(Presented::Assertion { assertion: assertion.clone(), id: form_id });
    }
    match form_id {
        Some(id) => Ok(Presented::IdOnly { id }),
        None => Err(refused("no client authentication")),
    }
}

async fn find_client(state: &AppState, id: &str) -> Result<Option<Client>, TokenError> {
    let id = id.to_owned();
    Ok(with_conn(&state.store, move |conn| clients::find(conn, &id)).await?)
}

/// Authenticates the calling client; `audience` is this endpoint's URL (for assertions). An
/// address that failed too often is held back first, whatever it presents.
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    form: &Params,
    audience: &str,
) -> Result<Client, TokenError> {
    let (client, ()) = authenticate_then(state, req, form, audience, |_, _| Ok(())).await?;
    Ok(client)
}

/// [`authenticate`], then `then` with the authenticated client. A client presenting a secret
/// (or a public one) is read, checked and served in a single store call: the token endpoint's
/// exchange costs one call instead of two. `then`'s refusals are not authentication failures.
pub async fn authenticate_then<T, F>(
    state: &AppState,
    req: &HttpRequest,
    form: &Params,
    audience: &str,
    then: F,
) -> Result<(Client, T), TokenError>
where
    F: FnOnce(&mut DbConnection, &Client) -> Result<T, TokenError> + Send + 'static,
    T: Send + 'static,
{
    // Checked first, whatever the client presents.
    let Ok(address) = ClientAddress::extract(req).await;
    let limit = &state.address_limits.client_authentication;
    if let Some(wait) = limit.held_back(&address) {
        return Err(TokenError::HeldBack(wait));
    }
    let result = async move {
        let authorization = req.headers().get("Authorization").and_then(|v| v.to_str().ok());
        match presented(authorization, form)? {
            Presented::Basic { secret, .. } | Presented::Post { secret, .. } if secret.is_empty() => {
                Err(refused("empty client secret"))
            }
            Presented::Basic { id, secret } => {
                stored_client_then(
                    state,
                    id,
                    move |c| check_secret(c, &secret, ClientAuthMethod::ClientSecretBasic),
                    then,
                )
                .await
            }
            Presented::Post { id, secret } => {
                stored_client_then(
                    state,
                    id,
                    move |c| check_secret(c, &secret, ClientAuthMethod::ClientSecretPost),
                    then,
                )
                .await
            }
            Presented::IdOnly { id } => {
                let public = |client: Option<Client>| match client {
                    Some(client) if client.is_public() => Ok(client),
                    Some(_) => Err(refused("a confidential client without credentials")),
                    None => Err(refused("unknown client")),
                };
                stored_client_then(state, id, public, then).await
            }
            Presented::Assertion { assertion, id } => {
                let client = verify_assertion(state, &assertion, id.as_deref(), audience).await?;
                let authenticated = client.clone();
                let done = with_conn(&state.store, move |conn| then(conn, &authenticated)).await?;
                Ok((client, done))
            }
        }
    }
    .await;
    if let Err(TokenError::InvalidClient(reason)) = &result {
        if let Some(wait) = limit.failed(&address) {
            tracing::warn!(%reason, wait_seconds = wait.as_secs(), "client authentication failures: address held back");
            return Err(TokenError::HeldBack(wait));
        }
    }
    result
}

/// Reads client `id`, authenticates it with `check`, then runs `then`: one store call.
async fn stored_client_then<T, C, F>(state: &AppState, id: String, check: C, then: F) -> Result<(Client, T), TokenError>
where
    C: FnOnce(Option<Client>) -> Result<Client, TokenError> + Send + 'static,
    F: FnOnce(&mut DbConnection, &Client) -> Result<T, TokenError> + Send + 'static,
    T: Send + 'static,
{
    with_conn(&state.store, move |conn| {
        let client = check(clients::find(conn, &id)?)?;
        let done = then(conn, &client)?;
        Ok((client, done))
    })
    .await
}

/// The secret is hashed and compared even for an unknown client (against a hash no secret
/// has), so that an unknown client and a wrong secret take the same path.
fn check_secret(client: Option<Client>, secret: &str, method: ClientAuthMethod) -> Result<Client, TokenError> {
    let presented = secret_hash(secret);
    let stored = client.as_ref().and_then(|c| c.secret_hash.clone()).unwrap_or_else(|| "0".repeat(presented.len()));
    let matches = constant_time_eq(stored.as_bytes(), presented.as_bytes());
    match client {
        None => Err(refused("unknown client")),
        Some(client) if client.auth_method != method => Err(refused("not the client's registered method")),
        Some(client) if matches => Ok(client),
        Some(_) => Err(refused("wrong client secret")),
    }
}

/// The registered key that should verify an assertion naming `kid`: from the registered key
/// set, or from the client's `jwks_uri` through the cache.
async fn client_key(state: &AppState, client: &Client, kid: Option<&str>) -> Result<Jwk, TokenError> {
    match (&client.jwks, &client.jwks_uri) {
        (Some(jwks), _) => {
            let keys: JwkSet = serde_json::from_str(jwks).map_err(|_| refused("the registered JWKS is not valid"))?;
            find_key(&keys, kid).cloned().ok_or_else(|| refused("no registered key matches"))
        }
        (None, Some(uri)) => state.client_keys.key_for(&state.http, &client.id, uri, kid).await.map_err(|e| {
            tracing::warn!(client_id = %client.id, error = %e, "no key for a client assertion");
            refused("no key from the client's jwks_uri")
        }),
        (None, None) => Err(refused("the client has no registered keys")),
    }
}

/// What a client assertion says before any key is looked at: its header, and the client it
/// claims to come from.
#[derive(Debug)]
pub struct UnverifiedAssertion {
    pub alg: Algorithm,
    pub kid: Option<String>,
    /// `iss`, equal to `sub` and to the `client_id` sent with it, if one was.
    pub client_id: String,
}

/// What a verified client assertion leaves to record: its `jti` (refused if seen before) and
/// its `exp`.
#[derive(Debug)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub exp: i64,
}

/// RFC 7523 §3, what can be checked without the client's keys: a JWS of an asymmetric
/// algorithm, iss = sub = client_id, not expired at `now_unix`. Keys are fetched only for an
/// assertion that could be this client's. The error is the cause, for the log.
pub fn read_assertion(
    assertion: &str,
    claimed_id: Option<&str>,
    now_unix: i64,
) -> Result<UnverifiedAssertion, &'static str> {
    let header = decode_header(assertion).map_err(|_| "not a JWT")?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256 | Algorithm::PS256) {
        return Err("unsupported alg");
    }
    let unverified: serde_json::Value = assertion
        .split('.')
        .nth(1)
        .and_then(crate::encoding::b64url_decode)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("unreadable claims")?;
    let issuer = unverified.get("iss").and_then(|v| v.as_str()).ok_or("iss missing")?.to_owned();
    if claimed_id.is_some_and(|id| id != issuer) {
        return Err("client_id differs from the assertion's iss");
    }
    if unverified.get("sub").and_then(|v| v.as_str()) != Some(issuer.as_str()) {
        return Err("sub must equal iss");
    }
    let unverified_exp = unverified.get("exp").and_then(|v| v.as_i64()).ok_or("exp missing")?;
    if unverified_exp.saturating_add(30) < now_unix {
        return Err("expired");
    }
    Ok(UnverifiedAssertion { alg: header.alg, kid: header.kid, client_id: issuer })
}

/// RFC 7523 §3, with the client's key: the signature, `aud` (this endpoint or the issuer), `exp`
/// at most [`MAX_ASSERTION_LIFETIME_SECONDS`] ahead of `now_unix`, and a `jti`. The error is the
/// cause, for the log.
pub fn check_assertion(
    assertion: &str,
    read: &UnverifiedAssertion,
    key: &Jwk,
    audiences: &[&str],
    now_unix: i64,
) -> Result<VerifiedAssertion, String> {
    let key = DecodingKey::from_jwk(key).map_err(|_| "unusable key".to_owned())?;
    let mut validation = Validation::new(read.alg);
    validation.set_audience(audiences);
    validation.set_issuer(&[read.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 30;
    let data = decode::<serde_json::Value>(assertion, &key, &validation).map_err(|e| e.to_string())?;
    let claims = data.claims;
    if claims.get("sub").and_then(|v| v.as_str()) != Some(read.client_id.as_str()) {
        return Err("sub must equal iss".into());
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
    if exp.saturating_sub(now_unix) > MAX_ASSERTION_LIFETIME_SECONDS {
        return Err("exp too far in the future".into());
    }
    let jti = claims.get("jti").and_then(|v| v.as_str()).ok_or("jti missing")?.to_owned();
    Ok(VerifiedAssertion { jti, exp })
}

/// RFC 7523 §3: iss = sub = client_id, aud = this endpoint (or the issuer), exp, and a `jti`
/// never seen before.
async fn verify_assertion(
    state: &AppState,
    assertion: &str,
    claimed_id: Option<&str>,
    audience: &str,
) -> Result<Client, TokenError> {
    let invalid = |d: &str| refused(&format!("client assertion: {d}"));
    let read = read_assertion(assertion, claimed_id, now().and_utc().timestamp()).map_err(invalid)?;
    let client = find_client(state, &read.client_id).await?.ok_or_else(|| invalid("unknown client"))?;
    if client.auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(invalid("not the client's registered method"));
    }
    let jwk = client_key(state, &client, read.kid.as_deref()).await?;
    let audiences = [audience, state.settings.issuer.as_str()];
    let VerifiedAssertion { jti, exp } =
        check_assertion(assertion, &read, &jwk, &audiences, now().and_utc().timestamp()).map_err(|e| invalid(&e))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::b64url;

    fn unsigned(claims: &str) -> String {
        format!("{}.{}.c2ln", b64url(br#"{"alg":"ES256","kid":"k"}"#), b64url(claims.as_bytes()))
    }

    // A stranger chooses `exp`: `exp + 30` once overflowed at the end of i64 (a panic where
    // overflow is checked, a wrapped comparison elsewhere). Seen while writing the
    // `client_assertion` fuzzing target, which now covers it.
    #[test]
    fn an_assertion_exp_at_the_ends_of_the_integers_is_judged_without_overflow() {
        let now = 1_764_000_000;
        let far = unsigned(r#"{"iss":"c","sub":"c","exp":9223372036854775807}"#);
        assert_eq!(read_assertion(&far, Some("c"), now).map(|r| r.client_id).as_deref(), Ok("c"));
        let past = unsigned(r#"{"iss":"c","sub":"c","exp":-9223372036854775808}"#);
        assert_eq!(read_assertion(&past, None, now).map(|r| r.client_id), Err("expired"));
    }

    #[test]
    fn what_an_assertion_says_of_its_client_is_checked_before_any_key() {
        let now = 1_764_000_000;
        let claims = |iss: &str, sub: &str| unsigned(&format!(r#"{{"iss":"{iss}","sub":"{sub}","exp":{now}}}"#));
        assert_eq!(
            read_assertion(&claims("c", "c"), Some("other"), now).unwrap_err(),
            "client_id differs from the assertion's iss"
        );
        assert_eq!(read_assertion(&claims("c", "d"), None, now).unwrap_err(), "sub must equal iss");
        let hs256 = format!("{}.{}.c2ln", b64url(br#"{"alg":"HS256"}"#), b64url(b"{}"));
        assert_eq!(read_assertion(&hs256, None, now).unwrap_err(), "unsupported alg");
    }
}
