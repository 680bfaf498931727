//! What an authorization code records (OIDC Core §3.1.2.5): the grant it stands for — who
//! acted, for whom, under which authorisation — and what the token request must repeat
//! (redirect URI, PKCE challenge).

use chrono::NaiveDateTime;
use mandate_store::grants::{NewCode, NewGrant};
use mandate_store::mandates::LiveAuthorisation;
use mandate_store::secret_hash;
use mandate_store::sessions::Session;

use super::request::{AuthorizationRequest, ACR_EIDAS1};

/// Codes live 60 s and work once.
pub const CODE_LIFETIME_SECONDS: i64 = 60;

/// A code ready to be stored: the secret goes to the relying party, only its hash is kept.
pub struct IssuedCode {
    pub code: String,
    pub grant: NewGrant,
    pub binding: NewCode,
}

/// The grant and code for `request`, made by the helper of `session` under `live`.
pub fn issue(
    request: &AuthorizationRequest,
    session: &Session,
    aidant_id: &str,
    live: &LiveAuthorisation,
    code: String,
    now: NaiveDateTime,
) -> IssuedCode {
    let grant = NewGrant {
        client_id: request.client_id.clone(),
        session_sid: session.sid.clone(),
        aidant_id: aidant_id.to_owned(),
        organisation_id: live.organisation_id.clone(),
        usager_id: live.usager_id.clone(),
        demarche: live.demarche,
        authorisation_id: live.authorisation_id.clone(),
        mandate_id: live.mandate_id.clone(),
        scope: request.scope_string(),
        claims: request.claims.clone(),
        nonce: request.nonce.clone(),
        // `auth_time` is when both factors were last given, not when the code is made.
        auth_time: session.authenticated_at.unwrap_or(now),
        acr: ACR_EIDAS1.to_owned(),
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
    };
    let binding = NewCode {
        code_hash: secret_hash(&code),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        code_challenge_method: request.code_challenge_method.clone(),
        lifetime: chrono::Duration::seconds(CODE_LIFETIME_SECONDS),
    };
    IssuedCode { code, grant, binding }
}
