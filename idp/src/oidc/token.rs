//! The token endpoint (OIDC Core §3.1.3, RFC 6749 §4.1.3 and §6): authorization codes,
//! once, and refresh tokens, rotated. The mandate is checked again at every exchange.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::clients::Client;
use mandate_store::exchange::{self, CodeExchange, CodeRefusal, GrantContext, NewTokens, PkceProof};
use mandate_store::grants::TokenLifetimes;
use mandate_store::{now, secret_hash, DbConnection};
use serde_json::{json, Value};

use super::client_auth::{authenticate, authenticate_then};
use super::client_form::ClientForm;
use super::errors::TokenError;
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

/// The client is authenticated first, whatever the grant; the grant's own store work then runs
/// in the same store call (see `authenticate_then`).
async fn by_grant_type(req: &HttpRequest, form: &Params, state: &AppState) -> Result<HttpResponse, TokenError> {
    let audience = state.settings.url("/token");
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let presented = CodePresented::read(form);
            let (access, refresh) = (random_secret(), random_secret());
            let tokens = TokenHashes::of(&access, &refresh);
            let (_, issued) = authenticate_then(state, req, form, &audience, move |conn, client| {
                redeem(conn, client, presented?, &tokens)
            })
            .await?;
            token_body(state, &issued.context, &access, issued.refresh_issued.then_some(refresh.as_str()))
        }
        Some("refresh_token") => {
            let old = form
                .get("refresh_token")
                .filter(|t| !t.is_empty())
                .map(|t| secret_hash(t))
                .ok_or_else(|| TokenError::invalid_request("refresh_token is required"));
            let (access, refresh) = (random_secret(), random_secret());
            let tokens = TokenHashes::of(&access, &refresh);
            let (_, context) = authenticate_then(state, req, form, &audience, move |conn, client| {
                let new = tokens.new_tokens();
                exchange::rotate_refresh(conn, &client.id, &old?, &new, now())?.map_err(TokenError::from)
            })
            .await?;
            token_body(state, &context, &access, Some(&refresh))
        }
        Some(_) => {
            authenticate(state, req, form, &audience).await?;
            Err(TokenError::UnsupportedGrantType("grant_type must be authorization_code or refresh_token".into()))
        }
        None => {
            authenticate(state, req, form, &audience).await?;
            Err(TokenError::invalid_request("grant_type is required"))
        }
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

/// What an authorization-code request presents besides the client: the code (only its hash
/// is looked up), the redirect URI and the PKCE verifier.
struct CodePresented {
    code_hash: String,
    redirect_uri: String,
    pkce: PkceProof,
}

impl CodePresented {
    /// A request without a code is refused, once the client is authenticated.
    fn read(form: &Params) -> Result<CodePresented, TokenError> {
        let code = form
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| TokenError::invalid_request("code is required"))?;
        Ok(CodePresented {
            code_hash: secret_hash(code),
            redirect_uri: form.get("redirect_uri").cloned().unwrap_or_default(),
            pkce: pkce_proof(form.get("code_verifier").map(String::as_str)),
        })
    }
}

/// The hashes of the tokens about to be issued (the tokens themselves never reach the store).
struct TokenHashes {
    access_hash: String,
    refresh_hash: String,
}

impl TokenHashes {
    fn of(access: &str, refresh: &str) -> TokenHashes {
        TokenHashes { access_hash: secret_hash(access), refresh_hash: secret_hash(refresh) }
    }

    fn new_tokens(&self) -> NewTokens<'_> {
        NewTokens { access_hash: &self.access_hash, refresh_hash: &self.refresh_hash, lifetimes: LIFETIMES }
    }
}

/// Spends the code for `client` (see `exchange::redeem_code`), in the client's store call.
fn redeem(
    conn: &mut DbConnection,
    client: &Client,
    presented: CodePresented,
    tokens: &TokenHashes,
) -> Result<exchange::Issued, TokenError> {
    let exchange = CodeExchange {
        client_id: &client.id,
        code_hash: &presented.code_hash,
        redirect_uri: &presented.redirect_uri,
        pkce: presented.pkce,
        tokens: tokens.new_tokens(),
    };
    exchange::redeem_code(conn, &exchange, now())?.map_err(|refusal| {
        match refusal {
            CodeRefusal::Reused => {
                tracing::warn!(client_id = %client.id, "authorization code reused: its grant and tokens were revoked")
            }
            CodeRefusal::Mandate(why) => {
                tracing::info!(?why, client_id = %client.id, "code refused: the mandate no longer allows it")
            }
            _ => {}
        }
        TokenError::from(refusal)
    })
}
