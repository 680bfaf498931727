//! Token revocation (RFC 7009). Revoking a refresh token revokes its whole grant.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::grants::{self, TokenKind};
use mandate_store::{now, secret_hash};

use super::client_auth::authenticate;
use super::client_form::ClientForm;
use super::errors::TokenError;
use crate::blocking::with_conn;
use crate::web::AppState;

pub async fn revoke(
    req: HttpRequest,
    ClientForm(form): ClientForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let client = authenticate(&state, &req, &form, &state.settings.url("/revoke")).await?;
    let token =
        form.get("token").filter(|t| !t.is_empty()).ok_or_else(|| TokenError::invalid_request("token is required"))?;
    let hash = secret_hash(token);
    with_conn(&state.store, move |conn| {
        // RFC 7009 §2.2: an unknown token, or one of another client, is answered 200 all the same.
        if let Some((token, grant)) = grants::find_token(conn, &hash)? {
            if grant.client_id == client.id {
                match token.kind {
                    TokenKind::Refresh => grants::revoke_grant(conn, &grant.id, now())?,
                    TokenKind::Access => grants::revoke_token(conn, &hash, now())?,
                }
            }
        }
        Ok::<_, TokenError>(())
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).finish())
}
