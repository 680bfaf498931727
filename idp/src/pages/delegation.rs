//! The delegation choice: which usager, which démarche, then confirmation. Only what a live
//! mandate of the helper's current organisation covers is ever offered.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use mandate_store::authorization_requests::{self, PendingAuthorization};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::mandates::{self, LiveAuthorisation, Permission, Refusal};
use mandate_store::organisations::Organisation;
use mandate_store::{aidants, clients, now, organisations, sessions, usagers, Demarche};
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::session::{self, auth_state, csrf_valid, AuthState, BrowserSession};
use super::templates::{ChooseDemarchePage, ChooseUsagerPage, ConfirmPage, RefusalPage};
use super::{html, see_other, PageError};
use crate::blocking::with_conn;
use crate::oidc::flow::{self, go_to, lang_of, load_pending, next_step, Step};
use crate::oidc::request::AuthorizationRequest;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct UsagerQuery {
    pub request: String,
    pub q: Option<String>,
}

#[derive(Deserialize)]
pub struct RequestQuery {
    pub request: String,
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    pub csrf_token: Option<String>,
    pub request: String,
    pub usager: Option<String>,
    pub demarche: Option<String>,
    pub organisation: Option<String>,
}

/// A logged-in helper working on a pending request.
struct Context {
    browser: BrowserSession,
    pending: PendingAuthorization,
    request: AuthorizationRequest,
    aidant_id: String,
    organisation_id: String,
    lang: Lang,
}

impl Context {
    fn t(&self) -> &'static Texts {
        self.lang.texts()
    }
}

/// Loads the context, or the redirect to the step the helper must do first.
async fn context(
    req: &HttpRequest,
    state: &AppState,
    request_id: &str,
) -> Result<Result<Context, HttpResponse>, PageError> {
    let browser = session::current(req, state).await?.ok_or(PageError::bad_request(|t| t.request_expired, Lang::Fr))?;
    let (pending, request) = load_pending(state, request_id, &browser.session).await?;
    let idle = chrono::Duration::minutes(state.settings.session.idle_minutes);
    if auth_state(&browser.session, now(), idle) != AuthState::Authenticated {
        return Ok(Err(go_to(next_step(&pending, &browser.session, state), &pending.id)));
    }
    let hash = browser.id_hash();
    with_conn(&state.store, move |conn| sessions::touch(conn, &hash, now())).await?;
    let lang = lang_of(&request);
    Ok(Ok(Context {
        aidant_id: browser.session.aidant_id.clone().unwrap_or_default(),
        organisation_id: browser.session.organisation_id.clone().unwrap_or_default(),
        browser,
        pending,
        request,
        lang,
    }))
}

macro_rules! context_or_redirect {
    ($req:expr, $state:expr, $id:expr) => {
        match context($req, $state, $id).await? {
            Ok(ctx) => ctx,
            Err(redirect) => return Ok(redirect),
        }
    };
}

fn check_csrf(ctx: &Context, submitted: Option<&str>) -> Result<(), PageError> {
    if csrf_valid(&ctx.browser.secret, submitted) {
        Ok(())
    } else {
        Err(PageError::Shown { status: StatusCode::FORBIDDEN, message: |t| t.csrf_failed, lang: ctx.lang })
    }
}

pub async fn usager_page(
    req: HttpRequest,
    query: web::Query<UsagerQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &query.request);
    let search = query.q.clone().unwrap_or_default();
    let (aidant_id, organisation_id, term) = (ctx.aidant_id.clone(), ctx.organisation_id.clone(), search.clone());
    let (organisations, usagers) = with_conn(&state.store, move |conn| {
        let organisations: Vec<Organisation> = aidants::organisations_of(conn, &aidant_id)?;
        let usagers = mandates::usagers_with_live_mandates(conn, &organisation_id, Some(&term), now())?;
        Ok::<_, PageError>((organisations, usagers))
    })
    .await?;
    let organisation_name =
        organisations.iter().find(|o| o.id == ctx.organisation_id).map(|o| o.name.clone()).unwrap_or_default();
    let csrf = ctx.browser.csrf_token();
    html(&ChooseUsagerPage {
        t: ctx.t(),
        csrf_token: &csrf,
        request: &ctx.pending.id,
        query: &search,
        organisation_name: &organisation_name,
        organisations: organisations.into_iter().map(|o| (o.id.clone(), o.name, o.id == ctx.organisation_id)).collect(),
        usagers,
    })
}

pub async fn usager_submit(
    req: HttpRequest,
    form: web::Form<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &form.request);
    check_csrf(&ctx, form.csrf_token.as_deref())?;
    let chosen = form.usager.clone().unwrap_or_default();
    let (organisation_id, pending_id) = (ctx.organisation_id.clone(), ctx.pending.id.clone());
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
        return Ok(go_to(Step::ChooseUsager, &ctx.pending.id));
    }
    Ok(go_to(Step::ChooseDemarche, &ctx.pending.id))
}

pub async fn organisation_submit(
    req: HttpRequest,
    form: web::Form<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &form.request);
    check_csrf(&ctx, form.csrf_token.as_deref())?;
    let target = form.organisation.clone().unwrap_or_default();
    let (aidant_id, hash, pending_id) = (ctx.aidant_id.clone(), ctx.browser.id_hash(), ctx.pending.id.clone());
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
            PageError::Shown { status: StatusCode::FORBIDDEN, message: |t| t.request_expired, lang: ctx.lang }
        }
        other => other,
    })?;
    Ok(see_other(&format!("{}?request={}", Step::ChooseUsager.path(), ctx.pending.id)))
}

