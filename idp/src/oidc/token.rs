//! The token endpoint (OIDC Core §3.1.3, RFC 6749 §4.1.3 and §6): authorization codes,
//! once, and refresh tokens, rotated. The mandate is checked again at every exchange.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::clients::Client;
use mandate_store::exchange::{self, CodeExchange, CodeRefusal, GrantContext, NewTokens};
use mandate_store::grants::TokenLifetimes;
use mandate_store::{now, secret_hash};
use serde_json::{json, Value};

use super::client_auth::authenticate;
use super::client_form::ClientForm;
use super::errors::TokenError;
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::keys::SigningAlg;
use crate::protocol::claims::{id_token_claims, Subject};
use crate::protocol::pkce::pkce_proof;
use crate::protocol::request::Params;
use crate::web::AppState;

pub const ACCESS_TOKEN_SECONDS: i64 = 600;
pub const REFRESH_TOKEN_SECONDS: i64 = 12 * 3600;
pub const ID_TOKEN_SECONDS: i64 = 300;

const LIFETIMES: TokenLifetimes = TokenLifetimes {
    access: chrono::Duration::seconds(ACCESS_TOKEN_SECONDS),
    refresh: chrono::Duration::seconds(REFRESH_TOKEN_SECONDS),
};

pub async fn token(
    req: HttpRequest,
    ClientForm(form): ClientForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let grant_type = match form.get("grant_type").map(String::as_str) {
        Some(g @ ("authorization_code" | "refresh_token")) => g,
        Some(_) => "other",
        None => "none",
    };
    let result = by_grant_type(&req, &form, &state).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    };
    state.metrics.token_exchanges.with_label_values(&[grant_type, outcome]).inc();
    result
}

async fn by_grant_type(req: &HttpRequest, form: &Params, state: &AppState) -> Result<HttpResponse, TokenError> {
    let client = authenticate(state, req, form, &state.settings.url("/token")).await?;
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => authorization_code(state, client, form).await,
        Some("refresh_token") => refresh_token(state, client, form).await,
        Some(_) => {
            Err(TokenError::UnsupportedGrantType("grant_type must be authorization_code or refresh_token".into()))
        }
        None => Err(TokenError::invalid_request("grant_type is required")),
    }
}

fn id_token(state: &AppState, context: &GrantContext, access_token: &str) -> Result<String, TokenError> {
    let claims = id_token_claims(
        &Subject::of(context, &state.subjects),
        &state.settings.issuer,
        access_token,
        now(),
        ID_TOKEN_SECONDS,
    );
    let alg = SigningAlg::from(context.client.id_token_signed_response_alg);
    state.keys.sign(alg, "JWT", &Value::Object(claims)).map_err(|e| {
        tracing::error!(error = %e, "cannot sign an ID token");
        TokenError::ServerError("cannot sign the ID token".into())
    })
}

fn success(body: Value) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache")).json(body)
}

/// The token response (OIDC Core §3.1.3.3): only the ID token is made here, after the store
/// has recorded everything.
fn token_body(
    state: &AppState,
    context: &GrantContext,
    access: &str,
    refresh: Option<&str>,
) -> Result<HttpResponse, TokenError> {
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": context.grant.scope,
        "id_token": id_token(state, context, access)?,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    Ok(success(body))
}

async fn authorization_code(state: &AppState, client: Client, form: &Params) -> Result<HttpResponse, TokenError> {
    let code =
        form.get("code").filter(|c| !c.is_empty()).ok_or_else(|| TokenError::invalid_request("code is required"))?;
    let code_hash = secret_hash(code);
    let redirect_uri = form.get("redirect_uri").cloned().unwrap_or_default();
    let pkce = pkce_proof(form.get("code_verifier").map(String::as_str));
    let (access, refresh) = (random_secret(), random_secret());
    let (access_hash, refresh_hash) = (secret_hash(&access), secret_hash(&refresh));
    let client_id = client.id.clone();
    let issued = with_conn(&state.store, move |conn| {
        let presented = CodeExchange {
            client_id: &client_id,
            code_hash: &code_hash,
            redirect_uri: &redirect_uri,
            pkce,
            tokens: NewTokens { access_hash: &access_hash, refresh_hash: &refresh_hash, lifetimes: LIFETIMES },
        };
        exchange::redeem_code(conn, &presented, now())?.map_err(|refusal| {
            match refusal {
                CodeRefusal::Reused => {
                    tracing::warn!(client_id = %client_id, "authorization code reused: its grant and tokens were revoked")
                }
                CodeRefusal::Mandate(why) => {
                    tracing::info!(?why, client_id = %client_id, "code refused: the mandate no longer allows it")
                }
                _ => {}
            }
            TokenError::from(refusal)
        })
    })
    .await?;
    token_body(state, &issued.context, &access, issued.refresh_issued.then_some(refresh.as_str()))
}

async fn refresh_token(state: &AppState, client: Client, form: &Params) -> Result<HttpResponse, TokenError> {
    let old = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::invalid_request("refresh_token is required"))?;
    let old_hash = secret_hash(old);
    let (access, refresh) = (random_secret(), random_secret());
    let (access_hash, refresh_hash) = (secret_hash(&access), secret_hash(&refresh));
    let context = with_conn(&state.store, move |conn| {
        let tokens = NewTokens { access_hash: &access_hash, refresh_hash: &refresh_hash, lifetimes: LIFETIMES };
        exchange::rotate_refresh(conn, &client.id, &old_hash, &tokens, now())?.map_err(TokenError::from)
    })
    .await?;
    token_body(state, &context, &access, Some(&refresh))
}
