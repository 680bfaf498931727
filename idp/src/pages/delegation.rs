//! The delegation choice, in one click: one page lists the usagers who hold a live
//! authorisation for a démarche this service may receive, each démarche a button that answers
//! the service at once. Only `argent` asks to confirm, after its warning. Every page of the flow
//! names the service and offers to cancel back to it (`error=access_denied`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use mandate_store::authorization_requests;
use mandate_store::clients::Client;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::mandates::{self, Permission, Refusal, UsagerOverview};
use mandate_store::{aidants, now, organisations, sessions, usagers, DbConnection, Demarche};
use serde::Deserialize;

use super::templates::{ChoosePage, ConfirmPage, DemarcheChoice, RefusalPage, UsagerChoice};
use crate::blocking::with_conn;
use crate::encoding::random_secret;
use crate::protocol::code;
use crate::protocol::flow::Step;
use crate::web::authorization_response::{self, respond_error};
use crate::web::templates::HabilitationRefusalPage;
use crate::web::{dates, places};
use crate::web::{html, html_with_status, see_other, AppState, CheckedForm, Frame, PageError, PendingAuthorization};
use crate::web::{HabilitationTexts, Lang, SignedInHelper, Texts};

/// Beyond this many usagers the choice page offers a search field.
const SEARCH_FROM: usize = 8;

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    /// `usager_id:demarche`, the button pressed.
    pub choix: Option<String>,
    pub organisation: Option<String>,
}

fn go_to(step: Step, pending: &PendingAuthorization) -> HttpResponse {
    see_other(&step.url(pending.id()))
}

/// The usagers of the helper's organisation with the démarches this request may be answered
/// for: live, received by the client, and within what the request narrowed them to. Runs inside
/// the caller's store call, so that a page makes one.
fn choices(
    conn: &mut DbConnection,
    client: &Client,
    narrowed: Option<&[Demarche]>,
    organisation_id: &str,
    search: Option<&str>,
) -> Result<Vec<UsagerOverview>, PageError> {
    let receivable = |d: Demarche| client.demarches().contains(&d) && narrowed.is_none_or(|n| n.contains(&d));
    let mut overview = mandates::organisation_overview(conn, organisation_id, search, now())?;
    for line in &mut overview {
        line.live.retain(|l| receivable(l.demarche));
    }
    overview.retain(|line| !line.live.is_empty());
    Ok(overview)
}

fn usager_choice(line: &UsagerOverview, lang: Lang) -> UsagerChoice {
    let u = &line.usager;
    UsagerChoice {
        id: u.id.clone(),
        name: format!("{} {}", u.given_name, u.family_name),
        birthdate: dates::birthdate(lang, &u.birthdate),
        birthplace: places::birthplace(&u.birthplace, &u.birthcountry, lang),
        demarches: line
            .live
            .iter()
            .map(|l| DemarcheChoice {
                key: l.demarche.key(),
                label: lang.demarche_label(l.demarche),
                sensitive: l.demarche == Demarche::Argent,
            })
            .collect(),
    }
}

/// A page that says why nothing can be chosen, with a way back to the service.
fn refusal(
    state: &AppState,
    helper: &SignedInHelper,
    pending: &PendingAuthorization,
    frame: Frame,
    reason: &'static str,
    hint: Option<&'static str>,
    offer_choice: bool,
) -> Result<HttpResponse, PageError> {
    let csrf = helper.browser.csrf_token(state);
    html_with_status(
        StatusCode::FORBIDDEN,
        &RefusalPage {
            t: pending.lang.texts(),
            frame: &frame.in_lang(pending.lang),
            csrf_token: &csrf,
            request: pending.id(),
            service: &pending.client.name,
            reason,
            hint,
            offer_choice,
        },
    )
}

/// A helper in habilitation may not act for anyone: the page says what is missing, who records
/// it, and offers the way back to the service.
fn not_habilitated(
    state: &AppState,
    helper: &SignedInHelper,
    pending: &PendingAuthorization,
    frame: Frame,
) -> Result<HttpResponse, PageError> {
    let csrf = helper.browser.csrf_token(state);
    let h = HabilitationTexts::of(pending.lang);
    html_with_status(
        StatusCode::FORBIDDEN,
        &HabilitationRefusalPage {
            t: pending.lang.texts(),
            frame: &frame.in_lang(pending.lang),
            h,
            missing: h.missing(&helper.habilitation),
            charter_missing: false,
            service: Some(&pending.client.name),
            request: pending.id(),
            csrf_token: &csrf,
        },
    )
}

