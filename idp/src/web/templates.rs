//! The templates every surface may show (askama, in `idp/templates/`): the error pages and the
//! auto-submitted form of a `form_post` response.

use askama::Template;

use super::frame::Frame;
use super::habilitation::HabilitationTexts;
use super::i18n::Texts;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub frame: Frame,
    pub message: &'static str,
}

/// A helper in habilitation refused: what is missing and who records it. In the delegation
/// flow (`service`), with the way back to the service.
#[derive(Template)]
#[template(path = "habilitation_refusal.html")]
pub struct HabilitationRefusalPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub h: &'static HabilitationTexts,
    pub missing: Vec<&'static str>,
    pub charter_missing: bool,
    pub service: Option<&'a str>,
    pub request: &'a str,
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub t: &'static Texts,
    pub action: &'a str,
    pub fields: Vec<(&'a str, String)>,
}

/// The page of an unknown path, a refused method or a failure no surface explained
/// (`web::fallback`).
#[derive(Template)]
#[template(path = "http_error.html")]
pub struct HttpErrorPage {
    pub t: &'static Texts,
    /// Anonymous: the page is rendered without the request.
    pub frame: super::Frame,
    pub words: &'static super::fallback::Words,
}

/// A deactivated helper account: why, and what to do (`web::deactivated`).
#[derive(Template)]
#[template(path = "deactivated.html")]
pub struct DeactivatedPage<'a> {
    pub t: &'static Texts,
    pub frame: Frame,
    pub d: &'a super::deactivated::Deactivation,
    pub w: &'static super::deactivated::DeactivatedTexts,
}
