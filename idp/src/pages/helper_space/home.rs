//! The space's home: the usagers of the current organisation with what is in force for them,
//! mandates ending soon flagged, a search by name, and the organisation switcher.

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::habilitation::Requirement;
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::{aidants, mandates, now, organisations, sessions, usagers};
use serde::Deserialize;

use super::{day, expiring_soon, SpaceHeader};
use crate::blocking::with_conn;
use crate::web::{html, see_other, AppState, CheckedForm, Frame, HabilitationTexts, PageError, SignedInHelper, Texts};

#[derive(Deserialize)]
pub struct HomeQuery {
    pub q: Option<String>,
}

/// One usager's line.
pub struct UsagerLine {
    pub id: String,
    pub name: String,
    /// Titles of the démarches in force, with the end of each one's mandate.
    pub demarches: Vec<(&'static str, String)>,
    pub expiring_soon: bool,
}

#[derive(Template)]
#[template(path = "space/home.html")]
pub struct HomePage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub query: &'a str,
    pub live: Vec<UsagerLine>,
    /// Usagers whose every mandate here ended (expired or revoked): (id, name).
    pub ended: Vec<(String, String)>,
    /// (id, name, current) when the helper belongs to several organisations.
    pub organisations: Vec<(String, String, bool)>,
    pub h: &'static HabilitationTexts,
    /// What the helper still lacks before acting for usagers, in words (empty: habilitated).
    pub missing: Vec<&'static str>,
    /// Never true here (the charter comes before the space), but the status block asks.
    pub charter_missing: bool,
}

pub async fn home(
    req: HttpRequest,
    helper: SignedInHelper,
    query: web::Query<HomeQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&helper, &state, &req).await?;
    let lang = header.lang;
    let search = query.q.clone().unwrap_or_default();
    let (aidant_id, organisation_id, term) = (helper.aidant_id.clone(), helper.organisation_id.clone(), search.clone());
    let (overview, ended, organisations) = with_conn(&state.store, move |conn| {
        let at = now();
        let term = Some(term.as_str()).filter(|t| !t.trim().is_empty());
        let overview = mandates::organisation_overview(conn, &organisation_id, term, at)?;
        // Usagers with a mandate here, none in force: still reachable to renew or to read.
        let live_ids: BTreeSet<String> = overview.iter().map(|o| o.usager.id.clone()).collect();
        let with_mandates: BTreeSet<String> =
            mandates::list(conn, Some(&organisation_id), None)?.into_iter().map(|m| m.mandate.usager_id).collect();
        let lowered = term.map(|t| t.trim().to_lowercase());
        let ended: Vec<(String, String)> = with_mandates
            .difference(&live_ids)
            .map(|id| usagers::find(conn, id))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|u| lowered.as_deref().is_none_or(|t| u.matches(t)))
            .map(|u| (u.id.clone(), format!("{} {}", u.given_name, u.family_name)))
            .collect();
        let organisations: Vec<(String, String, bool)> = aidants::organisations_of(conn, &aidant_id)?
            .into_iter()
            .map(|o| {
                let current = o.id == organisation_id;
                (o.id, o.name, current)
            })
            .collect();
        Ok::<_, PageError>((overview, ended, organisations))
    })
    .await?;
    let live = overview
        .into_iter()
        .map(|o| UsagerLine {
            expiring_soon: o.next_expiry().is_some_and(expiring_soon),
            id: o.usager.id.clone(),
            name: format!("{} {}", o.usager.given_name, o.usager.family_name),
            demarches: o.live.iter().map(|l| (lang.demarche_label(l.demarche), day(lang, l.expires_at))).collect(),
        })
        .collect();
    html(&HomePage {
        t: lang.texts(),
        frame: &header.frame,
        header: &header,
        query: &search,
        live,
        ended,
        organisations: if organisations.len() > 1 { organisations } else { Vec::new() },
        h: HabilitationTexts::of(lang),
        missing: HabilitationTexts::of(lang).missing(&helper.habilitation),
        charter_missing: helper.habilitation.contains(&Requirement::Charter),
    })
}

#[derive(Deserialize)]
pub struct OrganisationForm {
    pub organisation: String,
}

/// Makes another of the helper's organisations the current one (journalled).
pub async fn switch_organisation(
    helper: SignedInHelper,
    form: CheckedForm<OrganisationForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let target = form.fields.organisation;
    let (aidant_id, hash) = (helper.aidant_id.clone(), helper.browser.id_hash());
    with_conn(&state.store, move |conn| {
        organisations::find(conn, &target)?;
        aidants::switch_organisation(conn, &aidant_id, &target)?;
        sessions::switch_organisation(conn, &hash, &target)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::OrganisationSwitched).aidant(&aidant_id).organisation(&target),
            now(),
        )?;
        Ok::<_, PageError>(())
    })
    .await?;
    Ok(see_other("/espace-aidant"))
}