pub async fn choice_page(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    query: web::Query<SearchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !helper.is_habilitated() {
        return not_habilitated(&state, &helper, &pending, frame);
    }
    let search = query.into_inner().q.unwrap_or_default();
    let term = Some(search.clone()).filter(|s| !s.trim().is_empty());
    let (client, narrowed) = (pending.client.clone(), pending.request.narrowed_to.clone());
    let (aidant_id, organisation_id, searched) =
        (helper.aidant_id.clone(), helper.organisation_id.clone(), term.clone());
    let (lines, organisations) = with_conn(&state.store, move |conn| {
        let lines = choices(conn, &client, narrowed.as_deref(), &organisation_id, searched.as_deref())?;
        // The helper's organisations only for the page that lists the usagers.
        let organisations = if lines.is_empty() && searched.is_none() {
            Vec::new()
        } else {
            aidants::organisations_of(conn, &aidant_id)?
        };
        Ok::<_, PageError>((lines, organisations))
    })
    .await?;
    let t = pending.lang.texts();
    if lines.is_empty() && term.is_none() {
        return refusal(
            &state,
            &helper,
            &pending,
            frame,
            t.nothing_satisfiable,
            Some(t.nothing_satisfiable_hint),
            false,
        );
    }
    let organisation_name =
        organisations.iter().find(|o| o.id == helper.organisation_id).map(|o| o.name.clone()).unwrap_or_default();
    let csrf = helper.browser.csrf_token(&state);
    html(&ChoosePage {
        t,
        frame: &frame.in_lang(pending.lang),
        csrf_token: &csrf,
        request: pending.id(),
        service: &pending.client.name,
        query: &search,
        show_search: term.is_some() || lines.len() > SEARCH_FROM,
        organisation_name: &organisation_name,
        organisations: organisations
            .into_iter()
            .map(|o| (o.id.clone(), o.name, o.id == helper.organisation_id))
            .collect(),
        usagers: lines.iter().map(|line| usager_choice(line, pending.lang)).collect(),
    })
}

/// The button pressed: answer the service at once, or, for `argent`, confirm first.
pub async fn choice_submit(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !helper.is_habilitated() {
        return not_habilitated(&state, &helper, &pending, frame);
    }
    let chosen = form.fields.choix.unwrap_or_default();
    let Some((usager_id, demarche)) =
        chosen.split_once(':').and_then(|(u, d)| d.parse::<Demarche>().ok().map(|d| (u.to_owned(), d)))
    else {
        return Ok(go_to(Step::Choose, &pending));
    };
    let (client, narrowed) = (pending.client.clone(), pending.request.narrowed_to.clone());
    let (aidant_id, organisation_id) = (helper.aidant_id.clone(), helper.organisation_id.clone());
    let pending_id = pending.id().to_owned();
    let (request, session) = (pending.request.clone(), helper.browser.session.clone());
    // One store call for the whole step: is it one of the buttons shown, then the choice kept
    // for the confirmation (`argent`), or the mandate checked again, now, and the code issued
    // under it.
    let next = with_conn(&state.store, move |conn| {
        let offered = choices(conn, &client, narrowed.as_deref(), &organisation_id, None)?;
        let is_offered =
            offered.iter().any(|line| line.usager.id == usager_id && line.live.iter().any(|l| l.demarche == demarche));
        if !is_offered {
            return Ok::<_, PageError>(AfterChoice::NotOffered);
        }
        if demarche == Demarche::Argent {
            authorization_requests::choose_usager(conn, &pending_id, &usager_id)?;
            authorization_requests::choose_demarche(conn, &pending_id, demarche)?;
            return Ok(AfterChoice::Confirm);
        }
        // Checked again now: a mandate revoked while the helper was choosing stops here.
        match mandates::may_act(conn, &aidant_id, &organisation_id, &usager_id, demarche, now())? {
            Permission::Granted(live) => {
                let issued = code::issue(&request, &session, &aidant_id, &live, random_secret(), now());
                Ok(AfterChoice::Answered(authorization_response::record_code(conn, Some(&pending_id), issued)?))
            }
            Permission::Denied(reason) => Ok(AfterChoice::Refused(reason)),
        }
    })
    .await?;
    match next {
        // Not one of the buttons shown (or no longer): show the choice again.
        AfterChoice::NotOffered => Ok(go_to(Step::Choose, &pending)),
        AfterChoice::Confirm => Ok(go_to(Step::Confirm, &pending)),
        AfterChoice::Answered(code) => authorization_response::answer_with_code(&state, &pending.request, code),
        AfterChoice::Refused(reason) => {
            refusal(&state, &helper, &pending, frame, refusal_text(pending.lang.texts(), reason), None, true)
        }
    }
}

