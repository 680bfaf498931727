//! The token endpoint's steps, one transaction each: a code redeemed or a refresh token rotated
//! is found, checked, spent, replaced by new tokens and journaled together, or not at all.
//!
//! Single use holds across requests and replicas because a code or a refresh token is *claimed*
//! by a conditional write (`UPDATE … WHERE used_at IS NULL`, `… WHERE revoked_at IS NULL`) whose
//! affected-row count says who won. On PostgreSQL a concurrent claim waits on the row lock and,
//! once the winner commits, re-checks its condition and changes nothing; on SQLite the write
//! transaction (`BEGIN IMMEDIATE`) already runs one claim at a time. Either way exactly one
//! request sees one row changed, and a loser is a reuse: it revokes what the winner received.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::aidants::{self, Aidant};
use crate::clients::{self, Client};
use crate::db::{write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::grants::{issue_token, revoke_grant, AuthorizationCode, Grant, Token, TokenKind, TokenLifetimes};
use crate::journal::{self, JournalAction, NewEntry};
use crate::mandates::{self, LiveAuthorisation, Permission, Refusal};
use crate::organisations::{self, Organisation};
use crate::schema::{authorization_codes, grants, tokens};
use crate::usagers::{self, Usager};

/// A grant that is still live, with everything a token about it says.
#[derive(Debug, Clone)]
pub struct GrantContext {
    pub grant: Grant,
    pub client: Client,
    pub usager: Usager,
    pub aidant: Aidant,
    pub organisation: Organisation,
    /// The very authorisation the grant was made under, still in force.
    pub authorisation: LiveAuthorisation,
}

/// The grant's context if the helper may still act for the usager for the grant's démarche
/// under the very authorisation the grant was made with; otherwise why not. A *replaced*
/// authorisation refuses too: the usager's newer mandate was not the one the helper chose.
fn context_if_live(
    conn: &mut DbConnection,
    grant: Grant,
    now: NaiveDateTime,
) -> StoreResult<Result<GrantContext, Refusal>> {
    let permission =
        mandates::may_act(conn, &grant.aidant_id, &grant.organisation_id, &grant.usager_id, grant.demarche, now)?;
    let authorisation = match permission {
        Permission::Granted(live) if live.authorisation_id == grant.authorisation_id => live,
        Permission::Granted(_) => return Ok(Err(Refusal::AuthorisationRevoked)),
        Permission::Denied(refusal) => return Ok(Err(refusal)),
    };
    let client = clients::find(conn, &grant.client_id)?.ok_or(StoreError::NotFound("client"))?;
    Ok(Ok(GrantContext {
        usager: usagers::find(conn, &grant.usager_id)?,
        aidant: aidants::find(conn, &grant.aidant_id)?,
        organisation: organisations::find(conn, &grant.organisation_id)?,
        client,
        grant,
        authorisation,
    }))
}

/// Is the grant still live? If not, it is revoked with everything it issued, so that every
/// token of a grant whose mandate ended stops at once, whichever endpoint noticed first. The
/// one rule behind the code exchange, refresh, userinfo and introspection.
pub fn check_grant(
    conn: &mut DbConnection,
    grant: Grant,
    now: NaiveDateTime,
) -> StoreResult<Result<GrantContext, Refusal>> {
    let grant_id = grant.id.clone();
    match context_if_live(conn, grant, now)? {
        Ok(context) => Ok(Ok(context)),
        Err(refusal) => {
            write_transaction(conn, |conn| revoke_grant(conn, &grant_id, now))?;
            Ok(Err(refusal))
        }
    }
}

/// What the client proved about PKCE (RFC 7636 §4.5): the server computed the S256 challenge
/// of the `code_verifier` it received, and the store compares it with the code's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PkceProof {
    /// No `code_verifier` was sent.
    Absent,
    /// A `code_verifier` that is not 43–128 unreserved characters (§4.1): it matches nothing.
    Malformed,
    /// BASE64URL(SHA256(code_verifier)).
    S256(String),
}

