//! Why an upstream login did not give a verified usager, and the page that says so: in plain
//! French, with the status that fits and a way to try again. Mapped here, in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mandate_store::upstream_logins::FailureReason;
use mandate_store::StoreError;

use crate::relying_party::RpError;
use crate::web::{Lang, PageError, Texts};

/// What went wrong with the usager's login at the provider. Each is journalled (its reason
/// only) and shown; none stores anything.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// `state` missing, unknown, already used, expired, or another browser's.
    #[error("the state does not name a login of this browser")]
    StateMismatch,
    /// The usager refused or cancelled (`access_denied` and the like).
    #[error("the provider answered {0}")]
    Refused(String),
    /// The provider answered the request with another error (`server_error`, `invalid_scope`…).
    #[error("the provider answered {0}")]
    ProviderError(String),
    /// A redirect back without a code nor an error.
    #[error("the provider sent neither a code nor an error")]
    NoCode,
    #[error(transparent)]
    RelyingParty(#[from] RpError),
    /// A claim the usager's record needs is missing or malformed (its name, never its value).
    #[error("identity claim {0} is missing or malformed")]
    InvalidIdentity(String),
}

impl Failure {
    pub fn reason(&self) -> FailureReason {
        match self {
            Failure::StateMismatch => FailureReason::StateMismatch,
            Failure::Refused(_) => FailureReason::Refused,
            Failure::ProviderError(_) | Failure::NoCode => FailureReason::Unavailable,
            Failure::RelyingParty(e) => e.failure_reason(),
            Failure::InvalidIdentity(_) => FailureReason::InvalidIdentity,
        }
    }
}

/// An upstream login page that cannot be served as asked.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Neither `[upstream]` nor demo mode: the operator has something to set.
    #[error("no upstream provider is configured")]
    NotConfigured,
    /// The mandate draft is unknown, expired, or another browser's.
    #[error("mandate draft not found")]
    DraftNotFound,
    /// The wizard's duration step was skipped.
    #[error("the mandate draft has no duration yet")]
    DraftWithoutDuration { draft_id: String },
    /// The login failed (already journalled).
    #[error("upstream login failed: {failure}")]
    Failed { failure: Failure, draft_id: Option<String>, demo: bool },
    #[error(transparent)]
    Page(#[from] PageError),
}

impl From<StoreError> for UpstreamError {
    fn from(e: StoreError) -> Self {
        UpstreamError::Page(PageError::Store(e))
    }
}

#[derive(Template)]
#[template(path = "upstream/failure.html")]
struct FailurePage<'a> {
    t: &'static Texts,
    title: &'a str,
    message: &'a str,
    action_label: &'a str,
    action_href: &'a str,
}

const FAILED_TITLE: &str = "La vérification d'identité n'a pas abouti";
const NOTHING_STORED: &str = "Rien n'a été enregistré.";

