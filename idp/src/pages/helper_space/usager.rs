//! A usager's page: their mandates with this organisation (in force, expired, revoked) and each
//! démarche's state; revoking one démarche or the whole mandate, and renewing a mandate (same or
//! fewer démarches, a new duration, no new upstream login). Each change asks for a one-time code.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::attestation::OFFERED_DURATIONS;
use mandate_store::mandates::{self, MandateStatus, MandateWithAuthorisations};
use mandate_store::usagers::{self, Usager};
use mandate_store::{now, Demarche, DurationKind, StoreError};
use serde::Deserialize;

use super::new_mandate::durations;
use super::{day, duration_label, status_label, DemarcheView, SpaceHeader, SpaceTexts};
use crate::blocking::with_conn;
use crate::pages::second_factor::{self, CodeCheck};
use crate::web::dates;
use crate::web::ClientAddress;
use crate::web::HabilitatedHelper;
use crate::web::{
    html, html_with_status, see_other, AppState, CheckedForm, Frame, Lang, PageError, SignedInHelper, Texts,
};

/// One démarche of a mandate, as listed.
pub struct AuthorisationLine {
    pub id: String,
    pub title: &'static str,
    pub live: bool,
    /// "révoquée le 3 mars 2027" and the like, when it no longer applies.
    pub ended: Option<String>,
}

pub struct MandateCard {
    pub id: String,
    pub status: &'static str,
    pub live: bool,
    pub renewable: bool,
    pub revoked: bool,
    /// The usager revoked it from their own space.
    pub revoked_by_usager: bool,
    pub created_on: String,
    pub ends_on: String,
    pub duration: &'static str,
    pub renewed_from: Option<String>,
    /// The mandate or one of its démarches was revoked: a revocation attestation exists.
    pub has_revocations: bool,
    pub authorisations: Vec<AuthorisationLine>,
}

#[derive(Template)]
#[template(path = "space/usager.html")]
pub struct UsagerPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub usager: &'a Usager,
    pub birthdate: String,
    pub mandates: Vec<MandateCard>,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct UsagerQuery {
    pub notice: Option<String>,
    pub erreur: Option<String>,
}

fn card(m: &MandateWithAuthorisations, lang: Lang, s: &SpaceTexts) -> MandateCard {
    let at = now();
    let status = m.status(at);
    let ended = |a: &mandate_store::mandates::Authorisation| match (a.revoked_at, status) {
        (Some(when), _) if a.revoked_by_usager => {
            Some(format!("{} {}", s.demarche_revoked_by_usager_on, day(lang, when)))
        }
        (Some(when), _) => Some(format!("{} {}", s.demarche_revoked_on, day(lang, when))),
        (None, MandateStatus::Expired) => Some(format!("{} {}", s.demarche_ended_on, day(lang, m.mandate.expires_at))),
        _ => None,
    };
    MandateCard {
        id: m.mandate.id.clone(),
        status: status_label(status, s),
        has_revocations: m.authorisations.iter().any(|a| a.revoked_at.is_some()),
        live: status == MandateStatus::Live,
        renewable: status != MandateStatus::Revoked && !m.renewable_demarches().is_empty(),
        revoked: status == MandateStatus::Revoked,
        revoked_by_usager: m.mandate.revoked_by_usager,
        created_on: day(lang, m.mandate.created_at),
        ends_on: day(lang, m.mandate.revoked_at.unwrap_or(m.mandate.expires_at)),
        duration: duration_label(m.mandate.duration_kind, lang),
        renewed_from: m.mandate.renewed_from_id.clone(),
        authorisations: m
            .authorisations
            .iter()
            .map(|a| AuthorisationLine {
                id: a.id.clone(),
                title: lang.demarche_label(a.demarche),
                live: status == MandateStatus::Live && a.revoked_at.is_none(),
                ended: ended(a),
            })
            .collect(),
    }
}

/// The usager and their mandates with the helper's current organisation; a usager with none
/// here is not shown (404), whatever other organisations hold.
async fn load(
    state: &AppState,
    helper: &SignedInHelper,
    usager_id: String,
) -> Result<(Usager, Vec<MandateWithAuthorisations>), PageError> {
    let organisation_id = helper.organisation_id.clone();
    with_conn(&state.store, move |conn| {
        let found = mandates::list(conn, Some(&organisation_id), Some(&usager_id))?;
        if found.is_empty() {
            return Err(PageError::Store(StoreError::NotFound("usager")));
        }
        Ok((usagers::find(conn, &usager_id)?, found))
    })
    .await
}

