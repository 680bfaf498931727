//! Page errors, mapped to what the person at the browser sees in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mandate_store::habilitation::Requirement;
use mandate_store::StoreError;

use super::deactivated::Deactivation;
use super::frame::Frame;
use super::habilitation::HabilitationTexts;
use super::i18n::{Lang, Texts};
use super::templates::{DeactivatedPage, ErrorPage, HabilitationRefusalPage};
use crate::blocking::Cancelled;

/// A text of the page language, chosen once the language is known.
pub type Message = fn(&'static Texts) -> &'static str;

/// A page that cannot be served as asked. `Shown` errors are for the person at the browser;
/// `SignIn` sends them to the login step they still owe; the others are failures logged
/// here, once, and shown as a generic page.
#[derive(thiserror::Error)]
pub enum PageError {
    #[error("refused with {status}")]
    Shown { status: StatusCode, message: Message, lang: Lang },
    #[error("sign-in required, sent to {location}")]
    SignIn { location: String },
    /// A helper in habilitation tried to act for a usager: the page says what is missing.
    #[error("refused: habilitation incomplete")]
    NotHabilitated { missing: Vec<Requirement>, lang: Lang },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a blocking task was cancelled")]
    Cancelled,
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// A failure already logged where it happened (an extractor shared by several).
    #[error("internal error (logged)")]
    Logged,
    /// The helper's account is deactivated: the page says why and what to do (403).
    #[error("account deactivated")]
    Deactivated(Box<Deactivation>),
    /// The database could not serve (logged where it was found): try again in a moment (503).
    #[error("database unavailable (logged)")]
    Unavailable,
}

/// By hand because a [`Message`] is a function, whose derived `Debug` is its address: where an
/// error is logged with `{:?}` (actix does, for every error answer), its words are shown instead.
impl std::fmt::Debug for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::Shown { status, message, lang } => f
                .debug_struct("Shown")
                .field("status", status)
                .field("message", &message(lang.texts()))
                .field("lang", lang)
                .finish(),
            PageError::SignIn { location } => f.debug_struct("SignIn").field("location", location).finish(),
            PageError::NotHabilitated { missing, lang } => {
                f.debug_struct("NotHabilitated").field("missing", missing).field("lang", lang).finish()
            }
            PageError::Store(e) => f.debug_tuple("Store").field(e).finish(),
            PageError::Cancelled => f.write_str("Cancelled"),
            PageError::Template(e) => f.debug_tuple("Template").field(e).finish(),
            PageError::Logged => f.write_str("Logged"),
            PageError::Deactivated(_) => f.write_str("Deactivated"),
            PageError::Unavailable => f.write_str("Unavailable"),
        }
    }
}

impl From<Cancelled> for PageError {
    fn from(_: Cancelled) -> Self {
        PageError::Cancelled
    }
}

impl PageError {
    pub fn bad_request(message: Message, lang: Lang) -> PageError {
        PageError::Shown { status: StatusCode::BAD_REQUEST, message, lang }
    }

    pub fn forbidden(message: Message, lang: Lang) -> PageError {
        PageError::Shown { status: StatusCode::FORBIDDEN, message, lang }
    }

    /// The pending request is unknown, expired, or belongs to another browser.
    pub fn request_expired(lang: Lang) -> PageError {
        PageError::bad_request(|t| t.request_expired, lang)
    }

    /// Every password hashing slot stayed busy (a flood of sign-ins): try again shortly.
    pub fn busy(lang: Lang) -> PageError {
        PageError::Shown { status: StatusCode::SERVICE_UNAVAILABLE, message: |t| t.password_checks_busy, lang }
    }

    /// A form larger than pages accept (`body_limits::PAGE_FORM`).
    pub fn too_large(lang: Lang) -> PageError {
        PageError::Shown { status: StatusCode::PAYLOAD_TOO_LARGE, message: |t| t.form_too_large, lang }
    }

    pub fn csrf_failed(lang: Lang) -> PageError {
        PageError::forbidden(|t| t.csrf_failed, lang)
    }

