//! A helper's page in the manager's space, and the actions on their account. Each action is a
//! form with the manager's one-time code; a refused code changes nothing and says so; the
//! outcome is said on the helper's page that follows (`?notice=` / `?erreur=`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::aidants::{self, Aidant, DeactivationReason};
use mandate_store::now;
use serde::Deserialize;

use super::{changeable_helper, helper_url, managed_helper, HelperState, ManagerTexts};
use crate::blocking::with_conn;
use crate::pages::helper_space::SpaceHeader;
use crate::pages::second_factor;
use crate::web::dates;
use crate::web::{html_with_status, see_other, AppState, CheckedForm, Frame, Lang, PageError, SignedInManager, Texts};

#[derive(Template)]
#[template(path = "structure/helper.html")]
pub struct HelperPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub m: &'static ManagerTexts,
    pub aidant: &'a Aidant,
    pub state: HelperState,
    pub training_date: Option<String>,
    pub pix_date: Option<String>,
    pub is_self: bool,
    pub may_change: bool,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct HelperQuery {
    pub notice: Option<String>,
    pub erreur: Option<String>,
}

fn notice(key: &str, m: &'static ManagerTexts) -> Option<&'static str> {
    Some(match key {
        "desactive" => m.notice_deactivated,
        "reactive" => m.notice_reactivated,
        "debloque" => m.notice_unlocked,
        "formation" => m.notice_training,
        "pix" => m.notice_pix,
        "carte" => m.notice_card,
        "inchange" => m.notice_unchanged,
        _ => return None,
    })
}

fn error(key: &str, m: &'static ManagerTexts) -> Option<&'static str> {
    Some(match key {
        "code" => m.code_refused,
        "date" => m.bad_date,
        "carte" => m.card_unknown,
        "code-carte" => m.card_code_wrong,
        "soi-meme" => m.cannot_deactivate_self,
        _ => return None,
    })
}

/// A stored calendar date (`YYYY-MM-DD`) in words.
fn recorded_date(lang: Lang, raw: Option<&str>) -> Option<String> {
    raw.and_then(|r| chrono::NaiveDate::parse_from_str(r, "%Y-%m-%d").ok()).map(|d| dates::long_date(lang, d))
}

pub async fn page(
    req: HttpRequest,
    manager: SignedInManager,
    path: web::Path<String>,
    query: web::Query<HelperQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = managed_helper(&state, &manager, path.into_inner()).await?;
    let header = SpaceHeader::load(&manager.helper, &state, &req).await?;
    let lang = header.lang;
    let m = ManagerTexts::of(lang);
    let error = query.erreur.as_deref().and_then(|e| error(e, m));
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html_with_status(
        status,
        &HelperPage {
            t: lang.texts(),
            frame: &header.frame,
            header: &header,
            m,
            state: HelperState::of(&helper.aidant, helper.second_factor, now(), lang),
            training_date: recorded_date(lang, helper.aidant.training_date.as_deref()),
            pix_date: recorded_date(lang, helper.aidant.pix_date.as_deref()),
            is_self: helper.aidant.id == manager.aidant_id(),
            may_change: helper.may_change,
            aidant: &helper.aidant,
            notice: query.notice.as_deref().and_then(|n| notice(n, m)),
            error,
        },
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub otp: Option<String>,
}

/// Spends the manager's one-time code; `false` when refused (nothing is to be done then).
async fn manager_code(state: &AppState, manager: &SignedInManager, otp: Option<&str>) -> Result<bool, PageError> {
    second_factor::spend_code_of(state, manager.aidant_id(), otp.unwrap_or("")).await
}

fn back(aidant_id: &str, outcome: &str) -> HttpResponse {
    see_other(&format!("{}?{outcome}", helper_url(aidant_id)))
}

fn changed(aidant_id: &str, did: bool, notice: &str) -> HttpResponse {
    back(aidant_id, &format!("notice={}", if did { notice } else { "inchange" }))
}

pub async fn deactivate(
    req: HttpRequest,
    manager: SignedInManager,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if id == manager.aidant_id() {
        return Ok(back(&id, "erreur=soi-meme"));
    }
    if !manager_code(&state, &manager, form.fields.otp.as_deref()).await? {
        return Ok(back(&id, "erreur=code"));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let did = with_conn(&state.store, move |conn| {
        aidants::deactivate(conn, &target, DeactivationReason::Manager, Some(&by), Some(&organisation_id), now())
    })
    .await?;
    Ok(changed(&id, did, "desactive"))
}

pub async fn reactivate(
    req: HttpRequest,
    manager: SignedInManager,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if !manager_code(&state, &manager, form.fields.otp.as_deref()).await? {
        return Ok(back(&id, "erreur=code"));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let did =
        with_conn(&state.store, move |conn| aidants::reactivate(conn, &target, Some(&by), Some(&organisation_id), now()))
            .await?;
    Ok(changed(&id, did, "reactive"))
}

pub async fn unlock(
    req: HttpRequest,
    manager: SignedInManager,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if !manager_code(&state, &manager, form.fields.otp.as_deref()).await? {
        return Ok(back(&id, "erreur=code"));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let did =
        with_conn(&state.store, move |conn| aidants::unlock(conn, &target, Some(&by), Some(&organisation_id), now()))
            .await?;
    Ok(changed(&id, did, "debloque"))
}