pub async fn page(
    req: HttpRequest,
    helper: SignedInHelper,
    path: web::Path<String>,
    query: web::Query<UsagerQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (usager, found) = load(&state, &helper, path.into_inner()).await?;
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    let (lang, s) = (header.lang, header.s);
    let notice = (query.notice.as_deref() == Some("demarche-revoquee")).then_some(s.demarche_revoked_notice);
    let error = match query.erreur.as_deref() {
        Some("code") => Some(s.code_refused_nothing_revoked),
        Some("attente") => Some(s.otp_held_back),
        _ => None,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html_with_status(
        status,
        &UsagerPage {
            t: lang.texts(),
            frame: &header.frame,
            header: &header,
            birthdate: dates::birthdate(lang, &usager.birthdate),
            usager: &usager,
            mandates: found.iter().map(|m| card(m, lang, s)).collect(),
            notice,
            error,
        },
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub otp: Option<String>,
}

/// The `?erreur=` of a refused code: wrong, or too many wrong ones.
fn code_error(check: CodeCheck) -> Option<&'static str> {
    match check {
        CodeCheck::Accepted => None,
        CodeCheck::Refused => Some("code"),
        CodeCheck::HeldBack { .. } => Some("attente"),
    }
}

fn usager_url(usager_id: &str) -> String {
    format!("/espace-aidant/usagers/{usager_id}")
}

/// Revokes one démarche of a mandate of the helper's organisation.
pub async fn revoke_authorisation(
    helper: SignedInHelper,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let authorisation_id = path.into_inner();
    let id = authorisation_id.clone();
    let mandate = with_conn(&state.store, move |conn| mandates::find_by_authorisation(conn, &id)).await?;
    if mandate.mandate.organisation_id != helper.organisation_id {
        return Err(PageError::Store(StoreError::NotMember { organisation_id: mandate.mandate.organisation_id }));
    }
    let back = usager_url(&mandate.mandate.usager_id);
    let otp = form.fields.otp.as_deref().unwrap_or("");
    if let Some(error) = code_error(second_factor::check_code_of(&state, &helper.aidant_id, otp, &address).await?) {
        return Ok(see_other(&format!("{back}?erreur={error}")));
    }
    let aidant_id = helper.aidant_id.clone();
    with_conn(&state.store, move |conn| mandates::revoke_authorisation(conn, &authorisation_id, &aidant_id, now()))
        .await?;
    Ok(see_other(&format!("{back}?notice=demarche-revoquee")))
}

/// Revokes a whole mandate; the revocation attestation follows.
pub async fn revoke_mandate(
    helper: SignedInHelper,
    address: ClientAddress,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let mandate_id = path.into_inner();
    let id = mandate_id.clone();
    let mandate = with_conn(&state.store, move |conn| mandates::find(conn, &id)).await?;
    if mandate.mandate.organisation_id != helper.organisation_id {
        return Err(PageError::Store(StoreError::NotMember { organisation_id: mandate.mandate.organisation_id }));
    }
    let otp = form.fields.otp.as_deref().unwrap_or("");
    if let Some(error) = code_error(second_factor::check_code_of(&state, &helper.aidant_id, otp, &address).await?) {
        return Ok(see_other(&format!("{}?erreur={error}", usager_url(&mandate.mandate.usager_id))));
    }
    let aidant_id = helper.aidant_id.clone();
    let id = mandate_id.clone();
    with_conn(&state.store, move |conn| mandates::revoke(conn, &id, &aidant_id, now())).await?;
    state.metrics.mandates_revoked.with_label_values(&["helper"]).inc();
    Ok(see_other(&format!("/espace-aidant/mandats/{mandate_id}/attestation-revocation")))
}

// ---- Renewal ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "space/renew.html")]
pub struct RenewPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub mandate_id: &'a str,
    pub usager: &'a Usager,
    /// (view, ticked)
    pub demarches: Vec<(DemarcheView, bool)>,
    /// (key, label, new end date, checked)
    pub durations: Vec<(&'static str, &'static str, String, bool)>,
    pub errors: Vec<&'static str>,
}