    /// A copy for a second reader of a shared result; an internal failure is logged once
    /// here and only its fact is copied.
    pub(crate) fn share(&self) -> PageError {
        match self {
            PageError::Shown { status, message, lang } => {
                PageError::Shown { status: *status, message: *message, lang: *lang }
            }
            PageError::SignIn { location } => PageError::SignIn { location: location.clone() },
            PageError::NotHabilitated { missing, lang } => {
                PageError::NotHabilitated { missing: missing.clone(), lang: *lang }
            }
            PageError::Logged => PageError::Logged,
            PageError::Unavailable => PageError::Unavailable,
            PageError::Deactivated(d) => PageError::Deactivated(d.clone()),
            PageError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "page: database unavailable");
                PageError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "page failed");
                PageError::Logged
            }
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Shown { status, .. } => *status,
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::NotHabilitated { .. } => StatusCode::FORBIDDEN,
            PageError::Deactivated(_) => StatusCode::FORBIDDEN,
            PageError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            PageError::Store(StoreError::NotMember { .. }) => StatusCode::FORBIDDEN,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (message, lang): (Message, Lang) = match self {
            PageError::Shown { message, lang, .. } => (*message, *lang),
            PageError::SignIn { location } => return super::render::see_other(location),
            PageError::NotHabilitated { missing, lang } => {
                let h = HabilitationTexts::of(*lang);
                let page = HabilitationRefusalPage {
                    t: lang.texts(),
                    frame: &Frame::anonymous(*lang),
                    h,
                    missing: h.missing(missing),
                    charter_missing: missing.contains(&Requirement::Charter),
                    service: None,
                    request: "",
                    csrf_token: "",
                };
                return match page.render() {
                    Ok(body) => HttpResponse::build(self.status_code())
                        .content_type("text/html; charset=utf-8")
                        .insert_header(("Cache-Control", "no-store"))
                        .body(body),
                    Err(e) => {
                        tracing::error!(error = %e, "page failed");
                        super::fallback::page(StatusCode::INTERNAL_SERVER_ERROR, *lang)
                    }
                };
            }
            PageError::Deactivated(deactivation) => return deactivated_page(deactivation),
            // The server's own failure: the same page as any other 500, with a way back.
            PageError::Logged => return super::fallback::page(StatusCode::INTERNAL_SERVER_ERROR, Lang::Fr),
            // The database is restarting, unreachable or cannot write: nothing was done, and the
            // page says to try again shortly (a warning, not an error: `/readyz` says it too).
            PageError::Unavailable => return super::fallback::page(StatusCode::SERVICE_UNAVAILABLE, Lang::Fr),
            PageError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "page: database unavailable");
                return super::fallback::page(StatusCode::SERVICE_UNAVAILABLE, Lang::Fr);
            }
            // A record that is not there, or that belongs to another organisation: said plainly.
            PageError::Store(StoreError::NotFound(_)) => (|t| t.not_found, Lang::Fr),
            PageError::Store(StoreError::NotMember { .. }) => (|t| t.not_your_organisation, Lang::Fr),
            other => {
                tracing::error!(error = %other, "page failed");
                return super::fallback::page(StatusCode::INTERNAL_SERVER_ERROR, Lang::Fr);
            }
        };
        let t = lang.texts();
        let body = ErrorPage { t, frame: Frame::anonymous(lang), message: message(t) }
            .render()
            .unwrap_or_else(|_| message(t).to_owned());
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body)
    }
}

/// The deactivated account's page, with the words of its language.
fn deactivated_page(deactivation: &Deactivation) -> HttpResponse {
    let lang = deactivation.lang;
    let page =
        DeactivatedPage { t: lang.texts(), frame: Frame::anonymous(lang), d: deactivation, w: deactivation.texts() };
    match page.render() {
        Ok(body) => HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page failed");
            super::fallback::page(StatusCode::INTERNAL_SERVER_ERROR, lang)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_page_error_shows_its_words_not_a_function_address() {
        let logged = format!("{:?}", PageError::bad_request(|t| t.bad_form, Lang::Fr));
        assert!(logged.contains(Lang::Fr.texts().bad_form), "{logged}");
        assert!(!logged.contains("0x"), "{logged}");
    }

    #[test]
    fn a_database_that_cannot_serve_is_a_503_page_also_when_shared() {
        let unavailable = PageError::Store(StoreError::Connection("connection refused".into()));
        assert_eq!(unavailable.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unavailable.share().status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unavailable.error_response().status(), StatusCode::SERVICE_UNAVAILABLE);
        let broken = PageError::Store(StoreError::Migration("x".into()));
        assert_eq!(broken.share().status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
