//! The userinfo endpoint (OIDC Core §5.3): GET or POST, bearer token in the header or the
//! form body (RFC 6750 §2.1, §2.2), never the query. JSON, or a signed JWT when registered.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::exchange;
use mandate_store::grants::{self, TokenKind};
use mandate_store::{now, secret_hash};
use serde_json::{json, Value};

use super::errors::BearerError;
use crate::blocking::with_conn;
use crate::keys::SigningAlg;
use crate::protocol::claims::{userinfo_claims, Subject};
use crate::protocol::params::ProtocolParams;
use crate::web::AppState;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BearerError> {
    userinfo(&req, None, &state).await
}

pub async fn post(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, BearerError> {
    let is_form = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form { ProtocolParams::parse(&body) } else { ProtocolParams::default() };
    // RFC 6749 §3.1 (a token sent twice is not a choice we make), and the usual length limits.
    if let Some(fault) = form.fault() {
        return Err(BearerError::invalid_request(fault.description()));
    }
    userinfo(&req, form.get("access_token").cloned(), &state).await
}

fn bearer_from_header(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

async fn userinfo(
    req: &HttpRequest,
    form_token: Option<String>,
    state: &AppState,
) -> Result<HttpResponse, BearerError> {
    if req.query_string().split('&').any(|p| p.starts_with("access_token=")) {
        return Err(BearerError::invalid_request("the access token must not be sent in the query"));
    }
    let token = match (bearer_from_header(req), form_token) {
        (Some(_), Some(_)) => return Err(BearerError::invalid_request("send the token once")),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Err(BearerError::missing()),
    };
    let hash = secret_hash(&token);
    let live = with_conn(&state.store, move |conn| {
        let Some((_, grant)) = grants::find_live_token(conn, &hash, TokenKind::Access, now())? else {
            return Err(BearerError::invalid_token("the access token is invalid, expired or revoked"));
        };
        exchange::check_grant(conn, grant, now())?
            .map_err(|_| BearerError::invalid_token("the mandate no longer allows this"))
    })
    .await?;

    let mut claims = userinfo_claims(&Subject::of(&live, &state.subjects));
    let response = match live.client.userinfo_signed_response_alg.map(SigningAlg::from) {
        Some(alg) => {
            claims.insert("iss".into(), json!(state.settings.issuer));
            claims.insert("aud".into(), json!(live.client.id));
            claims.insert("iat".into(), json!(now().and_utc().timestamp()));
            let jwt = state.keys.sign(alg, "JWT", &Value::Object(claims)).map_err(|e| {
                tracing::error!(error = %e, "cannot sign userinfo");
                BearerError::invalid_token("cannot sign the response")
            })?;
            HttpResponse::Ok().content_type("application/jwt").insert_header(("Cache-Control", "no-store")).body(jwt)
        }
        None => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Value::Object(claims)),
    };
    Ok(response)
}
