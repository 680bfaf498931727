//! The usager signs in to their space through the upstream provider, at a redirect URI of its
//! own (`/espace-usager/retour`, see decision 0014): `POST /espace-usager/connexion` begins a
//! pending usager session and an upstream login bound to it (`state`, `nonce` and PKCE verifier
//! kept server-side in `upstream_logins`), and sends the browser to the provider;
//! `GET /espace-usager/retour` checks the answer and finds the usager by upstream issuer and
//! subject. A known usager with a mandate is signed in (a new cookie secret); anyone else sees
//! that no mandate is recorded in their name, and nothing is created or stored.
//!
//! The start needs no CSRF token (there is no session yet to derive one from): a forged start
//! only sends the browser to the provider, and the answer is accepted only by the browser that
//! holds the pending session its `state` is bound to.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use mandate_store::upstream_logins::{self, NewUpstreamLogin};
use mandate_store::{mandates, now, secret_hash, usager_sessions, usagers};

use super::{frame, MessagePage, HOME};
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::relying_party::{LoginSecrets, RpError};
use crate::upstream::{self, Callback, Failure, UpstreamLogin};
use crate::web::usager_session::{cookie, cookie_secret, expired_cookie};
use crate::web::{html_with_status, see_other, AppState, Frame, Lang, PageError};

/// Why the sign-in did not give a signed-in usager, each a page in plain words.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Neither `[upstream]` nor demo mode.
    #[error("no upstream provider is configured")]
    NotConfigured,
    /// The login failed (already journalled).
    #[error("usager space sign-in failed: {0}")]
    Failed(Failure),
    #[error(transparent)]
    Page(#[from] PageError),
}

impl From<mandate_store::StoreError> for SignInError {
    fn from(e: mandate_store::StoreError) -> Self {
        SignInError::Page(PageError::Store(e))
    }
}

impl SignInError {
    /// The status and the words; `None` for a failure of the server itself.
    fn explain(&self) -> Option<(StatusCode, &'static str)> {
        let unverifiable = "La réponse de FranceConnect n'a pas pu être vérifiée : par sécurité, elle n'a pas été \
                            utilisée. Recommencez ; si cela se reproduit, revenez plus tard.";
        Some(match self {
            SignInError::NotConfigured => (
                StatusCode::SERVICE_UNAVAILABLE,
                "La connexion avec FranceConnect n'est pas disponible sur ce service pour le moment.",
            ),
            SignInError::Failed(failure) => match failure {
                Failure::StateMismatch => (
                    StatusCode::BAD_REQUEST,
                    "Ce retour de connexion ne correspond à aucune connexion commencée dans ce navigateur : le \
                     lien a déjà servi, il date de plus d'un quart d'heure, ou il a été ouvert ailleurs.",
                ),
                Failure::Refused(_) => (StatusCode::FORBIDDEN, "Vous avez annulé la connexion avec FranceConnect."),
                Failure::RelyingParty(RpError::Timeout(_) | RpError::Unreachable(_)) => (
                    StatusCode::BAD_GATEWAY,
                    "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes.",
                ),
                Failure::RelyingParty(
                    RpError::IdToken(_)
                    | RpError::SignedUserinfo(_)
                    | RpError::ResponseIssuer
                    | RpError::SubjectMismatch,
                ) => (StatusCode::BAD_GATEWAY, unverifiable),
                _ => (
                    StatusCode::BAD_GATEWAY,
                    "FranceConnect a envoyé une réponse incomplète ou inattendue. Réessayez dans quelques minutes.",
                ),
            },
            SignInError::Page(_) => return None,
        })
    }
}

