//! `/charte`: the helper's ethics charter, and its acceptance. A helper who has not accepted the
//! version in force is sent here by `SignedInHelper` before anything else (their space, the
//! delegation choice), the pending authorization request kept; accepting it takes them where
//! they were going.

pub mod texts;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::habilitation::{self, CURRENT_CHARTER_VERSION};
use mandate_store::{aidants, now};
use serde::Deserialize;

use crate::blocking::with_conn;
use crate::protocol::flow::{auth_state, next_step};
use crate::web::dates;
use crate::web::extract::{charter_location, CHARTER_PATH};
use crate::web::{html, see_other, AppState, CheckedForm, Frame, Lang, MaybePendingAuthorization, PageError};
use crate::web::{SignedInForCharter, Texts};
pub use texts::CharterTexts;

#[derive(Template)]
#[template(path = "charter.html")]
pub struct CharterPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub c: &'static CharterTexts,
    pub version: &'static str,
    /// When the helper accepted the version in force; `None` shows the form.
    pub accepted_on: Option<String>,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub language_link: String,
}

/// The page's language: the pending request's when there is one, else the browser's choice.
fn language(req: &HttpRequest, pending: &MaybePendingAuthorization) -> Lang {
    pending.0.as_ref().map_or_else(|| Lang::of_browser(req), |p| p.lang)
}

pub async fn page(
    req: HttpRequest,
    frame: Frame,
    SignedInForCharter(helper): SignedInForCharter,
    pending: MaybePendingAuthorization,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&req, &pending);
    let c = CharterTexts::of(lang);
    let aidant_id = helper.aidant_id.clone();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &aidant_id)).await?;
    let accepted_on = match (aidant.charter_version.as_deref(), aidant.charter_signed_at) {
        (Some(CURRENT_CHARTER_VERSION), Some(at)) => Some(dates::long_day(lang, at)),
        _ => None,
    };
    let here = charter_location(pending.0.as_ref().map(|p| p.id()));
    let back: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    let csrf = helper.browser.csrf_token(&state);
    html(&CharterPage {
        t: lang.texts(),
        frame: &frame.in_lang(lang),
        c,
        version: CURRENT_CHARTER_VERSION,
        accepted_on,
        csrf_token: &csrf,
        request: pending.id(),
        language_link: format!("/langue/{}?retour={back}", c.other_language_code),
    })
}

#[derive(Deserialize)]
pub struct CharterForm {
    /// The version shown on the page: a page open while a new version came in force cannot
    /// accept the new text unseen.
    pub version: String,
}

pub async fn accept(
    SignedInForCharter(helper): SignedInForCharter,
    pending: MaybePendingAuthorization,
    form: CheckedForm<CharterForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let version = form.fields.version;
    if version != CURRENT_CHARTER_VERSION {
        // The text changed since the page was shown: show the one in force.
        return Ok(see_other(&charter_location(pending.0.as_ref().map(|p| p.id()))));
    }
    let aidant_id = helper.aidant_id.clone();
    with_conn(&state.store, move |conn| habilitation::accept_charter(conn, &aidant_id, &version, now())).await?;
    let next = match &pending.0 {
        Some(p) => next_step(auth_state(&helper.browser.session, now(), state.idle_limits()), &p.stored).url(p.id()),
        None => "/espace-aidant".to_owned(),
    };
    Ok(see_other(&next))
}

/// The path of the page, for the routes.
pub const PATH: &str = CHARTER_PATH;
