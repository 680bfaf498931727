//! The usager's upstream login, for the new-mandate wizard: the helper presses "S'identifier
//! avec FranceConnect", the usager logs in there (or on the demo upstream provider), and comes
//! back here with an identity that the relying-party client verified. The usager is then
//! recorded (found again by issuer and subject, never duplicated) and put into the draft.
//!
//! What the callback must check (`state`, `nonce`, PKCE verifier) is kept server-side in
//! `upstream_logins`, bound to the browser session, so any replica serves the callback.
//! Every failure is a page that says what happened, stores nothing, and is journalled with its
//! reason only.

mod error;

use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::mandate_drafts::{self, MandateDraft};
use mandate_store::upstream_logins::{self, NewUpstreamLogin};
use mandate_store::usagers::{self, UpstreamIdentity};
use mandate_store::{now, write_transaction};
use serde::Deserialize;
use serde_json::Value;

pub use error::{Failure, UpstreamError, UpstreamPage};

use crate::blocking::with_conn;
use crate::configuration::Settings;
use crate::relying_party::{LoginSecrets, RelyingParty, RelyingPartyConfig, RpError, Verified};
use crate::web::{see_other, AppState, CheckedForm, Lang, SignedInHelper};

/// The upstream provider's relying party, made at start from the settings (shared by workers):
/// one per redirect URI, the wizard's and the usager space's (see `pages::usager_space`).
pub struct UpstreamLogin {
    relying_party: Option<RelyingParty>,
    usager_space: Option<RelyingParty>,
    demo: bool,
}

impl UpstreamLogin {
    pub fn from_settings(settings: &Settings) -> Result<UpstreamLogin, RpError> {
        let Some(client) = settings.upstream_client() else {
            return Ok(UpstreamLogin { relying_party: None, usager_space: None, demo: false });
        };
        let config = RelyingPartyConfig {
            issuer: client.issuer,
            client_id: client.client_id,
            client_secret: client.client_secret,
            redirect_uri: client.redirect_uri,
            scopes: client.scopes,
            acr_values: Some(client.acr_values).filter(|a| !a.trim().is_empty()),
            timeout: client.timeout,
            connect_timeout: client.connect_timeout,
        };
        let usager_space =
            RelyingParty::new(RelyingPartyConfig { redirect_uri: client.usager_space_redirect_uri, ..config.clone() })?;
        Ok(UpstreamLogin {
            relying_party: Some(RelyingParty::new(config)?),
            usager_space: Some(usager_space),
            demo: client.is_demo,
        })
    }

    fn relying_party(&self) -> Result<&RelyingParty, UpstreamError> {
        self.relying_party.as_ref().ok_or(UpstreamError::NotConfigured)
    }

    /// The relying party whose redirect URI is the usager space's; `None` when no provider is
    /// configured.
    pub fn for_usager_space(&self) -> Option<&RelyingParty> {
        self.usager_space.as_ref()
    }

