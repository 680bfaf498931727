//! The usager revokes a whole mandate, or one démarche of it: a page that says what will stop
//! and asks to confirm (`GET …/revocation`), then the confirmation (`POST`, CSRF-checked) which
//! takes effect at once: the token, userinfo and introspection endpoints all ask
//! `mandates::may_act`, which reads the revoked rows. Only the usager's own mandates: another's
//! is the "not yours" page (404), and nothing changes.

use actix_web::{web, HttpResponse};
use askama::Template;
use mandate_store::mandates::by_usager;
use mandate_store::mandates::Revocation;
use mandate_store::{now, organisations};
use serde::Deserialize;

use super::{frame, or_not_yours, UsagerHeader, HOME};
use crate::blocking::with_conn;
use crate::web::dates::long_day;
use crate::web::{html, see_other, AppState, Frame, Lang, PageError, SignedInUsager, UsagerForm};

#[derive(Template)]
#[template(path = "usager_space/confirm.html")]
pub struct ConfirmPage<'a> {
    pub frame: &'a Frame,
    pub header: &'a UsagerHeader,
    pub title: String,
    /// What stops, and what does not.
    pub consequences: Vec<String>,
    pub action: String,
    pub button: &'static str,
}

/// What the confirmation page needs to know about the mandate.
struct Described {
    organisation: String,
    signed_on: String,
}

fn described(
    conn: &mut mandate_store::DbConnection,
    organisation_id: &str,
    created_at: chrono::NaiveDateTime,
) -> Result<Described, PageError> {
    Ok(Described {
        organisation: organisations::find(conn, organisation_id)?.name,
        signed_on: long_day(Lang::Fr, created_at),
    })
}

/// `GET /espace-usager/mandats/{id}/revocation`: asks to confirm revoking the whole mandate.
pub async fn confirm_mandate(
    usager: SignedInUsager,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (mandate_id, usager_id) = (path.into_inner(), usager.usager_id.clone());
    let id = mandate_id.clone();
    let found = with_conn(&state.store, move |conn| {
        let m = by_usager::mandate_of_usager(conn, &id, &usager_id)?;
        let d = described(conn, &m.mandate.organisation_id, m.mandate.created_at)?;
        Ok::<_, PageError>((m, d))
    })
    .await;
    let (mandate, d) = match or_not_yours(&state, found).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if mandate.status(now()) != mandate_store::mandates::MandateStatus::Live {
        return Ok(see_other(&format!("{HOME}?notice=deja-revoque")));
    }
    let header = UsagerHeader::load(&usager, &state).await?;
    let frame = frame(&state).await?;
    let still: Vec<&str> =
        mandate.authorisations.iter().filter(|a| a.revoked_at.is_none()).map(|a| a.demarche.label_fr()).collect();
    html(&ConfirmPage {
        frame: &frame,
        header: &header,
        title: format!("Révoquer tout le mandat donné à {} ?", d.organisation),
        consequences: vec![
            format!(
                "Dès que vous confirmez, aucun aidant de {} ne pourra plus faire de démarche à votre place avec le \
                 mandat signé le {}, même une démarche déjà commencée.",
                d.organisation, d.signed_on
            ),
            format!("Démarches qui s'arrêtent : {}.", still.join(", ")),
            "Pour donner un nouveau mandat, il faudra retourner voir la structure.".to_owned(),
        ],
        action: format!("/espace-usager/mandats/{mandate_id}/revocation"),
        button: "Oui, révoquer tout le mandat",
    })
}

/// `GET /espace-usager/autorisations/{id}/revocation`: asks to confirm revoking one démarche.
pub async fn confirm_demarche(
    usager: SignedInUsager,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (authorisation_id, usager_id) = (path.into_inner(), usager.usager_id.clone());
    let id = authorisation_id.clone();
    let found = with_conn(&state.store, move |conn| {
        let (a, m) = by_usager::authorisation_of_usager(conn, &id, &usager_id)?;
        let d = described(conn, &m.organisation_id, m.created_at)?;
        Ok::<_, PageError>((a, m, d))
    })
    .await;
    let (authorisation, mandate, d) = match or_not_yours(&state, found).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if authorisation.revoked_at.is_some() || !mandate.is_live(now()) {
        return Ok(see_other(&format!("{HOME}?notice=deja-revoque")));
    }
    let header = UsagerHeader::load(&usager, &state).await?;
    let frame = frame(&state).await?;
    let title = authorisation.demarche.label_fr();
    html(&ConfirmPage {
        frame: &frame,
        header: &header,
        title: format!("Révoquer la démarche « {title} » ?"),
        consequences: vec![
            format!(
                "Dès que vous confirmez, aucun aidant de {} ne pourra plus faire de démarche « {title} » à votre \
                 place avec le mandat signé le {}.",
                d.organisation, d.signed_on
            ),
            "Les autres démarches de ce mandat restent valables.".to_owned(),
        ],
        action: format!("/espace-usager/autorisations/{authorisation_id}/revocation"),
        button: "Oui, révoquer cette démarche",
    })
}

#[derive(Deserialize)]
pub struct ConfirmForm {}

fn after(revocation: Revocation, notice: &str) -> HttpResponse {
    match revocation {
        Revocation::Revoked => see_other(&format!("{HOME}?notice={notice}")),
        Revocation::AlreadyRevoked => see_other(&format!("{HOME}?notice=deja-revoque")),
    }
}

/// `POST /espace-usager/mandats/{id}/revocation`.
pub async fn revoke_mandate(
    path: web::Path<String>,
    form: UsagerForm<ConfirmForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (mandate_id, usager_id) = (path.into_inner(), form.usager.usager_id.clone());
    let done = with_conn(&state.store, move |conn| by_usager::revoke_by_usager(conn, &mandate_id, &usager_id, now()))
        .await
        .map_err(PageError::Store);
    Ok(match or_not_yours(&state, done).await? {
        Ok(revocation) => {
            state.metrics.mandates_revoked.with_label_values(&["usager"]).inc();
            after(revocation, "mandat-revoque")
        }
        Err(page) => page,
    })
}

/// `POST /espace-usager/autorisations/{id}/revocation`.
pub async fn revoke_demarche(
    path: web::Path<String>,
    form: UsagerForm<ConfirmForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (authorisation_id, usager_id) = (path.into_inner(), form.usager.usager_id.clone());
    let done = with_conn(&state.store, move |conn| {
        by_usager::revoke_authorisation_by_usager(conn, &authorisation_id, &usager_id, now())
    })
    .await
    .map_err(PageError::Store);
    Ok(match or_not_yours(&state, done).await? {
        Ok(revocation) => after(revocation, "demarche-revoquee"),
        Err(page) => page,
    })
}
