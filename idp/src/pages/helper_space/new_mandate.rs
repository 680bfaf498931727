//! The new-mandate wizard: démarches, duration, the usager's upstream login (FranceConnect, or
//! the demo upstream), a recap, then consent: the usager ticks the consent box and the helper
//! gives a one-time code again. The choices live in a draft of this browser session
//! (`mandate_drafts`); nothing is a mandate until the last step.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::attestation::OFFERED_DURATIONS;
use mandate_store::mandate_drafts::{self, MandateDraft};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::usagers::{self, Usager};
use mandate_store::{now, organisations, Demarche, DurationKind};
use serde::Deserialize;

use super::{day, duration_label, DemarcheView, SpaceHeader};
use crate::blocking::with_conn;
use crate::pages::second_factor::{self, CodeCheck};
use crate::web::dates;
use crate::web::ClientAddress;
use crate::web::{
    html, html_with_status, see_other, AppState, CheckedForm, Frame, HabilitatedHelper, Lang, PageError,
    SignedInHelper, Texts,
};

const WIZARD: &str = "/espace-aidant/mandats/nouveau";

#[derive(Deserialize)]
pub struct DraftQuery {
    pub brouillon: Option<String>,
}

/// A draft of this browser session, or the page that says the wizard must start again.
async fn draft_of(
    state: &AppState,
    helper: &SignedInHelper,
    req: &HttpRequest,
    id: Option<String>,
) -> Result<MandateDraft, PageError> {
    let (sid, aidant_id) = (helper.browser.session.sid.clone(), helper.aidant_id.clone());
    let id = id.unwrap_or_default();
    let found = with_conn(&state.store, move |conn| mandate_drafts::find(conn, &id, &sid, now())).await?;
    found.filter(|d| d.aidant_id == aidant_id).ok_or(PageError::Shown {
        status: StatusCode::NOT_FOUND,
        message: |t| t.draft_gone,
        lang: Lang::of_browser(req),
    })
}

fn step_url(step: &str, draft_id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(draft_id.as_bytes()).collect();
    format!("{WIZARD}/{step}?brouillon={id}")
}

// ---- Step 1: démarches --------------------------------------------------------------------

/// The démarches the helper's current organisation offers: the only ones a mandate made there
/// may cover.
async fn offered_demarches(state: &AppState, helper: &SignedInHelper) -> Result<Vec<Demarche>, PageError> {
    let organisation_id = helper.organisation_id.clone();
    let organisation = with_conn(&state.store, move |conn| organisations::find(conn, &organisation_id)).await?;
    Ok(organisation.demarches().to_vec())
}

#[derive(Template)]
#[template(path = "space/new_demarches.html")]
pub struct DemarchesPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub demarches: Vec<(DemarcheView, bool)>,
    pub draft: Option<String>,
    pub error: Option<&'static str>,
}