impl ResponseError for SignInError {
    fn status_code(&self) -> StatusCode {
        match (self, self.explain()) {
            (_, Some((status, _))) => status,
            (SignInError::Page(page), None) => page.status_code(),
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let Some((status, words)) = self.explain() else {
            return match self {
                SignInError::Page(page) => page.error_response(),
                _ => PageError::Logged.error_response(),
            };
        };
        let message = format!("{words} Rien n'a été enregistré.");
        let page = MessagePage {
            frame: &Frame::anonymous(Lang::Fr),
            title: "La connexion n'a pas abouti",
            message: &message,
            link_label: "Réessayer",
            link_href: HOME,
        };
        html_with_status(status, &page).unwrap_or_else(|e| e.error_response())
    }
}

/// Journals a failed sign-in (its reason only), logs what failed, and makes its page.
async fn failed(state: &AppState, failure: Failure) -> SignInError {
    let reason = failure.reason();
    // The failure's text names what failed, never a claim's value.
    tracing::warn!(reason = reason.key(), error = %failure, "usager space sign-in failed");
    let journalled =
        with_conn(&state.store, move |conn| upstream_logins::record_usager_space_failure(conn, reason, now())).await;
    match journalled {
        Ok(()) => SignInError::Failed(failure),
        Err(e) => SignInError::from(e),
    }
}

/// `POST /espace-usager/connexion`: a pending session, an upstream login bound to it, and the
/// browser sent to the provider.
pub async fn start(
    state: web::Data<AppState>,
    upstream: web::Data<UpstreamLogin>,
) -> Result<HttpResponse, SignInError> {
    let relying_party = upstream.for_usager_space().ok_or(SignInError::NotConfigured)?;
    let secrets = LoginSecrets::generate();
    let url = match relying_party.authorization_url(&secrets).await {
        Ok(url) => url,
        Err(e) => return Err(failed(&state, e.into()).await),
    };
    let secret = random_secret();
    let hash = secret_hash(&secret);
    with_conn(&state.store, move |conn| {
        let session = usager_sessions::begin(conn, &hash, now())?;
        upstream_logins::begin(
            conn,
            NewUpstreamLogin {
                state: &secrets.state,
                session_sid: &session.sid,
                draft_id: None,
                nonce: &secrets.nonce,
                code_verifier: &secrets.code_verifier,
            },
            now(),
        )
    })
    .await?;
    let mut response = see_other(url.as_str());
    let _ = response.add_cookie(&cookie(&state, &secret));
    Ok(response)
}

/// Who the provider's answer named.
enum Outcome {
    /// A known usager with at least one mandate (of any state): signed in.
    SignedIn,
    /// Unknown here, or known without any mandate.
    NoMandate,
}

/// `GET /espace-usager/retour`: checks the provider's answer against the pending session of this
/// browser, then signs the usager in, or says that no mandate is recorded in their name.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    upstream: web::Data<UpstreamLogin>,
) -> Result<HttpResponse, SignInError> {
    let relying_party = upstream.for_usager_space().ok_or(SignInError::NotConfigured)?;
    let callback = Callback::parse(req.query_string());
    let (Some(secret), Some(login_state)) = (cookie_secret(&req), callback.state.clone()) else {
        return Err(failed(&state, Failure::StateMismatch).await);
    };
    let hash = secret_hash(&secret);
    let pending_hash = hash.clone();
    let login = with_conn(&state.store, move |conn| {
        let Some(pending) = usager_sessions::find_live(conn, &pending_hash, now())? else { return Ok(None) };
        if pending.usager_id.is_some() {
            return Ok(None);
        }
        upstream_logins::take(conn, &login_state, &pending.sid, now())
    })
    .await?;
    let Some(login) = login else { return Err(failed(&state, Failure::StateMismatch).await) };
    let verified = match upstream::verify(relying_party, &callback, &login.nonce, &login.code_verifier).await {
        Ok(verified) => verified,
        Err(failure) => return Err(failed(&state, failure).await),
    };
    let subject = verified.subject().to_owned();
    if subject.is_empty() {
        return Err(failed(&state, Failure::InvalidIdentity("sub".into())).await);
    }
    let issuer = relying_party.config().issuer.clone();
    let new_secret = random_secret();
    let new_hash = secret_hash(&new_secret);
    let outcome = with_conn(&state.store, move |conn| {
        // Matched by issuer and subject only, never created nor updated here.
        let known = usagers::find_by_upstream(conn, &issuer, &subject)?;
        let with_mandate = match known {
            Some(usager) if !mandates::list(conn, None, Some(&usager.id))?.is_empty() => usager,
            _ => {
                usager_sessions::end(conn, &hash, now())?;
                return Ok::<_, mandate_store::StoreError>(Outcome::NoMandate);
            }
        };
        usager_sessions::sign_in(conn, &hash, &new_hash, &with_mandate.id, now())?;
        Ok(Outcome::SignedIn)
    })
    .await?;
    match outcome {
        Outcome::SignedIn => {
            let mut response = see_other(HOME);
            let _ = response.add_cookie(&cookie(&state, &new_secret));
            Ok(response)
        }
        Outcome::NoMandate => {
            let frame = frame(&state).await?;
            let page = MessagePage {
                frame: &frame,
                title: "Aucun mandat n'est enregistré à votre nom",
                message: "Aucune structure n'a enregistré de mandat à votre nom dans ce service : aucun aidant ne \
                          peut y faire de démarche à votre place. Si vous pensez avoir signé un mandat, adressez-vous \
                          à la structure qui vous accompagne.",
                link_label: "Retour à l'accueil",
                link_href: "/",
            };
            let mut response = html_with_status(StatusCode::OK, &page)?;
            let _ = response.add_cookie(&expired_cookie(&state));
            Ok(response)
        }
    }
}
