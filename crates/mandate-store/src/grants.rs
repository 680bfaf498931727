//! Grants (a helper's choice for one relying party) with their authorization codes and
//! tokens. Codes and tokens are stored hashed; revoking a grant voids everything it issued.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::Demarche;
use crate::error::{StoreError, StoreResult};
use crate::schema::{authorization_codes, client_assertion_jtis, grants, tokens};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = grants)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub session_sid: String,
    pub aidant_id: String,
    pub organisation_id: String,
    pub usager_id: String,
    pub demarche: Demarche,
    pub authorisation_id: String,
    pub mandate_id: String,
    /// Space-separated granted scopes.
    pub scope: String,
    /// The `claims` request parameter.
    pub claims: Option<ClaimsRequest>,
    pub nonce: Option<String>,
    pub auth_time: NaiveDateTime,
    pub acr: String,
    pub amr: Amr,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

crate::json_list_column! {
    /// The authentication methods used (the `amr` claim), stored as a JSON array.
    pub struct Amr(pub Vec<String>) in "grants.amr";
}

/// The `claims` request parameter (OIDC Core §5.5) as the relying party gave it: a JSON object
/// whose members (`id_token`, `userinfo`) name the claims asked for.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(transparent)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct ClaimsRequest(pub serde_json::Map<String, serde_json::Value>);

crate::json_text_column!(ClaimsRequest, "grants.claims");

impl ClaimsRequest {
    /// The claim names asked for in one section (`id_token`, `userinfo`).
    pub fn names_in(&self, section: &str) -> Vec<String> {
        self.0.get(section).and_then(|s| s.as_object()).map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }
}

impl Grant {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }
    pub fn amr(&self) -> &[String] {
        &self.amr.0
    }
    /// A refresh token is issued only when `offline_access` was granted (OIDC Core §11).
    pub fn allows_refresh(&self) -> bool {
        self.has_scope("offline_access")
    }
}

/// Everything a grant records, before it exists.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub client_id: String,
    pub session_sid: String,
    pub aidant_id: String,
    pub organisation_id: String,
    pub usager_id: String,
    pub demarche: Demarche,
    pub authorisation_id: String,
    pub mandate_id: String,
    pub scope: String,
    /// The `claims` request parameter; must be a JSON object.
    pub claims: Option<serde_json::Value>,
    pub nonce: Option<String>,
    pub auth_time: NaiveDateTime,
    pub acr: String,
    pub amr: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub grant_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// The code's binding, besides its grant.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub code_hash: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub lifetime: Duration,
}

/// Records the grant and its authorization code together.
pub fn create_with_code(
    conn: &mut DbConnection,
    new: NewGrant,
    code: NewCode,
    now: NaiveDateTime,
) -> StoreResult<Grant> {
    let claims = match new.claims {
        None => None,
        Some(serde_json::Value::Object(members)) => Some(ClaimsRequest(members)),
        Some(_) => {
            return Err(StoreError::InvalidField { field: "claims", reason: "must be a JSON object".into() });
        }
    };
    let grant = Grant {
        id: new_id(),
        client_id: new.client_id,
        session_sid: new.session_sid,
        aidant_id: new.aidant_id,
        organisation_id: new.organisation_id,
        usager_id: new.usager_id,
        demarche: new.demarche,
        authorisation_id: new.authorisation_id,
        mandate_id: new.mandate_id,
        scope: new.scope,
        claims,
        nonce: new.nonce,
        auth_time: new.auth_time,
        acr: new.acr,
        amr: Amr(new.amr),
        created_at: now,
        revoked_at: None,
    };
    let stored_code = AuthorizationCode {
        code_hash: code.code_hash,
        grant_id: grant.id.clone(),
        redirect_uri: code.redirect_uri,
        code_challenge: code.code_challenge,
        code_challenge_method: code.code_challenge_method,
        created_at: now,
        expires_at: now + code.lifetime,
        used_at: None,
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(grants::table).values(&grant).execute(conn)?;
        diesel::insert_into(authorization_codes::table).values(&stored_code).execute(conn)?;
        Ok::<_, StoreError>(())
    })?;
    Ok(grant)
}

