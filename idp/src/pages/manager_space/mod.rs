//! The manager's space (`/structure`): the helpers of the organisation the manager works in,
//! each with their state in words; adding a helper (an enrolment link shown once); a helper's
//! page with the account's actions (habilitation dates, deactivation, unlocking, second factor,
//! TOTP card). Every handler takes a `SignedInManager`; every action is a CSRF-checked form with
//! the manager's own one-time code, and is journalled by the store.
//!
//! A manager sees and changes only helpers of their current organisation (404 otherwise); a
//! change to an account also working for an organisation they do not manage is refused (403),
//! since an account is one person's, across organisations.

pub mod helper;
pub mod new_helper;
pub mod texts;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use mandate_store::aidants::{self, Aidant};
use mandate_store::habilitation::{self, Requirement};
use mandate_store::{now, second_factors, DbConnection, StoreError, StoreResult};

pub use texts::ManagerTexts;

use crate::blocking::with_conn;
use crate::pages::helper_space::SpaceHeader;
use crate::web::dates;
use crate::web::{html, AppState, Frame, Lang, PageError, SignedInManager, Texts};

/// A helper's state, in the words a manager reads.
pub struct HelperState {
    /// "Actif", "Bloqué…", "Désactivé".
    pub label: &'static str,
    /// Why and since when, for a locked or deactivated account.
    pub detail: Option<String>,
    /// `success`, `warning` or `error`: the badge's colour (the words say the same).
    pub tone: &'static str,
    /// What habilitation still lacks (empty once habilitated).
    pub missing: Vec<&'static str>,
    pub second_factor: bool,
    /// "3 mars 2027" or "Jamais connecté".
    pub last_sign_in: String,
    pub locked: bool,
    pub active: bool,
}

impl HelperState {
    /// `held_back_until`: the wait running after failed sign-ins, if one is (see
    /// [`Aidant::held_back_until`]).
    pub fn of(aidant: &Aidant, second_factor: bool, held_back_until: Option<NaiveDateTime>, lang: Lang) -> HelperState {
        let m = ManagerTexts::of(lang);
        let locked = held_back_until.is_some();
        let (label, detail, tone) = if !aidant.active {
            let why = match aidant.deactivation_reason.as_deref() {
                Some("inactivity") => Some(m.deactivated_inactivity),
                Some(_) => Some(m.deactivated_by_manager),
                None => None,
            };
            let detail = match (why, aidant.deactivated_at) {
                (Some(why), Some(on)) => Some(format!("{why}, {}", dates::long_day(lang, on))),
                (Some(why), None) => Some(why.to_owned()),
                (None, _) => None,
            };
            (m.deactivated, detail, "error")
        } else if locked {
            let until = held_back_until.map(|u| format!("{} {}", m.locked_until, dates::long_date_time(lang, u)));
            (m.locked, until, "warning")
        } else {
            (m.active, None, "success")
        };
        HelperState {
            label,
            detail,
            tone,
            missing: missing_habilitation(aidant, lang),
            second_factor,
            last_sign_in: aidant
                .last_sign_in_at
                .map_or_else(|| m.never_signed_in.to_owned(), |at| dates::long_date_time(lang, at)),
            locked,
            active: aidant.active,
        }
    }
}

/// What the helper still lacks to be habilitated, in words.
fn missing_habilitation(aidant: &Aidant, lang: Lang) -> Vec<&'static str> {
    let m = ManagerTexts::of(lang);
    habilitation::missing(aidant)
        .into_iter()
        .map(|requirement| match requirement {
            Requirement::Training => m.missing_training,
            Requirement::Pix => m.missing_pix,
            Requirement::Charter => m.missing_charter,
        })
        .collect()
}

/// Whether the helper has a confirmed second factor to sign in with.
fn has_second_factor(conn: &mut DbConnection, aidant: &Aidant) -> StoreResult<bool> {
    second_factors::has_confirmed(conn, &aidant.id)
}

/// What the manager reads beside the account itself: a second factor, a wait after failures.
fn sign_in_facts(conn: &mut DbConnection, aidant: &Aidant) -> StoreResult<(bool, Option<NaiveDateTime>)> {
    Ok((has_second_factor(conn, aidant)?, aidant.held_back_until(conn, now())?))
}

/// One helper of the list.
pub struct HelperLine {
    pub id: String,
    pub name: String,
    pub profession: String,
    pub email: String,
    pub is_manager: bool,
    pub is_self: bool,
    pub state: HelperState,
}

#[derive(Template)]
#[template(path = "structure/list.html")]
pub struct ListPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub m: &'static ManagerTexts,
    pub helpers: Vec<HelperLine>,
}

/// `/structure`: the organisation's helpers with their state.
pub async fn list(
    req: HttpRequest,
    manager: SignedInManager,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&manager.helper, &state, &req).await?;
    let lang = header.lang;
    let organisation_id = manager.organisation_id().to_owned();
    let members = with_conn(&state.store, move |conn| {
        aidants::members(conn, &organisation_id)?
            .into_iter()
            .map(|member| {
                let facts = sign_in_facts(conn, &member.aidant)?;
                Ok((member, facts))
            })
            .collect::<StoreResult<Vec<_>>>()
    })
    .await?;
    let helpers = members
        .into_iter()
        .map(|(member, (second_factor, held_back_until))| HelperLine {
            is_self: member.aidant.id == manager.aidant_id(),
            state: HelperState::of(&member.aidant, second_factor, held_back_until, lang),
            id: member.aidant.id,
            name: format!("{} {}", member.aidant.given_name, member.aidant.family_name),
            profession: member.aidant.profession,
            email: member.aidant.email,
            is_manager: member.is_manager,
        })
        .collect();
    html(&ListPage { t: lang.texts(), frame: &header.frame, header: &header, m: ManagerTexts::of(lang), helpers })
}

/// A helper of the manager's current organisation, and whether the manager may change their
/// account: a helper elsewhere is not found (404); an account that also works for an
/// organisation the manager does not manage can be read, not changed.
pub struct ManagedHelper {
    pub aidant: Aidant,
    pub second_factor: bool,
    pub held_back_until: Option<NaiveDateTime>,
    pub may_change: bool,
}

pub async fn managed_helper(
    state: &AppState,
    manager: &SignedInManager,
    aidant_id: String,
) -> Result<ManagedHelper, PageError> {
    let (manager_id, organisation_id) = (manager.aidant_id().to_owned(), manager.organisation_id().to_owned());
    with_conn(&state.store, move |conn| {
        if !aidants::is_member(conn, &aidant_id, &organisation_id)? {
            return Err(PageError::Store(StoreError::NotFound("aidant")));
        }
        let aidant = aidants::find(conn, &aidant_id)?;
        let mut may_change = true;
        for organisation in aidants::organisations_of(conn, &aidant_id)? {
            may_change &= aidants::is_manager(conn, &manager_id, &organisation.id)?;
        }
        let (second_factor, held_back_until) = sign_in_facts(conn, &aidant)?;
        Ok(ManagedHelper { aidant, second_factor, held_back_until, may_change })
    })
    .await
}

/// The same, for an action: refused (403) when the manager may not change the account.
pub async fn changeable_helper(
    state: &AppState,
    manager: &SignedInManager,
    aidant_id: String,
    lang: Lang,
) -> Result<ManagedHelper, PageError> {
    let helper = managed_helper(state, manager, aidant_id).await?;
    if !helper.may_change {
        return Err(PageError::forbidden(|t| t.not_your_organisation, lang));
    }
    Ok(helper)
}

pub fn helper_url(aidant_id: &str) -> String {
    format!("/structure/aidants/{aidant_id}")
}
