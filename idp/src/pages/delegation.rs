//! The delegation choice: which usager, which démarche, then confirmation. Only what a live
//! mandate of the helper's current organisation covers is ever offered.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use mandate_store::authorization_requests;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::mandates::{self, LiveAuthorisation, Permission, Refusal};
use mandate_store::organisations::Organisation;
use mandate_store::{aidants, clients, now, organisations, sessions, usagers, Demarche};
use serde::Deserialize;

use super::templates::{ChooseDemarchePage, ChooseUsagerPage, ConfirmPage, RefusalPage};
use crate::blocking::with_conn;
use crate::protocol::flow::{next_step, AuthState, Step};
use crate::web::authorization_response;
use crate::web::AppState;
use crate::web::{
    html, html_with_status, see_other, CheckedForm, Frame, PageError, PendingAuthorization, SignedInHelper, Texts,
};

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    pub usager: Option<String>,
    pub demarche: Option<String>,
    pub organisation: Option<String>,
}

fn go_to(step: Step, pending: &PendingAuthorization) -> HttpResponse {
    see_other(&step.url(pending.id()))
}

pub async fn usager_page(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let search = query.into_inner().q.unwrap_or_default();
    let (aidant_id, organisation_id, term) = (helper.aidant_id.clone(), helper.organisation_id.clone(), search.clone());
    let (organisations, usagers) = with_conn(&state.store, move |conn| {
        let organisations: Vec<Organisation> = aidants::organisations_of(conn, &aidant_id)?;
        let usagers = mandates::usagers_with_live_mandates(conn, &organisation_id, Some(&term), now())?;
        Ok::<_, PageError>((organisations, usagers))
    })
    .await?;
    let organisation_name =
        organisations.iter().find(|o| o.id == helper.organisation_id).map(|o| o.name.clone()).unwrap_or_default();
    let csrf = helper.browser.csrf_token(&state);
    html(&ChooseUsagerPage {
        t: pending.lang.texts(),
        frame: &frame.in_lang(pending.lang),
        csrf_token: &csrf,
        request: pending.id(),
        query: &search,
        organisation_name: &organisation_name,
        organisations: organisations
            .into_iter()
            .map(|o| (o.id.clone(), o.name, o.id == helper.organisation_id))
            .collect(),
        usagers,
    })
}

pub async fn usager_submit(
    pending: PendingAuthorization,
    helper: SignedInHelper,
    form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let chosen = form.fields.usager.unwrap_or_default();
    let (organisation_id, pending_id) = (helper.organisation_id.clone(), pending.id().to_owned());
    let accepted = with_conn(&state.store, move |conn| {
        let offered = mandates::usagers_with_live_mandates(conn, &organisation_id, None, now())?;
        if !offered.iter().any(|u| u.id == chosen) {
            return Ok::<_, PageError>(false);
        }
        authorization_requests::choose_usager(conn, &pending_id, &chosen)?;
        Ok(true)
    })
    .await?;
    if !accepted {
        // Not one of the usagers offered: show the list again.
        return Ok(go_to(Step::ChooseUsager, &pending));
    }
    Ok(go_to(Step::ChooseDemarche, &pending))
}

pub async fn organisation_submit(
    pending: PendingAuthorization,
    helper: SignedInHelper,
    form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let target = form.fields.organisation.unwrap_or_default();
    let (aidant_id, hash, pending_id) = (helper.aidant_id.clone(), helper.browser.id_hash(), pending.id().to_owned());
    with_conn(&state.store, move |conn| {
        organisations::find(conn, &target)?;
        aidants::switch_organisation(conn, &aidant_id, &target)?;
        sessions::switch_organisation(conn, &hash, &target)?;
        authorization_requests::reset_choice(conn, &pending_id)?;
        journal::append(
            conn,
            NewEntry::new(JournalAction::OrganisationSwitched).aidant(&aidant_id).organisation(&target),
            now(),
        )?;
        Ok::<_, PageError>(())
    })
    .await
    .map_err(|e| match e {
        PageError::Store(mandate_store::StoreError::NotMember { .. } | mandate_store::StoreError::NotFound(_)) => {
            PageError::forbidden(|t| t.request_expired, pending.lang)
        }
        other => other,
    })?;
    Ok(go_to(Step::ChooseUsager, &pending))
}

/// What may be chosen for the pending request's usager, or why nothing may.
async fn offered_demarches(
    state: &AppState,
    pending: &PendingAuthorization,
    helper: &SignedInHelper,
) -> Result<Result<Vec<LiveAuthorisation>, &'static str>, PageError> {
    let usager_id = pending.stored.usager_id.clone().unwrap_or_default();
    let (aidant_id, organisation_id, client_id) =
        (helper.aidant_id.clone(), helper.organisation_id.clone(), pending.request.client_id.clone());
    let narrowed = pending.request.demarches.clone();
    let t = pending.lang.texts();
    with_conn(&state.store, move |conn| {
        let client = clients::find(conn, &client_id)?.ok_or(mandate_store::StoreError::NotFound("client"))?;
        let allowed = client.demarches();
        let live = mandates::live_authorisations(conn, &organisation_id, &usager_id, now())?;
        let offered: Vec<LiveAuthorisation> = live
            .iter()
            .filter(|l| allowed.contains(&l.demarche) && (narrowed.is_empty() || narrowed.contains(&l.demarche)))
            .cloned()
            .collect();
        if !offered.is_empty() {
            return Ok::<_, PageError>(Ok(offered));
        }
        if !live.is_empty() {
            return Ok(Err(t.demarche_not_covered));
        }
        // Nothing live: say why, from the first démarche the service accepts.
        let probe = allowed.first().copied().unwrap_or(Demarche::Papiers);
        let reason = match mandates::may_act(conn, &aidant_id, &organisation_id, &usager_id, probe, now())? {
            Permission::Denied(refusal) => refusal_text(t, refusal),
            Permission::Granted(_) => t.no_mandate,
        };
        Ok(Err(reason))
    })
    .await
}