async fn renewable(
    state: &AppState,
    helper: &SignedInHelper,
    req: &HttpRequest,
    mandate_id: String,
) -> Result<(MandateWithAuthorisations, Usager), PageError> {
    let found = with_conn(&state.store, move |conn| {
        let m = mandates::find(conn, &mandate_id)?;
        let u = usagers::find(conn, &m.mandate.usager_id)?;
        Ok::<_, PageError>((m, u))
    })
    .await?;
    if found.0.mandate.organisation_id != helper.organisation_id {
        return Err(PageError::Store(StoreError::NotMember { organisation_id: found.0.mandate.organisation_id }));
    }
    if found.0.mandate.revoked_at.is_some() || found.0.renewable_demarches().is_empty() {
        return Err(PageError::Shown {
            status: StatusCode::CONFLICT,
            message: |t| t.cannot_renew,
            lang: Lang::of_browser(req),
        });
    }
    Ok(found)
}

fn renew_page<'a>(
    header: &'a SpaceHeader,
    mandate: &'a MandateWithAuthorisations,
    usager: &'a Usager,
    ticked: &[Demarche],
    duration: Option<DurationKind>,
    errors: Vec<&'static str>,
) -> RenewPage<'a> {
    RenewPage {
        t: header.lang.texts(),
        frame: &header.frame,
        header,
        mandate_id: &mandate.mandate.id,
        usager,
        demarches: mandate
            .renewable_demarches()
            .into_iter()
            .map(|d| (DemarcheView::of(d, header.lang), ticked.contains(&d)))
            .collect(),
        durations: durations(duration, header.lang),
        errors,
    }
}

pub async fn renew_form(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (mandate, usager) = renewable(&state, &helper, &req, path.into_inner()).await?;
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    let all = mandate.renewable_demarches();
    html(&renew_page(&header, &mandate, &usager, &all, Some(mandate.mandate.duration_kind), Vec::new()))
}

#[derive(Deserialize)]
pub struct RenewForm {
    #[serde(default)]
    pub demarche: Vec<String>,
    pub duree: Option<String>,
    pub consentement: Option<String>,
    pub otp: Option<String>,
}

pub async fn renew_submit(
    req: HttpRequest,
    address: ClientAddress,
    HabilitatedHelper(helper): HabilitatedHelper,
    path: web::Path<String>,
    form: CheckedForm<RenewForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (mandate, usager) = renewable(&state, &helper, &req, path.into_inner()).await?;
    let fields = form.fields;
    let renewable_now = mandate.renewable_demarches();
    let ticked: Vec<Demarche> =
        fields.demarche.iter().filter_map(|d| d.parse().ok()).filter(|d| renewable_now.contains(d)).collect();
    let duration =
        fields.duree.as_deref().and_then(|d| d.parse::<DurationKind>().ok()).filter(|d| OFFERED_DURATIONS.contains(d));
    let consented = fields.consentement.is_some_and(|c| !c.is_empty());
    let s = SpaceTexts::of(Lang::of_browser(&req));
    let mut errors = Vec::new();
    if ticked.is_empty() {
        errors.push(s.renew_pick_a_demarche);
    }
    if duration.is_none() {
        errors.push(s.renew_pick_a_duration);
    }
    if !consented {
        errors.push(s.consent_missing);
    }
    if errors.is_empty() {
        let otp = fields.otp.as_deref().unwrap_or("");
        match second_factor::check_code_of(&state, &helper.aidant_id, otp, &address).await? {
            CodeCheck::Accepted => {}
            CodeCheck::Refused => errors.push(s.otp_refused),
            CodeCheck::HeldBack { .. } => errors.push(s.otp_held_back),
        }
    }
    let Some(duration) = duration.filter(|_| errors.is_empty()) else {
        let header = SpaceHeader::load(&helper, &state, &req).await?;
        let page = renew_page(&header, &mandate, &usager, &ticked, duration, errors);
        return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let (old_id, aidant_id) = (mandate.mandate.id.clone(), helper.aidant_id.clone());
    let renewed =
        with_conn(&state.store, move |conn| mandates::renew(conn, &old_id, &aidant_id, ticked, duration, now()))
            .await?;
    state.metrics.mandates_created.inc();
    Ok(see_other(&format!("/espace-aidant/mandats/{}/attestation", renewed.mandate.id)))
}