/// The identity step of the wizard for this draft, or the helper's home without one.
fn retry_href(draft_id: Option<&str>) -> String {
    match draft_id {
        Some(id) => format!("/espace-aidant/mandats/nouveau/identite?brouillon={}", urlencode(id)),
        None => "/espace-aidant".to_owned(),
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What the page says: status, title, words and the way on.
struct Explained {
    status: StatusCode,
    title: &'static str,
    message: String,
    action_label: &'static str,
    action_href: String,
}

/// The words for each failure; `demo` names the demo provider instead of FranceConnect.
fn explain_failure(failure: &Failure, demo: bool) -> (StatusCode, String) {
    let provider = if demo { "Le fournisseur d'identité de démonstration" } else { "FranceConnect" };
    let (status, words) = match failure {
        Failure::StateMismatch => (
            StatusCode::BAD_REQUEST,
            "Ce retour de connexion ne correspond à aucune vérification en cours dans ce navigateur : le lien a \
             déjà servi, il est trop ancien, ou il a été ouvert ailleurs."
                .to_owned(),
        ),
        Failure::Refused(_) => (
            StatusCode::FORBIDDEN,
            "L'usager a refusé ou annulé la connexion. Vous pourrez recommencer quand il sera prêt.".to_owned(),
        ),
        Failure::RelyingParty(RpError::Timeout(_)) => (
            StatusCode::GATEWAY_TIMEOUT,
            format!("{provider} met trop de temps à répondre. Réessayez dans quelques minutes."),
        ),
        Failure::RelyingParty(RpError::Unreachable(_)) => (
            StatusCode::BAD_GATEWAY,
            format!("{provider} ne répond pas pour le moment. Réessayez dans quelques minutes."),
        ),
        Failure::ProviderError(_)
        | Failure::NoCode
        | Failure::RelyingParty(RpError::BadAnswer { .. } | RpError::CodeRefused(_)) => (
            StatusCode::BAD_GATEWAY,
            format!(
                "{provider} a envoyé une réponse incomplète ou inattendue. Réessayez ; si cela se reproduit, \
                 prévenez votre référent."
            ),
        ),
        Failure::RelyingParty(
            RpError::IdToken(_) | RpError::SignedUserinfo(_) | RpError::ResponseIssuer | RpError::SubjectMismatch,
        ) => (
            StatusCode::BAD_GATEWAY,
            "La réponse reçue n'a pas pu être vérifiée : par sécurité, elle n'a pas été utilisée. Recommencez \
             la vérification ; si cela se reproduit, prévenez votre référent."
                .to_owned(),
        ),
        Failure::InvalidIdentity(_) => (
            StatusCode::BAD_GATEWAY,
            format!(
                "{provider} a envoyé une identité incomplète ou mal formée : elle n'a pas été utilisée. \
                 Réessayez ; si cela se reproduit, prévenez votre référent."
            ),
        ),
    };
    (status, format!("{words} {NOTHING_STORED}"))
}

impl UpstreamError {
    /// `None` for an internal failure, shown as the generic error page.
    fn explain(&self) -> Option<Explained> {
        let home = || retry_href(None);
        Some(match self {
            UpstreamError::NotConfigured => Explained {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: "Vérification d'identité indisponible",
                message: "La vérification d'identité par FranceConnect n'est pas configurée sur ce serveur. La \
                          personne qui administre Aidants IdP doit renseigner la section [upstream] de la \
                          configuration (ou activer le mode démonstration). Prévenez votre référent."
                    .to_owned(),
                action_label: "Retour à l'accueil",
                action_href: home(),
            },
            UpstreamError::DraftNotFound => Explained {
                status: StatusCode::BAD_REQUEST,
                title: "Mandat introuvable",
                message: "Ce mandat en préparation n'existe plus : il a expiré, ou il a été commencé dans un autre \
                          navigateur. Recommencez-le depuis l'accueil."
                    .to_owned(),
                action_label: "Retour à l'accueil",
                action_href: home(),
            },
            UpstreamError::DraftWithoutDuration { draft_id } => Explained {
                status: StatusCode::BAD_REQUEST,
                title: "Durée du mandat à choisir",
                message: "Choisissez d'abord la durée du mandat, puis vérifiez l'identité de l'usager.".to_owned(),
                action_label: "Choisir la durée",
                action_href: format!("/espace-aidant/mandats/nouveau/duree?brouillon={}", urlencode(draft_id)),
            },
            UpstreamError::Failed { failure, draft_id, demo } => {
                let (status, message) = explain_failure(failure, *demo);
                Explained {
                    status,
                    title: FAILED_TITLE,
                    message,
                    action_label: "Réessayer",
                    action_href: retry_href(draft_id.as_deref()),
                }
            }
            UpstreamError::Page(_) => return None,
        })
    }
}

impl ResponseError for UpstreamError {
    fn status_code(&self) -> StatusCode {
        match (self, self.explain()) {
            (_, Some(explained)) => explained.status,
            (UpstreamError::Page(page), None) => page.status_code(),
            (_, None) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let explained = match (self, self.explain()) {
            (_, Some(explained)) => explained,
            (UpstreamError::Page(page), None) => return page.error_response(),
            (_, None) => return PageError::Logged.error_response(),
        };
        let page = FailurePage {
            t: Lang::Fr.texts(),
            title: explained.title,
            message: &explained.message,
            action_label: explained.action_label,
            action_href: &explained.action_href,
        };
        match crate::web::html_with_status(explained.status, &page) {
            Ok(response) => response,
            Err(e) => e.error_response(),
        }
    }
}

/// A claim problem the store found, named by its field (never its value).
pub fn invalid_identity(error: &StoreError) -> Option<Failure> {
    match error {
        StoreError::InvalidField { field, .. } => Some(Failure::InvalidIdentity((*field).to_owned())),
        _ => None,
    }
}
