//! Why an upstream login did not give a verified usager, and the page that says so: in plain
//! words (French, or English when the helper chose it), with the status that fits and a way to
//! try again. Mapped here, in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mandate_store::upstream_logins::FailureReason;
use mandate_store::StoreError;

use crate::relying_party::RpError;
use crate::web::{Frame, Lang, PageError};

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
    frame: Frame,
    title: &'a str,
    message: &'a str,
    action_label: &'a str,
    action_href: &'a str,
}

/// The words of these pages, in plain language, in French and English (the helper's choice of
/// language, as the helper's space keeps it). `{provider}` stands for the provider's name.
struct Words {
    failed_title: &'static str,
    nothing_stored: &'static str,
    retry: &'static str,
    home: &'static str,
    franceconnect: &'static str,
    demo_provider: &'static str,
    not_configured_title: &'static str,
    not_configured: &'static str,
    draft_not_found_title: &'static str,
    draft_not_found: &'static str,
    duration_title: &'static str,
    duration_missing: &'static str,
    choose_duration: &'static str,
    state_mismatch: &'static str,
    refused: &'static str,
    timeout: &'static str,
    unreachable: &'static str,
    unexpected: &'static str,
    unverifiable: &'static str,
    invalid_identity: &'static str,
}

static FR: Words = Words {
    failed_title: "La vérification d'identité n'a pas abouti",
    nothing_stored: "Rien n'a été enregistré.",
    retry: "Réessayer",
    home: "Retour à l'accueil",
    franceconnect: "FranceConnect",
    demo_provider: "Le fournisseur d'identité de démonstration",
    not_configured_title: "Vérification d'identité indisponible",
    not_configured:
        "La vérification d'identité par FranceConnect n'est pas configurée sur ce serveur. La personne qui \
                     administre Aidants IdP doit renseigner la section [upstream] de la configuration (ou activer le \
                     mode démonstration). Prévenez votre référent.",
    draft_not_found_title: "Mandat introuvable",
    draft_not_found: "Ce mandat en préparation n'existe plus : il a expiré, ou il a été commencé dans un autre \
                      navigateur. Recommencez-le depuis l'accueil.",
    duration_title: "Durée du mandat à choisir",
    duration_missing: "Choisissez d'abord la durée du mandat, puis vérifiez l'identité de l'usager.",
    choose_duration: "Choisir la durée",
    state_mismatch: "Ce retour de connexion ne correspond à aucune vérification en cours dans ce navigateur : le lien \
                     a déjà servi, il est trop ancien, ou il a été ouvert ailleurs.",
    refused: "L'usager a refusé ou annulé la connexion. Vous pourrez recommencer quand il sera prêt.",
    timeout: "{provider} met trop de temps à répondre. Réessayez dans quelques minutes.",
    unreachable: "{provider} ne répond pas pour le moment. Réessayez dans quelques minutes.",
    unexpected: "{provider} a envoyé une réponse incomplète ou inattendue. Réessayez ; si cela se reproduit, \
                 prévenez votre référent.",
    unverifiable: "La réponse reçue n'a pas pu être vérifiée : par sécurité, elle n'a pas été utilisée. Recommencez \
                   la vérification ; si cela se reproduit, prévenez votre référent.",
    invalid_identity: "{provider} a envoyé une identité incomplète ou mal formée : elle n'a pas été utilisée. \
                       Réessayez ; si cela se reproduit, prévenez votre référent.",
};