/// The hashes of the tokens to store if the exchange succeeds, and how long they live.
#[derive(Debug, Clone, Copy)]
pub struct NewTokens<'a> {
    pub access_hash: &'a str,
    pub refresh_hash: &'a str,
    pub lifetimes: TokenLifetimes,
}

/// An authorization code presented at the token endpoint (RFC 6749 §4.1.3).
#[derive(Debug, Clone)]
pub struct CodeExchange<'a> {
    /// The authenticated client.
    pub client_id: &'a str,
    pub code_hash: &'a str,
    /// As sent with the token request; empty when absent.
    pub redirect_uri: &'a str,
    pub pkce: PkceProof,
    pub tokens: NewTokens<'a>,
}

/// A successful exchange: the grant's context, and whether a refresh token was stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub context: GrantContext,
    pub refresh_issued: bool,
}

/// Why a code was refused. Every refusal but `Unknown` and `Expired` also revoked the grant
/// and whatever it issued: a code presented wrongly is spent anyway (RFC 6749 §4.1.2, §10.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeRefusal {
    Unknown,
    Expired,
    /// Already used, by an earlier request or a concurrent one that won.
    Reused,
    OtherClient,
    RedirectUriMismatch,
    VerifierMismatch,
    /// A `code_verifier` came with a code issued without a challenge.
    UnexpectedVerifier,
    Mandate(Refusal),
}

/// Redeems an authorization code: one transaction that claims the code, checks client,
/// redirect URI, PKCE and the mandate, stores the new tokens and journals *authorisation
/// used*. Refusals that revoke are committed too (the refusal is the `Err` inside `Ok`).
pub fn redeem_code(
    conn: &mut DbConnection,
    exchange: &CodeExchange<'_>,
    now: NaiveDateTime,
) -> StoreResult<Result<Issued, CodeRefusal>> {
    write_transaction(conn, |conn| {
        // The claim: of concurrent requests for one code, exactly one changes the row.
        let claimed = diesel::update(
            authorization_codes::table
                .find(exchange.code_hash)
                .filter(authorization_codes::used_at.is_null())
                .filter(authorization_codes::expires_at.gt(now)),
        )
        .set(authorization_codes::used_at.eq(now))
        .execute(conn)?
            == 1;
        let found: Option<(AuthorizationCode, Grant)> = authorization_codes::table
            .inner_join(grants::table)
            .filter(authorization_codes::code_hash.eq(exchange.code_hash))
            .select((AuthorizationCode::as_select(), Grant::as_select()))
            .first(conn)
            .optional()?;
        let Some((code, grant)) = found else { return Ok(Err(CodeRefusal::Unknown)) };
        if !claimed {
            if code.used_at.is_some() {
                // RFC 6749 §4.1.2: a code used twice revokes the tokens it gave.
                revoke_grant(conn, &grant.id, now)?;
                return Ok(Err(CodeRefusal::Reused));
            }
            return Ok(Err(CodeRefusal::Expired));
        }
        if grant.revoked_at.is_some() {
            return Ok(Err(CodeRefusal::Expired));
        }
        if let Some(refusal) = binding_refusal(exchange, &grant, &code) {
            revoke_grant(conn, &grant.id, now)?;
            return Ok(Err(refusal));
        }
        let context = match check_grant(conn, grant, now)? {
            Ok(context) => context,
            Err(refusal) => return Ok(Err(CodeRefusal::Mandate(refusal))),
        };
        let refresh_issued = context.grant.allows_refresh();
        store_tokens(conn, &context, &exchange.tokens, refresh_issued, "authorization_code", now)?;
        Ok(Ok(Issued { context, refresh_issued }))
    })
}

/// The code's bindings (RFC 6749 §4.1.3, RFC 7636 §4.6): its client, its redirect URI, its
/// PKCE challenge. The challenge is not a secret (it travelled in the front channel), so a
/// plain comparison is fine.
fn binding_refusal(exchange: &CodeExchange<'_>, grant: &Grant, code: &AuthorizationCode) -> Option<CodeRefusal> {
    if grant.client_id != exchange.client_id {
        return Some(CodeRefusal::OtherClient);
    }
    if code.redirect_uri != exchange.redirect_uri {
        return Some(CodeRefusal::RedirectUriMismatch);
    }
    match (&code.code_challenge, &exchange.pkce) {
        (Some(challenge), PkceProof::S256(computed)) if computed == challenge => None,
        (Some(_), _) => Some(CodeRefusal::VerifierMismatch),
        (None, PkceProof::Absent) => None,
        (None, _) => Some(CodeRefusal::UnexpectedVerifier),
    }
}