/// What a pressed button leads to.
enum AfterChoice {
    NotOffered,
    Confirm,
    /// The code issued (`None`: the pending request was spent meanwhile).
    Answered(Option<String>),
    Refused(Refusal),
}

/// Answers the relying party with a code when the mandate, checked again just now, allows it.
async fn answer(
    state: &AppState,
    frame: Frame,
    pending: &PendingAuthorization,
    helper: &SignedInHelper,
    permission: Permission,
) -> Result<HttpResponse, PageError> {
    // A helper in habilitation never gets a code issued: checked here for the confirmation,
    // and at the top of `choice_submit`, which issues its code in its own store call.
    if !helper.is_habilitated() {
        return not_habilitated(state, helper, pending, frame);
    }
    match permission {
        Permission::Granted(live) => {
            authorization_response::issue_code(
                state,
                &pending.request,
                &helper.browser.session,
                &helper.aidant_id,
                &live,
                Some(pending.id()),
            )
            .await
        }
        Permission::Denied(reason) => {
            refusal(state, helper, pending, frame, refusal_text(pending.lang.texts(), reason), None, true)
        }
    }
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
        journal::record(
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
    Ok(go_to(Step::Choose, &pending))
}

/// The `argent` confirmation: its warning, the choice spelt out, and the final button.
pub async fn confirm_page(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    if !helper.is_habilitated() {
        return not_habilitated(&state, &helper, &pending, frame);
    }
    let (Some(usager_id), Some(demarche)) = (pending.stored.usager_id.clone(), pending.stored.demarche) else {
        return Ok(go_to(Step::Choose, &pending));
    };
    let usager = with_conn(&state.store, move |conn| usagers::find(conn, &usager_id)).await?;
    let csrf = helper.browser.csrf_token(&state);
    html(&ConfirmPage {
        t: pending.lang.texts(),
        frame: &frame.in_lang(pending.lang),
        csrf_token: &csrf,
        request: pending.id(),
        service: &pending.client.name,
        usager_name: &format!("{} {}", usager.given_name, usager.family_name),
        demarche_label: pending.lang.demarche_label(demarche),
    })
}

pub async fn confirm_submit(
    frame: Frame,
    pending: PendingAuthorization,
    helper: SignedInHelper,
    _form: CheckedForm<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (Some(usager_id), Some(demarche)) = (pending.stored.usager_id.clone(), pending.stored.demarche) else {
        return Ok(go_to(Step::Choose, &pending));
    };
    if !helper.is_habilitated() {
        return not_habilitated(&state, &helper, &pending, frame);
    }
    let (aidant_id, organisation_id) = (helper.aidant_id.clone(), helper.organisation_id.clone());
    // Checked again now: a mandate revoked while the helper was confirming stops here.
    let permission = with_conn(&state.store, move |conn| {
        mandates::may_act(conn, &aidant_id, &organisation_id, &usager_id, demarche, now())
    })
    .await?;
    answer(&state, frame, &pending, &helper, permission).await
}

#[derive(Deserialize)]
pub struct CancelForm {}

/// Cancel, from any page of the flow: the request ends, and the relying party hears
/// `access_denied` with its `state` (RFC 6749 §4.1.2.1). Open to a helper not signed in yet
/// (the login pages offer it too); the form's CSRF token ties it to this browser.
pub async fn cancel(
    pending: PendingAuthorization,
    _form: CheckedForm<CancelForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let pending_id = pending.id().to_owned();
    let ended = with_conn(&state.store, move |conn| authorization_requests::delete(conn, &pending_id)).await?;
    if !ended {
        return Err(PageError::request_expired(pending.lang));
    }
    let request = &pending.request;
    state.metrics.flow_completed("error");
    respond_error(
        &state,
        &request.redirect_uri,
        request.response_mode,
        request.state.as_deref(),
        "access_denied",
        pending.lang.texts().cancelled_description,
        pending.lang,
    )
}