/// What may be chosen for the pending request's usager, or why nothing may.
async fn offered_demarches(
    state: &AppState,
    ctx: &Context,
) -> Result<Result<Vec<LiveAuthorisation>, &'static str>, PageError> {
    let usager_id = ctx.pending.usager_id.clone().unwrap_or_default();
    let (aidant_id, organisation_id, client_id) =
        (ctx.aidant_id.clone(), ctx.organisation_id.clone(), ctx.request.client_id.clone());
    let narrowed = ctx.request.demarches.clone();
    let t = ctx.t();
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

fn refusal(ctx: &Context, reason: &'static str) -> Result<HttpResponse, PageError> {
    let mut response = html(&RefusalPage { t: ctx.t(), request: &ctx.pending.id, reason })?;
    *response.status_mut() = StatusCode::FORBIDDEN;
    Ok(response)
}

pub async fn demarche_page(
    req: HttpRequest,
    query: web::Query<RequestQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &query.request);
    let Some(usager_id) = ctx.pending.usager_id.clone() else {
        return Ok(go_to(Step::ChooseUsager, &ctx.pending.id));
    };
    let offered = match offered_demarches(&state, &ctx).await? {
        Ok(offered) => offered,
        Err(reason) => return refusal(&ctx, reason),
    };
    let usager = with_conn(&state.store, move |conn| usagers::find(conn, &usager_id)).await?;
    let csrf = ctx.browser.csrf_token();
    html(&ChooseDemarchePage {
        t: ctx.t(),
        csrf_token: &csrf,
        request: &ctx.pending.id,
        usager_name: &format!("{} {}", usager.given_name, usager.family_name),
        demarches: offered
            .iter()
            .map(|l| {
                (
                    l.demarche.key().to_owned(),
                    ctx.lang.demarche_label(l.demarche).to_owned(),
                    l.expires_at.format("%d/%m/%Y").to_string(),
                )
            })
            .collect(),
    })
}

pub async fn demarche_submit(
    req: HttpRequest,
    form: web::Form<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &form.request);
    check_csrf(&ctx, form.csrf_token.as_deref())?;
    let offered = match offered_demarches(&state, &ctx).await? {
        Ok(offered) => offered,
        Err(reason) => return refusal(&ctx, reason),
    };
    let chosen = form.demarche.as_deref().and_then(|d| d.parse::<Demarche>().ok());
    let Some(demarche) = chosen.filter(|d| offered.iter().any(|l| l.demarche == *d)) else {
        return Ok(go_to(Step::ChooseDemarche, &ctx.pending.id));
    };
    let pending_id = ctx.pending.id.clone();
    with_conn(&state.store, move |conn| authorization_requests::choose_demarche(conn, &pending_id, demarche)).await?;
    Ok(go_to(Step::Confirm, &ctx.pending.id))
}

pub async fn confirm_page(
    req: HttpRequest,
    query: web::Query<RequestQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &query.request);
    let step = next_step(&ctx.pending, &ctx.browser.session, &state);
    if step != Step::Confirm {
        return Ok(go_to(step, &ctx.pending.id));
    }
    let usager_id = ctx.pending.usager_id.clone().unwrap_or_default();
    let client_id = ctx.request.client_id.clone();
    let (usager, client) = with_conn(&state.store, move |conn| {
        Ok::<_, PageError>((usagers::find(conn, &usager_id)?, clients::find(conn, &client_id)?))
    })
    .await?;
    let demarche: Demarche = ctx
        .pending
        .demarche
        .ok_or_else(|| PageError::Store(mandate_store::StoreError::UnknownDemarche(String::new())))?;
    let csrf = ctx.browser.csrf_token();
    html(&ConfirmPage {
        t: ctx.t(),
        csrf_token: &csrf,
        request: &ctx.pending.id,
        usager_name: &format!("{} {}", usager.given_name, usager.family_name),
        demarche_label: ctx.lang.demarche_label(demarche),
        client_name: &client.map(|c| c.name).unwrap_or_default(),
    })
}

pub async fn confirm_submit(
    req: HttpRequest,
    form: web::Form<ChoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let ctx = context_or_redirect!(&req, &state, &form.request);
    check_csrf(&ctx, form.csrf_token.as_deref())?;
    let step = next_step(&ctx.pending, &ctx.browser.session, &state);
    if step != Step::Confirm {
        return Ok(go_to(step, &ctx.pending.id));
    }
    let Some(demarche) = ctx.pending.demarche else {
        return Ok(go_to(Step::ChooseDemarche, &ctx.pending.id));
    };
    let (aidant_id, organisation_id) = (ctx.aidant_id.clone(), ctx.organisation_id.clone());
    let usager_id = ctx.pending.usager_id.clone().unwrap_or_default();
    // Checked again now: a mandate revoked while the helper was choosing stops here.
    let permission = with_conn(&state.store, move |conn| {
        mandates::may_act(conn, &aidant_id, &organisation_id, &usager_id, demarche, now())
    })
    .await?;
    match permission {
        Permission::Granted(live) => {
            flow::issue_code(&state, &ctx.request, &ctx.browser.session, &ctx.aidant_id, &live, Some(&ctx.pending.id))
                .await
        }
        Permission::Denied(reason) => refusal(&ctx, refusal_text(ctx.t(), reason)),
    }
}