/// Revokes a grant: its tokens stop working at once.
pub fn revoke_grant(conn: &mut DbConnection, grant_id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(grants::table.find(grant_id).filter(grants::revoked_at.is_null()))
        .set(grants::revoked_at.eq(now))
        .execute(conn)?;
    diesel::update(tokens::table.filter(tokens::grant_id.eq(grant_id)).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

crate::keyed_enum! {
    /// What a stored token is for.
    pub enum TokenKind in "tokens.kind" {
        Access = "access",
        Refresh = "refresh",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub struct Token {
    pub token_hash: String,
    pub grant_id: String,
    pub kind: TokenKind,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl Token {
    /// Neither revoked nor expired, on a grant that is not revoked.
    pub fn is_live(&self, grant: &Grant, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && grant.revoked_at.is_none()
    }
}

pub fn issue_token(
    conn: &mut DbConnection,
    grant_id: &str,
    kind: TokenKind,
    token_hash: &str,
    lifetime: Duration,
    now: NaiveDateTime,
) -> StoreResult<Token> {
    let token = Token {
        token_hash: token_hash.to_owned(),
        grant_id: grant_id.to_owned(),
        kind,
        created_at: now,
        expires_at: now + lifetime,
        revoked_at: None,
    };
    diesel::insert_into(tokens::table).values(&token).execute(conn)?;
    Ok(token)
}

/// A token and its grant, whatever their state (the caller decides what is live).
pub fn find_token(conn: &mut DbConnection, token_hash: &str) -> StoreResult<Option<(Token, Grant)>> {
    Ok(tokens::table
        .inner_join(grants::table)
        .filter(tokens::token_hash.eq(token_hash))
        .select((Token::as_select(), Grant::as_select()))
        .first(conn)
        .optional()?)
}

/// A token that is neither revoked nor expired, on a grant that is not revoked.
pub fn find_live_token(
    conn: &mut DbConnection,
    token_hash: &str,
    kind: TokenKind,
    now: NaiveDateTime,
) -> StoreResult<Option<(Token, Grant)>> {
    Ok(find_token(conn, token_hash)?.filter(|(t, g)| t.kind == kind && t.is_live(g, now)))
}

pub fn revoke_token(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(tokens::table.find(token_hash).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// How long newly issued tokens live.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

/// The newest unrevoked grant this browser session made for this client (prompt=none reuses it).
pub fn latest_for_session(conn: &mut DbConnection, session_sid: &str, client_id: &str) -> StoreResult<Option<Grant>> {
    Ok(grants::table
        .filter(grants::session_sid.eq(session_sid))
        .filter(grants::client_id.eq(client_id))
        .filter(grants::revoked_at.is_null())
        .order(grants::created_at.desc())
        .select(Grant::as_select())
        .first(conn)
        .optional()?)
}

/// Clients that received a grant in this browser session (back-channel logout notifies them).
pub fn clients_of_session(conn: &mut DbConnection, session_sid: &str) -> StoreResult<Vec<String>> {
    let mut ids: Vec<String> =
        grants::table.filter(grants::session_sid.eq(session_sid)).select(grants::client_id).load(conn)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Revokes every grant of a browser session (logout).
pub fn revoke_session_grants(conn: &mut DbConnection, session_sid: &str, now: NaiveDateTime) -> StoreResult<()> {
    write_transaction(conn, |conn| {
        let ids: Vec<String> = grants::table
            .filter(grants::session_sid.eq(session_sid))
            .filter(grants::revoked_at.is_null())
            .select(grants::id)
            .load(conn)?;
        for id in ids {
            revoke_grant(conn, &id, now)?;
        }
        Ok(())
    })
}

/// Records a client assertion's `jti`; false when it was already used (a replay).
pub fn record_assertion_jti(
    conn: &mut DbConnection,
    client_id: &str,
    jti: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        diesel::delete(client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.le(now))).execute(conn)?;
        let seen: bool = diesel::select(diesel::dsl::exists(
            client_assertion_jtis::table
                .filter(client_assertion_jtis::client_id.eq(client_id))
                .filter(client_assertion_jtis::jti.eq(jti)),
        ))
        .get_result(conn)?;
        if seen {
            return Ok(false);
        }
        diesel::insert_into(client_assertion_jtis::table)
            .values((
                client_assertion_jtis::client_id.eq(client_id),
                client_assertion_jtis::jti.eq(jti),
                client_assertion_jtis::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(true)
    })
}