/// What the helper is told when the mandates do not allow the démarche.
fn refusal_text(t: &'static Texts, refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::MandateExpired => t.mandate_expired,
        Refusal::MandateRevoked | Refusal::AuthorisationRevoked => t.mandate_revoked,
        Refusal::DemarcheNotCovered => t.demarche_not_covered,
        Refusal::AidantInactive | Refusal::NotMember | Refusal::NoMandate => t.no_mandate,
    }
}

fn refusal(pending: &PendingAuthorization, frame: Frame, reason: &'static str) -> Result<HttpResponse, PageError> {
    let frame = frame.in_lang(pending.lang);
    html_with_status(
        StatusCode::FORBIDDEN,
        &RefusalPage { t: pending.lang.texts(), frame: &frame, request: pending.id(), reason },
    )
}

pub async fn demarche_page(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(usager_id) = pending.stored.usager_id.clone() else {
        return Ok(go_to(Step::ChooseUsager, &pending));
    };
    let offered = match offered_demarches(&state, &pending, &helper).await? {
        Ok(offered) => offered,
        Err(reason) => return refusal(&pending, frame, reason),
    };
    let usager = with_conn(&state.store, move |conn| usagers::find(conn, &usager_id)).await?;
    let csrf = helper.browser.csrf_token(&state);
    html(&ChooseDemarchePage {
        t: pending.lang.texts(),
        frame: &frame.in_lang(pending.lang),
        csrf_token: &csrf,
        request: pending.id(),
        usager_name: &format!("{} {}", usager.given_name, usager.family_name),
        demarches: offered
            .iter()
            .map(|l| {
                (
                    l.demarche.key().to_owned(),
                    pending.lang.demarche_label(l.demarche).to_owned(),
                    l.expires_at.format("%d/%m/%Y").to_string(),
                )
            })
            .collect(),
    })
}

pub async fn demarche_submit(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let offered = match offered_demarches(&state, &pending, &helper).await? {
        Ok(offered) => offered,
        Err(reason) => return refusal(&pending, frame, reason),
    };
    let chosen = form.fields.demarche.as_deref().and_then(|d| d.parse::<Demarche>().ok());
    let Some(demarche) = chosen.filter(|d| offered.iter().any(|l| l.demarche == *d)) else {
        return Ok(go_to(Step::ChooseDemarche, &pending));
    };
    let pending_id = pending.id().to_owned();
    with_conn(&state.store, move |conn| authorization_requests::choose_demarche(conn, &pending_id, demarche)).await?;
    Ok(go_to(Step::Confirm, &pending))
}

/// The step a signed-in helper owes before confirming, if any.
fn before_confirm(pending: &PendingAuthorization) -> Option<Step> {
    Some(next_step(AuthState::Authenticated, &pending.stored)).filter(|step| *step != Step::Confirm)
}

pub async fn confirm_page(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if let Some(step) = before_confirm(&pending) {
        return Ok(go_to(step, &pending));
    }
    let usager_id = pending.stored.usager_id.clone().unwrap_or_default();
    let client_id = pending.request.client_id.clone();
    let (usager, client) = with_conn(&state.store, move |conn| {
        Ok::<_, PageError>((usagers::find(conn, &usager_id)?, clients::find(conn, &client_id)?))
    })
    .await?;
    let Some(demarche) = pending.stored.demarche else {
        return Ok(go_to(Step::ChooseDemarche, &pending));
    };
    let csrf = helper.browser.csrf_token(&state);
    html(&ConfirmPage {
        t: pending.lang.texts(),
        frame: &frame.in_lang(pending.lang),
        csrf_token: &csrf,
        request: pending.id(),
        usager_name: &format!("{} {}", usager.given_name, usager.family_name),
        demarche_label: pending.lang.demarche_label(demarche),
        client_name: &client.map(|c| c.name).unwrap_or_default(),
    })
}

pub async fn confirm_submit(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    _form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if let Some(step) = before_confirm(&pending) {
        return Ok(go_to(step, &pending));
    }
    let Some(demarche) = pending.stored.demarche else {
        return Ok(go_to(Step::ChooseDemarche, &pending));
    };
    let (aidant_id, organisation_id) = (helper.aidant_id.clone(), helper.organisation_id.clone());
    let usager_id = pending.stored.usager_id.clone().unwrap_or_default();
    // Checked again now: a mandate revoked while the helper was choosing stops here.
    let permission = with_conn(&state.store, move |conn| {
        mandates::may_act(conn, &aidant_id, &organisation_id, &usager_id, demarche, now())
    })
    .await?;
    match permission {
        Permission::Granted(live) => {
            authorization_response::issue_code(
                &state,
                &pending.request,
                &helper.browser.session,
                &helper.aidant_id,
                &live,
                Some(pending.id()),
            )
            .await
        }
        Permission::Denied(reason) => refusal(&pending, frame, refusal_text(pending.lang.texts(), reason)),
    }
}
