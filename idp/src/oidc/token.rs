//! The token endpoint (OIDC Core §3.1.3, RFC 6749 §4.1.3 and §6): authorization codes,
//! once, and refresh tokens, rotated. The mandate is checked again at every exchange.

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::grants::{self, CodeRedemption, RefreshOutcome, TokenKind, TokenLifetimes};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::{now, secret_hash, DbConnection, StoreResult};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::claims::id_token_claims;
use super::client_auth::authenticate;
use super::errors::TokenError;
use super::live_grant::{self, LiveGrant};
use super::request::Params;
use crate::blocking::with_conn;
use crate::encoding::{b64url, random_secret};
use crate::keys::SigningAlg;
use crate::state::AppState;

pub const ACCESS_TOKEN_SECONDS: i64 = 600;
pub const REFRESH_TOKEN_SECONDS: i64 = 12 * 3600;
pub const ID_TOKEN_SECONDS: i64 = 300;

pub async fn token(
    req: HttpRequest,
    form: web::Form<Params>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let form = form.into_inner();
    let grant_type = match form.get("grant_type").map(String::as_str) {
        Some(g @ ("authorization_code" | "refresh_token")) => g,
        Some(_) => "other",
        None => "none",
    };
    let result = exchange(&req, &form, &state).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.error,
    };
    state.metrics.token_exchanges.with_label_values(&[grant_type, outcome]).inc();
    result
}

async fn exchange(req: &HttpRequest, form: &Params, state: &AppState) -> Result<HttpResponse, TokenError> {
    let client = authenticate(state, req, form, &state.settings.url("/token")).await?;
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => authorization_code(state, client, form).await,
        Some("refresh_token") => refresh_token(state, client, form).await,
        Some(_) => {
            Err(TokenError::new("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"))
        }
        None => Err(TokenError::invalid_request("grant_type is required")),
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && b64url(&Sha256::digest(verifier.as_bytes())) == challenge
}

/// Stores new tokens and writes *authorisation used* in one transaction.
fn issue_tokens(
    conn: &mut DbConnection,
    live: &LiveGrant,
    access: &str,
    refresh: Option<&str>,
    grant_type: &str,
) -> StoreResult<()> {
    mandate_store::write_transaction(conn, |conn| {
        let at = now();
        grants::issue_token(
            conn,
            &live.grant.id,
            TokenKind::Access,
            &secret_hash(access),
            chrono::Duration::seconds(ACCESS_TOKEN_SECONDS),
            at,
        )?;
        if let Some(refresh) = refresh {
            grants::issue_token(
                conn,
                &live.grant.id,
                TokenKind::Refresh,
                &secret_hash(refresh),
                chrono::Duration::seconds(REFRESH_TOKEN_SECONDS),
                at,
            )?;
        }
        journal_use(conn, live, grant_type)
    })
}

fn journal_use(conn: &mut DbConnection, live: &LiveGrant, grant_type: &str) -> StoreResult<()> {
    journal::append(
        conn,
        NewEntry::new(JournalAction::AuthorisationUsed)
            .aidant(&live.grant.aidant_id)
            .organisation(&live.grant.organisation_id)
            .usager(&live.grant.usager_id)
            .mandate(&live.grant.mandate_id)
            .authorisation(&live.grant.authorisation_id)
            .demarche(live.authorisation.demarche)
            .client(&live.grant.client_id)
            .details(json!({"grant_type": grant_type})),
        now(),
    )?;
    Ok(())
}

fn id_token(state: &AppState, live: &LiveGrant, access_token: &str) -> Result<String, TokenError> {
    let claims = id_token_claims(&live.subject(), &state.settings.issuer, access_token, now(), ID_TOKEN_SECONDS);
    let alg: SigningAlg = live.client.id_token_signed_response_alg.parse().unwrap_or(SigningAlg::Rs256);
    state.keys.sign(alg, "JWT", &Value::Object(claims)).map_err(|e| {
        tracing::error!(error = %e, "cannot sign an ID token");
        TokenError::new("server_error", "cannot sign the ID token")
    })
}

fn success(body: Value) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache")).json(body)
}

fn token_body(state: &AppState, live: &LiveGrant, access: &str, refresh: Option<&str>) -> Result<Value, TokenError> {
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": live.grant.scope,
        "id_token": id_token(state, live, access)?,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    Ok(body)
}

