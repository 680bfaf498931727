//! Token introspection (RFC 7662) for authenticated clients, about their own tokens; the
//! answer includes who acted (`act`) and under which mandate.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::grants::{self, TokenKind};
use mandate_store::{exchange, now, secret_hash};
use serde_json::json;

use super::client_auth::authenticate;
use super::client_form::ClientForm;
use super::errors::TokenError;
use crate::blocking::with_conn;
use crate::protocol::claims::{act_claim, mandate_claim, Subject};
use crate::web::AppState;

pub async fn introspect(
    req: HttpRequest,
    ClientForm(form): ClientForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let client = authenticate(&state, &req, &form, &state.settings.url("/introspect")).await?;
    let token =
        form.get("token").filter(|t| !t.is_empty()).ok_or_else(|| TokenError::invalid_request("token is required"))?;
    let hash = secret_hash(token);
    let client_id = client.id.clone();
    let found = with_conn(&state.store, move |conn| {
        let Some((token, grant)) = grants::find_token(conn, &hash)? else { return Ok::<_, TokenError>(None) };
        if !token.is_live(&grant, now()) || grant.client_id != client_id {
            return Ok(None);
        }
        // A grant whose mandate ended is revoked here as anywhere else it is noticed.
        Ok(exchange::check_grant(conn, grant, now())?.ok().map(|g| (token, g)))
    })
    .await?;
    let body = match found {
        None => json!({"active": false}),
        Some((token, live)) => json!({
            "active": true,
            "scope": live.grant.scope,
            "client_id": live.grant.client_id,
            "token_type": match token.kind {
                TokenKind::Refresh => "refresh_token",
                TokenKind::Access => "Bearer",
            },
            "exp": token.expires_at.and_utc().timestamp(),
            "iat": token.created_at.and_utc().timestamp(),
            "sub": state.subjects.subject_for(&live.client, &live.usager.id),
            "aud": live.grant.client_id,
            "iss": state.settings.issuer,
            "act": act_claim(&live.aidant, &live.organisation),
            "mandate": mandate_claim(&Subject::of(&live, &state.subjects)),
        }),
    };
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(body))
}