    /// The demo upstream provider stands in for FranceConnect.
    pub fn is_demo(&self) -> bool {
        self.demo
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    /// The mandate draft the usager goes into.
    pub brouillon: String,
}

/// The wizard's draft of this browser session, if it is this helper's.
async fn draft_of(state: &AppState, helper: &SignedInHelper, id: String) -> Result<MandateDraft, UpstreamError> {
    let sid = helper.browser.session.sid.clone();
    let draft = with_conn(&state.store, move |conn| mandate_drafts::find(conn, &id, &sid, now())).await?;
    draft.filter(|d| d.aidant_id == helper.aidant_id).ok_or(UpstreamError::DraftNotFound)
}

/// Journals a failed login (ids and the reason only), logs what failed, and makes its page.
async fn failed(
    state: &AppState,
    helper: &SignedInHelper,
    upstream: &UpstreamLogin,
    draft: Option<&MandateDraft>,
    failure: Failure,
) -> UpstreamError {
    let reason = failure.reason();
    // The failure's text names what failed (a step, a claim's name), never a claim's value.
    tracing::warn!(reason = reason.key(), error = %failure, "upstream login failed");
    let aidant_id = helper.aidant_id.clone();
    let organisation_id = draft.map_or_else(|| helper.organisation_id.clone(), |d| d.organisation_id.clone());
    let journalled = with_conn(&state.store, move |conn| {
        upstream_logins::record_failure(conn, Some(&aidant_id), Some(&organisation_id), reason, now())
    })
    .await;
    if let Err(e) = journalled {
        return UpstreamError::from(e);
    }
    UpstreamError::Failed { failure, draft_id: draft.map(|d| d.id.clone()), demo: upstream.demo }
}

/// `POST /espace-aidant/franceconnect/connexion`: sends the browser to the provider.
pub async fn start(
    req: HttpRequest,
    helper: SignedInHelper,
    form: CheckedForm<StartForm>,
    state: web::Data<AppState>,
    upstream: web::Data<UpstreamLogin>,
) -> Result<HttpResponse, UpstreamPage> {
    let lang = Lang::of_browser(&req);
    begin_login(helper, form.fields.brouillon, &state, &upstream).await.map_err(|e| e.in_language(lang))
}

async fn begin_login(
    helper: SignedInHelper,
    draft_id: String,
    state: &AppState,
    upstream: &UpstreamLogin,
) -> Result<HttpResponse, UpstreamError> {
    let relying_party = upstream.relying_party()?;
    let draft = draft_of(state, &helper, draft_id).await?;
    if draft.duration_kind.is_none() {
        return Err(UpstreamError::DraftWithoutDuration { draft_id: draft.id });
    }
    let secrets = LoginSecrets::generate();
    let url = match relying_party.authorization_url(&secrets).await {
        Ok(url) => url,
        Err(e) => return Err(failed(state, &helper, upstream, Some(&draft), e.into()).await),
    };
    let sid = helper.browser.session.sid.clone();
    let draft_id = draft.id.clone();
    with_conn(&state.store, move |conn| {
        upstream_logins::begin(
            conn,
            NewUpstreamLogin {
                state: &secrets.state,
                session_sid: &sid,
                draft_id: Some(&draft_id),
                nonce: &secrets.nonce,
                code_verifier: &secrets.code_verifier,
            },
            now(),
        )
    })
    .await?;
    Ok(see_other(url.as_str()))
}

/// The parameters of the authorization response (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207).
pub struct Callback {
    pub state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

impl Callback {
    /// The first value of each parameter (a repeated one is the provider's mistake, and the
    /// checks below stand whichever is taken).
    pub fn parse(query: &str) -> Callback {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let first =
            |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        Callback { state: first("state"), code: first("code"), error: first("error"), iss: first("iss") }
    }
}

/// OIDC Core §3.1.2.6 errors that mean the usager did not go through with the login.
const REFUSALS: [&str; 5] =
    ["access_denied", "login_required", "consent_required", "interaction_required", "account_selection_required"];

/// `GET /espace-aidant/franceconnect/retour`: checks the login and records the usager.
pub async fn callback(
    req: HttpRequest,
    helper: SignedInHelper,
    state: web::Data<AppState>,
    upstream: web::Data<UpstreamLogin>,
) -> Result<HttpResponse, UpstreamPage> {
    let lang = Lang::of_browser(&req);
    let callback = Callback::parse(req.query_string());
    finish_login(helper, callback, &state, &upstream).await.map_err(|e| e.in_language(lang))
}

async fn finish_login(
    helper: SignedInHelper,
    callback: Callback,
    state: &AppState,
    upstream: &UpstreamLogin,
) -> Result<HttpResponse, UpstreamError> {
    let relying_party = upstream.relying_party()?;
    let Some(login_state) = callback.state.clone() else {
        return Err(failed(state, &helper, upstream, None, Failure::StateMismatch).await);
    };
    let sid = helper.browser.session.sid.clone();
    let login = with_conn(&state.store, move |conn| upstream_logins::take(conn, &login_state, &sid, now())).await?;
    let Some(login) = login else {
        return Err(failed(state, &helper, upstream, None, Failure::StateMismatch).await);
    };
    let draft = draft_of(state, &helper, login.draft_id.clone().unwrap_or_default()).await?;
    let verified = match verify(relying_party, &callback, &login.nonce, &login.code_verifier).await {
        Ok(verified) => verified,
        Err(failure) => return Err(failed(state, &helper, upstream, Some(&draft), failure).await),
    };
    let identity = match identity_of(&verified, &relying_party.config().issuer) {
        Ok(identity) => identity,
        Err(failure) => return Err(failed(state, &helper, upstream, Some(&draft), failure).await),
    };
    let (aidant_id, organisation_id, draft_id) =
        (helper.aidant_id.clone(), draft.organisation_id.clone(), draft.id.clone());
    let recorded = with_conn(&state.store, move |conn| {
        write_transaction(conn, |conn| {
            let recorded = usagers::record_upstream_identity(conn, identity, &aidant_id, &organisation_id, now())?;
            mandate_drafts::set_usager(conn, &draft_id, &recorded.usager().id)?;
            Ok::<_, mandate_store::StoreError>(recorded)
        })
    })
    .await;
    if let Err(e) = recorded {
        return Err(match error::invalid_identity(&e) {
            Some(failure) => failed(state, &helper, upstream, Some(&draft), failure).await,
            None => e.into(),
        });
    }
    Ok(see_other(&format!(
        "/espace-aidant/mandats/nouveau/recapitulatif?brouillon={}",
        url::form_urlencoded::byte_serialize(draft.id.as_bytes()).collect::<String>()
    )))
}

/// The provider's answer, checked: an error is a refusal or a provider failure; a code is
/// exchanged and what it gives verified.
pub async fn verify(
    relying_party: &RelyingParty,
    callback: &Callback,
    nonce: &str,
    code_verifier: &str,
) -> Result<Verified, Failure> {
    relying_party.check_response_issuer(callback.iss.as_deref()).await?;
    if let Some(error) = &callback.error {
        // Only a known code is repeated in the log; anything else is the provider's own text.
        let known = |codes: &[&str]| codes.iter().find(|c| **c == error).map(|c| (*c).to_owned());
        return Err(match known(&REFUSALS) {
            Some(code) => Failure::Refused(code),
            None => Failure::ProviderError(
                known(&[
                    "server_error",
                    "temporarily_unavailable",
                    "invalid_request",
                    "invalid_scope",
                    "unauthorized_client",
                ])
                .unwrap_or_else(|| "another error".into()),
            ),
        });
    }
    let code = callback.code.as_deref().ok_or(Failure::NoCode)?;
    Ok(relying_party.complete(code, nonce, code_verifier).await?)
}

/// The usager's identity from the verified claims (userinfo first, then the ID token), in
/// FranceConnect's pivot identity. A missing claim is named; formats are checked by the store.
pub fn identity_of(verified: &Verified, issuer: &str) -> Result<UpstreamIdentity, Failure> {
    let text = |name: &str| verified.claim(name).and_then(Value::as_str).map(str::trim).map(str::to_owned);
    let required =
        |name: &str| text(name).filter(|v| !v.is_empty()).ok_or_else(|| Failure::InvalidIdentity(name.into()));
    let subject = verified.subject();
    if subject.is_empty() {
        return Err(Failure::InvalidIdentity("sub".into()));
    }
    Ok(UpstreamIdentity {
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        given_name: required("given_name")?,
        family_name: required("family_name")?,
        birthdate: required("birthdate")?,
        gender: required("gender")?,
        // FranceConnect sends it empty (or not at all) for a usager born abroad.
        birthplace: text("birthplace").unwrap_or_default(),
        birthcountry: required("birthcountry")?,
        email: required("email")?,
        preferred_username: text("preferred_username").filter(|p| !p.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;

    fn verified(userinfo: Value) -> Verified {
        let Value::Object(userinfo) = userinfo else { panic!() };
        let mut id_token_claims = Map::new();
        id_token_claims.insert("sub".into(), json!("s-1"));
        Verified { id_token: String::new(), id_token_claims, userinfo: Some(userinfo) }
    }

    #[test]
    fn the_pivot_identity_is_read_and_a_missing_claim_named() {
        let born_abroad = verified(json!({"sub": "s-1", "given_name": "João", "family_name": "SILVA",
            "birthdate": "1948-00-00", "gender": "male", "birthcountry": "99139", "email": "j@example.fr"}));
        let identity = identity_of(&born_abroad, "https://fc.example.fr").unwrap();
        assert_eq!(identity.subject, "s-1");
        assert_eq!(identity.issuer, "https://fc.example.fr");
        assert_eq!(identity.birthplace, "");
        assert_eq!(identity.preferred_username, None);
        let without_email = verified(json!({"sub": "s-1", "given_name": "A", "family_name": "B",
            "birthdate": "1948-00-00", "gender": "male", "birthcountry": "99139"}));
        match identity_of(&without_email, "https://fc.example.fr") {
            Err(Failure::InvalidIdentity(claim)) => assert_eq!(claim, "email"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_callback_takes_the_first_value_of_each_parameter() {
        let callback = Callback::parse("state=a&code=c&state=b&iss=https%3A%2F%2Ffc");
        assert_eq!(callback.state.as_deref(), Some("a"));
        assert_eq!(callback.iss.as_deref(), Some("https://fc"));
        assert!(callback.error.is_none());
        assert!(Callback::parse("state=").state.is_none());
    }
}