/// Stores the access token (and the refresh token) and journals *authorisation used*.
fn store_tokens(
    conn: &mut DbConnection,
    context: &GrantContext,
    new: &NewTokens<'_>,
    with_refresh: bool,
    grant_type: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let grant = &context.grant;
    issue_token(conn, &grant.id, TokenKind::Access, new.access_hash, new.lifetimes.access, now)?;
    if with_refresh {
        issue_token(conn, &grant.id, TokenKind::Refresh, new.refresh_hash, new.lifetimes.refresh, now)?;
    }
    journal::record(
        conn,
        NewEntry::new(JournalAction::AuthorisationUsed)
            .aidant(&grant.aidant_id)
            .organisation(&grant.organisation_id)
            .usager(&grant.usager_id)
            .mandate(&grant.mandate_id)
            .authorisation(&grant.authorisation_id)
            .demarche(context.authorisation.demarche)
            .client(&grant.client_id)
            .details(serde_json::json!({"grant_type": grant_type})),
        now,
    )?;
    Ok(())
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshRefusal {
    /// Unknown, expired, not a refresh token, another client's (left untouched), or its grant
    /// is revoked.
    Invalid,
    /// Already spent (earlier, or by a concurrent request that won): the whole grant was
    /// revoked, since the token may have leaked (RFC 9700 §4.14.2).
    Reused,
    /// The mandate no longer allows it: the grant was revoked.
    Mandate(Refusal),
}

/// Refresh-token rotation in one transaction: claims `old_hash` for `client_id`, re-checks the
/// mandate, stores the new access and refresh tokens and journals *authorisation used*.
pub fn rotate_refresh(
    conn: &mut DbConnection,
    client_id: &str,
    old_hash: &str,
    new: &NewTokens<'_>,
    now: NaiveDateTime,
) -> StoreResult<Result<GrantContext, RefreshRefusal>> {
    write_transaction(conn, |conn| {
        // The claim: only a live refresh token of this client, on a live grant, is spent, and
        // of concurrent requests exactly one spends it.
        let claimed = diesel::update(
            tokens::table
                .find(old_hash)
                .filter(tokens::kind.eq(TokenKind::Refresh))
                .filter(tokens::revoked_at.is_null())
                .filter(tokens::expires_at.gt(now))
                .filter(
                    tokens::grant_id.eq_any(
                        grants::table
                            .filter(grants::client_id.eq(client_id))
                            .filter(grants::revoked_at.is_null())
                            .select(grants::id),
                    ),
                ),
        )
        .set(tokens::revoked_at.eq(now))
        .execute(conn)?
            == 1;
        let found: Option<(Token, Grant)> = tokens::table
            .inner_join(grants::table)
            .filter(tokens::token_hash.eq(old_hash))
            .select((Token::as_select(), Grant::as_select()))
            .first(conn)
            .optional()?;
        let Some((token, grant)) = found else { return Ok(Err(RefreshRefusal::Invalid)) };
        if !claimed {
            if grant.client_id != client_id || token.kind != TokenKind::Refresh || grant.revoked_at.is_some() {
                return Ok(Err(RefreshRefusal::Invalid));
            }
            if token.revoked_at.is_some() {
                revoke_grant(conn, &grant.id, now)?;
                return Ok(Err(RefreshRefusal::Reused));
            }
            return Ok(Err(RefreshRefusal::Invalid));
        }
        let context = match check_grant(conn, grant, now)? {
            Ok(context) => context,
            Err(refusal) => return Ok(Err(RefreshRefusal::Mandate(refusal))),
        };
        store_tokens(conn, &context, new, true, "refresh_token", now)?;
        Ok(Ok(context))
    })
}