async fn authorization_code(
    state: &AppState,
    client: mandate_store::clients::Client,
    form: &Params,
) -> Result<HttpResponse, TokenError> {
    let code =
        form.get("code").filter(|c| !c.is_empty()).ok_or_else(|| TokenError::invalid_request("code is required"))?;
    let redirect_uri = form.get("redirect_uri").cloned().unwrap_or_default();
    let verifier = form.get("code_verifier").cloned();
    let code_hash = secret_hash(code);
    let redemption = with_conn(&state.store, move |conn| grants::redeem_code(conn, &code_hash, now())).await?;
    let (grant, stored) = match redemption {
        CodeRedemption::Redeemed { grant, code } => (*grant, *code),
        CodeRedemption::Reused => {
            tracing::warn!(client_id = %client.id, "authorization code reused: its grant and tokens were revoked");
            return Err(TokenError::invalid_grant("the code was already used; the tokens it gave were revoked"));
        }
        CodeRedemption::Expired => return Err(TokenError::invalid_grant("the code has expired")),
        CodeRedemption::Unknown => return Err(TokenError::invalid_grant("unknown code")),
    };
    let grant_id = grant.id.clone();
    let refuse = |description: &str| {
        let grant_id = grant_id.clone();
        let store = state.store.clone();
        let description = description.to_owned();
        async move {
            // A code presented wrongly is spent anyway, and what it granted is revoked.
            with_conn(&store, move |conn| grants::revoke_grant(conn, &grant_id, now())).await?;
            Err::<HttpResponse, TokenError>(TokenError::invalid_grant(description))
        }
    };
    if grant.client_id != client.id {
        return refuse("the code was issued to another client").await;
    }
    if stored.redirect_uri != redirect_uri {
        return refuse("redirect_uri differs from the authorization request's").await;
    }
    match (&stored.code_challenge, &verifier) {
        (Some(challenge), Some(v)) if pkce_matches(v, challenge) => {}
        (Some(_), _) => return refuse("code_verifier does not match the code_challenge").await,
        (None, Some(_)) => return refuse("code_verifier sent but no code_challenge was").await,
        (None, None) => {}
    }
    let checked = with_conn(&state.store, move |conn| live_grant::check(conn, grant)).await?;
    let live = match checked {
        Ok(live) => live,
        Err(refusal) => {
            tracing::info!(?refusal, client_id = %client.id, "code refused: the mandate no longer allows it");
            let description = format!(
                "the mandate no longer allows this ({})",
                serde_json::to_value(refusal).unwrap_or_default().as_str().unwrap_or("")
            );
            return refuse(&description).await;
        }
    };
    let access = random_secret();
    let refresh = live.grant.has_scope("offline_access").then(random_secret);
    let body = token_body(state, &live, &access, refresh.as_deref())?;
    let (access_for_db, refresh_for_db) = (access.clone(), refresh.clone());
    with_conn(&state.store, move |conn| {
        issue_tokens(conn, &live, &access_for_db, refresh_for_db.as_deref(), "authorization_code")
    })
    .await?;
    Ok(success(body))
}

async fn refresh_token(
    state: &AppState,
    client: mandate_store::clients::Client,
    form: &Params,
) -> Result<HttpResponse, TokenError> {
    let old = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::invalid_request("refresh_token is required"))?;
    let (old_hash, access, refresh) = (secret_hash(old), random_secret(), random_secret());
    let (access_hash, refresh_hash) = (secret_hash(&access), secret_hash(&refresh));
    let client_id = client.id.clone();
    let outcome = with_conn(&state.store, move |conn| {
        let outcome = grants::rotate_refresh(
            conn,
            &client_id,
            &old_hash,
            &access_hash,
            &refresh_hash,
            TokenLifetimes {
                access: chrono::Duration::seconds(ACCESS_TOKEN_SECONDS),
                refresh: chrono::Duration::seconds(REFRESH_TOKEN_SECONDS),
            },
            now(),
        )?;
        let grant = match outcome {
            RefreshOutcome::Rotated(grant) => *grant,
            RefreshOutcome::Reused => {
                return Ok::<_, TokenError>(Err(TokenError::invalid_grant(
                    "refresh token already used; the grant was revoked",
                )));
            }
            RefreshOutcome::Invalid => return Ok(Err(TokenError::invalid_grant("invalid or expired refresh token"))),
        };
        let grant_id = grant.id.clone();
        match live_grant::check(conn, grant)? {
            Ok(live) => {
                journal_use(conn, &live, "refresh_token")?;
                Ok(Ok(live))
            }
            Err(_) => {
                grants::revoke_grant(conn, &grant_id, now())?;
                Ok(Err(TokenError::invalid_grant("the mandate no longer allows this")))
            }
        }
    })
    .await??;
    Ok(success(token_body(state, &outcome, &access, Some(&refresh))?))
}

#[cfg(test)]
mod tests {
    use super::pkce_matches;

    #[test]
    fn pkce_s256_rfc7636_appendix_b() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