pub async fn demarches_page(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    query: web::Query<DraftQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    // Coming back from a later step: the choices already made stay ticked.
    let draft = match query.brouillon.clone() {
        Some(id) => Some(draft_of(&state, &helper, &req, Some(id)).await?),
        None => None,
    };
    let chosen = draft.as_ref().map(|d| d.demarches().to_vec()).unwrap_or_default();
    let offered = offered_demarches(&state, &helper).await?;
    html(&DemarchesPage {
        t: header.lang.texts(),
        frame: &header.frame,
        header: &header,
        demarches: offered.iter().map(|d| (DemarcheView::of(*d, header.lang), chosen.contains(d))).collect(),
        draft: draft.map(|d| d.id),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct DemarchesForm {
    #[serde(default)]
    pub demarche: Vec<String>,
    pub brouillon: Option<String>,
}

pub async fn demarches_submit(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    form: CheckedForm<DemarchesForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let fields = form.fields;
    let offered = offered_demarches(&state, &helper).await?;
    // A démarche the organisation does not offer is refused like an unknown one.
    let chosen: Vec<Demarche> =
        fields.demarche.iter().filter_map(|d| d.parse().ok()).filter(|d| offered.contains(d)).collect();
    if chosen.is_empty() || chosen.len() != fields.demarche.len() {
        let header = SpaceHeader::load(&helper, &state, &req).await?;
        let page = DemarchesPage {
            t: header.lang.texts(),
            frame: &header.frame,
            header: &header,
            demarches: offered.iter().map(|d| (DemarcheView::of(*d, header.lang), chosen.contains(d))).collect(),
            draft: fields.brouillon.clone(),
            error: Some(header.s.pick_a_demarche),
        };
        return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let draft_id = match fields.brouillon.filter(|b| !b.is_empty()) {
        Some(id) => {
            let draft = draft_of(&state, &helper, &req, Some(id)).await?;
            let id = draft.id.clone();
            with_conn(&state.store, move |conn| mandate_drafts::set_demarches(conn, &id, chosen)).await?;
            draft.id
        }
        None => {
            let (sid, aidant_id, organisation_id) =
                (helper.browser.session.sid.clone(), helper.aidant_id.clone(), helper.organisation_id.clone());
            with_conn(&state.store, move |conn| {
                mandate_drafts::create(conn, &sid, &aidant_id, &organisation_id, chosen, now())
            })
            .await?
            .id
        }
    };
    Ok(see_other(&step_url("duree", &draft_id)))
}

// ---- Step 2: duration ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "space/new_duration.html")]
pub struct DurationPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub draft: &'a str,
    /// (key, label, end date if chosen now, checked)
    pub durations: Vec<(&'static str, &'static str, String, bool)>,
    pub error: Option<&'static str>,
}

/// The durations offered, each with the end date it would give if chosen now.
pub(super) fn durations(chosen: Option<DurationKind>, lang: Lang) -> Vec<(&'static str, &'static str, String, bool)> {
    OFFERED_DURATIONS
        .iter()
        .map(|k| {
            let ends = k.expiry_from(now()).map(|at| day(lang, at)).unwrap_or_default();
            (k.key(), duration_label(*k, lang), ends, chosen == Some(*k))
        })
        .collect()
}

pub async fn duration_page(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    query: web::Query<DraftQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let draft = draft_of(&state, &helper, &req, query.brouillon.clone()).await?;
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    html(&DurationPage {
        t: header.lang.texts(),
        frame: &header.frame,
        header: &header,
        draft: &draft.id,
        durations: durations(draft.duration_kind, header.lang),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct DurationForm {
    pub brouillon: Option<String>,
    pub duree: Option<String>,
}

pub async fn duration_submit(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    form: CheckedForm<DurationForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let draft = draft_of(&state, &helper, &req, form.fields.brouillon.clone()).await?;
    let chosen = form
        .fields
        .duree
        .as_deref()
        .and_then(|d| d.parse::<DurationKind>().ok())
        .filter(|d| OFFERED_DURATIONS.contains(d));
    let Some(duration) = chosen else {
        let header = SpaceHeader::load(&helper, &state, &req).await?;
        let page = DurationPage {
            t: header.lang.texts(),
            frame: &header.frame,
            header: &header,
            draft: &draft.id,
            durations: durations(None, header.lang),
            error: Some(header.s.pick_a_duration),
        };
        return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let id = draft.id.clone();
    with_conn(&state.store, move |conn| mandate_drafts::set_duration(conn, &id, duration)).await?;
    Ok(see_other(&step_url("identite", &draft.id)))
}

// ---- Step 3: the usager's upstream login ---------------------------------------------------

#[derive(Template)]
#[template(path = "space/new_identity.html")]
pub struct IdentityPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub draft: &'a str,
}

pub async fn identity_page(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    query: web::Query<DraftQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let draft = draft_of(&state, &helper, &req, query.brouillon.clone()).await?;
    if draft.duration_kind.is_none() {
        return Ok(see_other(&step_url("duree", &draft.id)));
    }
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    html(&IdentityPage { t: header.lang.texts(), frame: &header.frame, header: &header, draft: &draft.id })
}

// ---- Step 4: recap and consent ------------------------------------------------------------

#[derive(Template)]
#[template(path = "space/new_recap.html")]
pub struct RecapPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub draft: &'a str,
    pub usager: &'a Usager,
    pub birthdate: String,
    pub demarches: Vec<DemarcheView>,
    pub duration: &'static str,
    pub ends_on: String,
    pub consent_error: bool,
    pub otp_error: bool,
    /// Too many wrong codes: this one was not checked.
    pub otp_held_back: bool,
}

/// The draft with its usager, once the upstream login brought one; else back to that step.
async fn complete_draft(
    state: &AppState,
    helper: &SignedInHelper,
    req: &HttpRequest,
    id: Option<String>,
) -> Result<Result<(MandateDraft, Usager, DurationKind), HttpResponse>, PageError> {
    let draft = draft_of(state, helper, req, id).await?;
    let Some(duration) = draft.duration_kind else { return Ok(Err(see_other(&step_url("duree", &draft.id)))) };
    let Some(usager_id) = draft.usager_id.clone() else {
        return Ok(Err(see_other(&step_url("identite", &draft.id))));
    };
    let usager = with_conn(&state.store, move |conn| usagers::find(conn, &usager_id)).await?;
    Ok(Ok((draft, usager, duration)))
}

fn recap<'a>(
    header: &'a SpaceHeader,
    draft: &'a MandateDraft,
    usager: &'a Usager,
    duration: DurationKind,
) -> RecapPage<'a> {
    let lang = header.lang;
    RecapPage {
        t: lang.texts(),
        frame: &header.frame,
        header,
        draft: &draft.id,
        usager,
        birthdate: dates::birthdate(lang, &usager.birthdate),
        demarches: draft.demarches().iter().map(|d| DemarcheView::of(*d, lang)).collect(),
        duration: duration_label(duration, lang),
        ends_on: duration.expiry_from(now()).map(|at| day(lang, at)).unwrap_or_default(),
        consent_error: false,
        otp_error: false,
        otp_held_back: false,
    }
}

pub async fn recap_page(
    req: HttpRequest,
    HabilitatedHelper(helper): HabilitatedHelper,
    query: web::Query<DraftQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (draft, usager, duration) = match complete_draft(&state, &helper, &req, query.brouillon.clone()).await? {
        Ok(complete) => complete,
        Err(go_back) => return Ok(go_back),
    };
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    html(&recap(&header, &draft, &usager, duration))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    pub brouillon: Option<String>,
    pub consentement: Option<String>,
    pub otp: Option<String>,
}

pub async fn recap_submit(
    req: HttpRequest,
    address: ClientAddress,
    HabilitatedHelper(helper): HabilitatedHelper,
    form: CheckedForm<ConsentForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let fields = form.fields;
    let (draft, usager, duration) = match complete_draft(&state, &helper, &req, fields.brouillon.clone()).await? {
        Ok(complete) => complete,
        Err(go_back) => return Ok(go_back),
    };
    let consented = fields.consentement.is_some_and(|c| !c.is_empty());
    // The code is only spent once the consent box is ticked: a refused page costs no code.
    let code = if consented {
        second_factor::check_code_of(&state, &helper.aidant_id, fields.otp.as_deref().unwrap_or(""), &address).await?
    } else {
        CodeCheck::Refused
    };
    if !consented || !code.accepted() {
        let header = SpaceHeader::load(&helper, &state, &req).await?;
        let mut page = recap(&header, &draft, &usager, duration);
        page.consent_error = !consented;
        page.otp_error = consented && code == CodeCheck::Refused;
        page.otp_held_back = matches!(code, CodeCheck::HeldBack { .. });
        return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let new = NewMandate {
        organisation_id: draft.organisation_id.clone(),
        usager_id: usager.id.clone(),
        aidant_id: helper.aidant_id.clone(),
        demarches: draft.demarches().to_vec(),
        duration,
        custom_expires_at: None,
        is_remote: false,
        consent_proof: None,
    };
    let draft_id = draft.id.clone();
    // The draft is taken first: a form sent twice makes one mandate.
    let created = with_conn(&state.store, move |conn| {
        if !mandate_drafts::delete(conn, &draft_id)? {
            return Ok::<_, PageError>(None);
        }
        Ok(Some(mandates::create(conn, new, now())?))
    })
    .await?;
    match created {
        Some(created) => {
            state.metrics.mandates_created.inc();
            Ok(see_other(&format!("/espace-aidant/mandats/{}/attestation", created.mandate.id)))
        }
        None => Ok(see_other("/espace-aidant")),
    }
}