static EN: Words = Words {
    failed_title: "The identity check did not succeed",
    nothing_stored: "Nothing was recorded.",
    retry: "Try again",
    home: "Back to the home page",
    franceconnect: "FranceConnect",
    demo_provider: "The demo identity provider",
    not_configured_title: "Identity check unavailable",
    not_configured: "Identity checks with FranceConnect are not set up on this server. Whoever runs Aidants IdP must \
                     fill in the [upstream] section of the configuration (or turn demo mode on). Tell your manager.",
    draft_not_found_title: "Mandate not found",
    draft_not_found: "This mandate in preparation no longer exists: it expired, or it was started in another \
                      browser. Start it again from the home page.",
    duration_title: "Mandate duration to choose",
    duration_missing: "Choose the mandate's duration first, then check the person's identity.",
    choose_duration: "Choose the duration",
    state_mismatch: "This sign-in answer matches no identity check under way in this browser: the link was already \
                     used, is too old, or was opened elsewhere.",
    refused: "The person refused or cancelled the sign-in. You can start again when they are ready.",
    timeout: "{provider} is taking too long to answer. Try again in a few minutes.",
    unreachable: "{provider} is not answering at the moment. Try again in a few minutes.",
    unexpected: "{provider} sent an incomplete or unexpected answer. Try again; if it happens again, tell your \
                 manager.",
    unverifiable: "The answer received could not be verified: for safety it was not used. Start the check again; if \
                   it happens again, tell your manager.",
    invalid_identity: "{provider} sent an incomplete or malformed identity: it was not used. Try again; if it happens \
                       again, tell your manager.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

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

/// The status and words for each failure; `demo` names the demo provider instead of FranceConnect.
fn explain_failure(failure: &Failure, demo: bool, w: &Words) -> (StatusCode, String) {
    let provider = if demo { w.demo_provider } else { w.franceconnect };
    let (status, words) = match failure {
        Failure::StateMismatch => (StatusCode::BAD_REQUEST, w.state_mismatch),
        Failure::Refused(_) => (StatusCode::FORBIDDEN, w.refused),
        Failure::RelyingParty(RpError::Timeout(_)) => (StatusCode::GATEWAY_TIMEOUT, w.timeout),
        Failure::RelyingParty(RpError::Unreachable(_)) => (StatusCode::BAD_GATEWAY, w.unreachable),
        Failure::ProviderError(_)
        | Failure::NoCode
        | Failure::RelyingParty(RpError::BadAnswer { .. } | RpError::CodeRefused(_)) => {
            (StatusCode::BAD_GATEWAY, w.unexpected)
        }
        Failure::RelyingParty(
            RpError::IdToken(_) | RpError::SignedUserinfo(_) | RpError::ResponseIssuer | RpError::SubjectMismatch,
        ) => (StatusCode::BAD_GATEWAY, w.unverifiable),
        Failure::InvalidIdentity(_) => (StatusCode::BAD_GATEWAY, w.invalid_identity),
    };
    (status, format!("{} {}", words.replace("{provider}", provider), w.nothing_stored))
}

impl UpstreamError {
    /// `None` for an internal failure, shown as the generic error page.
    fn explain(&self, lang: Lang) -> Option<Explained> {
        let w = words(lang);
        let home = || retry_href(None);
        Some(match self {
            UpstreamError::NotConfigured => Explained {
                status: StatusCode::SERVICE_UNAVAILABLE,
                title: w.not_configured_title,
                message: w.not_configured.to_owned(),
                action_label: w.home,
                action_href: home(),
            },
            UpstreamError::DraftNotFound => Explained {
                status: StatusCode::BAD_REQUEST,
                title: w.draft_not_found_title,
                message: w.draft_not_found.to_owned(),
                action_label: w.home,
                action_href: home(),
            },
            UpstreamError::DraftWithoutDuration { draft_id } => Explained {
                status: StatusCode::BAD_REQUEST,
                title: w.duration_title,
                message: w.duration_missing.to_owned(),
                action_label: w.choose_duration,
                action_href: format!("/espace-aidant/mandats/nouveau/duree?brouillon={}", urlencode(draft_id)),
            },
            UpstreamError::Failed { failure, draft_id, demo } => {
                let (status, message) = explain_failure(failure, *demo, w);
                Explained {
                    status,
                    title: w.failed_title,
                    message,
                    action_label: w.retry,
                    action_href: retry_href(draft_id.as_deref()),
                }
            }
            UpstreamError::Page(_) => return None,
        })
    }

    /// The page for this error in the helper's language.
    pub fn in_language(self, lang: Lang) -> UpstreamPage {
        UpstreamPage { error: self, lang }
    }
}

/// An [`UpstreamError`] as the helper sees it, in their language.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct UpstreamPage {
    error: UpstreamError,
    lang: Lang,
}

impl ResponseError for UpstreamPage {
    fn status_code(&self) -> StatusCode {
        match (&self.error, self.error.explain(self.lang)) {
            (_, Some(explained)) => explained.status,
            (UpstreamError::Page(page), None) => page.status_code(),
            (_, None) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let explained = match (&self.error, self.error.explain(self.lang)) {
            (_, Some(explained)) => explained,
            (UpstreamError::Page(page), None) => return page.error_response(),
            (_, None) => return PageError::Logged.error_response(),
        };
        let page = FailurePage {
            frame: Frame::anonymous(self.lang),
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
