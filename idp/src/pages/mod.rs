//! Server-rendered pages for helpers (French by default, English on request): login,
//! second factor, choice of usager and démarche, confirmation, logout.

pub mod delegation;
pub mod i18n;
pub mod login;
pub mod session;
pub mod templates;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mandate_store::StoreError;

use crate::blocking::Cancelled;
use i18n::{Lang, Texts};

/// A page that cannot be served as asked. `Shown` errors are for the person at the browser;
/// the others are failures logged here, once, and shown as a generic page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("refused with {status}")]
    Shown { status: StatusCode, message: fn(&'static Texts) -> &'static str, lang: Lang },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a blocking task was cancelled")]
    Cancelled,
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("signing: {0}")]
    Keys(String),
}

impl From<Cancelled> for PageError {
    fn from(_: Cancelled) -> Self {
        PageError::Cancelled
    }
}

impl PageError {
    pub fn bad_request(message: fn(&'static Texts) -> &'static str, lang: Lang) -> PageError {
        PageError::Shown { status: StatusCode::BAD_REQUEST, message, lang }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Shown { status, .. } => *status,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (message, lang): (fn(&'static Texts) -> &'static str, Lang) = match self {
            PageError::Shown { message, lang, .. } => (*message, *lang),
            other => {
                tracing::error!(error = %other, "page failed");
                (|t| t.server_error, Lang::Fr)
            }
        };
        let t = lang.texts();
        let body = templates::ErrorPage { t, message: message(t) }.render().unwrap_or_else(|_| message(t).to_owned());
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body)
    }
}

/// Renders a template as an HTML response that is never cached (pages carry CSRF tokens).
pub fn html<T: Template>(template: &T) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(template.render()?))
}

/// 303 See Other to `location` (after a POST, or to the next step).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).finish()
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/idp.css"))
}
