//! A helper's page in the manager's space, and the actions on their account. Each action is a
//! form with the manager's one-time code; a refused code changes nothing and says so; the
//! outcome is said on the helper's page that follows (`?notice=` / `?erreur=`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::aidants::{self, Aidant, DeactivationReason};
use mandate_store::habilitation::{self, HabilitationStep};
use mandate_store::{cards, enrolment, now, second_factors, StoreError};
use serde::Deserialize;

use super::new_helper::link_page;
use super::{changeable_helper, helper_url, managed_helper, HelperState, ManagerTexts};
use crate::blocking::with_conn;
use crate::pages::helper_space::SpaceHeader;
use crate::pages::second_factor::{self, CodeCheck};
use crate::totp;
use crate::web::dates;
use crate::web::ClientAddress;
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
        "attente" => m.code_held_back,
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
            state: HelperState::of(&helper.aidant, helper.second_factor, helper.held_back_until, lang),
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

/// Checks the manager's one-time code; the `?erreur=` to show when it is refused (nothing is to
/// be done then): `code`, or `attente` after too many wrong ones.
async fn manager_code(
    state: &AppState,
    manager: &SignedInManager,
    otp: Option<&str>,
    address: &ClientAddress,
) -> Result<Option<&'static str>, PageError> {
    Ok(match second_factor::check_code_of(state, manager.aidant_id(), otp.unwrap_or(""), address).await? {
        CodeCheck::Accepted => None,
        CodeCheck::Refused => Some("code"),
        CodeCheck::HeldBack { .. } => Some("attente"),
    })
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
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if id == manager.aidant_id() {
        return Ok(back(&id, "erreur=soi-meme"));
    }
    if let Some(error) = manager_code(&state, &manager, form.fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
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
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if let Some(error) = manager_code(&state, &manager, form.fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let did = with_conn(&state.store, move |conn| {
        aidants::reactivate(conn, &target, Some(&by), Some(&organisation_id), now())
    })
    .await?;
    Ok(changed(&id, did, "reactive"))
}

pub async fn unlock(
    req: HttpRequest,
    manager: SignedInManager,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if let Some(error) = manager_code(&state, &manager, form.fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let did =
        with_conn(&state.store, move |conn| aidants::unlock(conn, &target, Some(&by), Some(&organisation_id), now()))
            .await?;
    Ok(changed(&id, did, "debloque"))
}

#[derive(Deserialize)]
pub struct HabilitationForm {
    /// `formation` or `pix`.
    pub etape: String,
    /// `YYYY-MM-DD`, as a date field sends it.
    pub date: Option<String>,
    pub otp: Option<String>,
}

/// Records the training or PIX date.
pub async fn record_habilitation(
    req: HttpRequest,
    manager: SignedInManager,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<HabilitationForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::of_browser(&req);
    let helper = changeable_helper(&state, &manager, path.into_inner(), lang).await?;
    let id = helper.aidant.id.clone();
    let fields = form.fields;
    let (step, notice) = match fields.etape.as_str() {
        "formation" => (HabilitationStep::Training, "formation"),
        "pix" => (HabilitationStep::Pix, "pix"),
        _ => return Err(PageError::bad_request(|t| t.not_found, lang)),
    };
    let today = now().date();
    let Some(on) = fields
        .date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .filter(|on| *on <= today)
    else {
        return Ok(back(&id, "erreur=date"));
    };
    if let Some(error) = manager_code(&state, &manager, fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    with_conn(&state.store, move |conn| {
        habilitation::record(conn, &target, step, on, Some(&by), Some(&organisation_id), now())
    })
    .await?;
    Ok(back(&id, &format!("notice={notice}")))
}

/// Removes the helper's second factors and issues a new enrolment link, shown once.
pub async fn reset_second_factor(
    req: HttpRequest,
    manager: SignedInManager,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    if let Some(error) = manager_code(&state, &manager, form.fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let link = with_conn(&state.store, move |conn| {
        second_factors::reset(conn, &target, Some(&by), Some(&organisation_id), now())?;
        enrolment::issue(conn, &target, Some(&by), Some(&organisation_id), now())
    })
    .await?;
    let header = SpaceHeader::load(&manager.helper, &state, &req).await?;
    let name = format!("{} {}", helper.aidant.given_name, helper.aidant.family_name);
    link_page(&state, &header, &id, name, &link.token, link.expires_at, true)
}

#[derive(Deserialize)]
pub struct CardForm {
    pub serie: Option<String>,
    pub code_carte: Option<String>,
    pub otp: Option<String>,
}

/// Gives a TOTP card to the helper, once a code read from the card proves it is that card.
pub async fn assign_card(
    req: HttpRequest,
    manager: SignedInManager,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CardForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let helper = changeable_helper(&state, &manager, path.into_inner(), Lang::of_browser(&req)).await?;
    let id = helper.aidant.id.clone();
    let fields = form.fields;
    let serial = fields.serie.unwrap_or_default().trim().to_owned();
    let lookup = serial.clone();
    let keys = state.sealing.clone();
    let Some(card) = with_conn(&state.store, move |conn| cards::find_unassigned(conn, &*keys, &lookup)).await? else {
        return Ok(back(&id, "erreur=carte"));
    };
    // Cards step every 60 seconds (their own step is stored with them).
    let unix_now = now().and_utc().timestamp() as u64;
    let code = fields.code_carte.unwrap_or_default();
    let step = totp::matching_step(&card.secret, card.step_seconds as u64, code.trim(), unix_now).ok().flatten();
    let Some(step) = step else {
        return Ok(back(&id, "erreur=code-carte"));
    };
    // The card is checked first: a mistyped serial or card code does not cost the manager's code.
    if let Some(error) = manager_code(&state, &manager, fields.otp.as_deref(), &address).await? {
        return Ok(back(&id, &format!("erreur={error}")));
    }
    let (by, organisation_id, target) =
        (manager.aidant_id().to_owned(), manager.organisation_id().to_owned(), id.clone());
    let keys = state.sealing.clone();
    let assigned = with_conn(&state.store, move |conn| {
        let factor = cards::assign(conn, &*keys, &card.serial, &target, Some(&by), Some(&organisation_id), now())?;
        // The code read from the card is spent: it cannot sign in afterwards.
        second_factors::accept_step(conn, &factor.id, step as i64)?;
        Ok::<_, StoreError>(())
    })
    .await;
    match assigned {
        Ok(()) => Ok(back(&id, "notice=carte")),
        // Assigned to someone else meanwhile.
        Err(StoreError::InvalidField { field: "card", .. } | StoreError::NotFound("card")) => {
            Ok(back(&id, "erreur=carte"))
        }
        Err(e) => Err(e.into()),
    }
}
