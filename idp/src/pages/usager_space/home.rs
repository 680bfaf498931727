//! `GET /espace-usager`: for someone not signed in, the page that explains the space and offers
//! to sign in with FranceConnect; for a signed-in usager, their mandates, organisation by
//! organisation: each mandate's démarches with their state and end date, what they may revoke,
//! the attestation, and every access a helper made under it. `POST /espace-usager/deconnexion`
//! ends the session.

use actix_web::{web, HttpResponse};
use askama::Template;
use mandate_store::mandates::by_usager::{self, Access, MandateOfUsager, UsagerMandates};
use mandate_store::mandates::{Authorisation, MandateStatus, MandateWithAuthorisations};
use mandate_store::{now, usager_sessions};
use serde::Deserialize;

use super::{frame, UsagerHeader, HOME};
use crate::blocking::with_conn;
use crate::upstream::UpstreamLogin;
use crate::web::dates::{long_day, paris_date_time};
use crate::web::usager_session::expired_cookie;
use crate::web::{html, see_other, AppState, Frame, Lang, MaybeSignedInUsager, PageError, SignedInUsager, UsagerForm};

#[derive(Template)]
#[template(path = "usager_space/sign_in.html")]
pub struct SignInPage<'a> {
    pub frame: &'a Frame,
    /// No upstream provider is configured: the page says so instead of offering the button.
    pub available: bool,
    pub demo: bool,
    pub notice: Option<&'static str>,
}

/// One démarche of a mandate, as the usager reads it.
pub struct DemarcheLine {
    pub id: String,
    pub title: &'static str,
    /// "en cours", "révoquée", "expirée".
    pub state: &'static str,
    /// "révoquée par vous le 3 mars 2027", "jusqu'au 30 mai 2027"…
    pub end: String,
    pub revocable: bool,
}

pub struct AccessLine {
    pub when: String,
    pub service: String,
    pub demarche: &'static str,
    pub aidant: String,
    pub organisation: String,
}

pub struct MandateCard {
    pub id: String,
    pub signed_on: String,
    /// "en cours", "révoqué", "expiré".
    pub state: &'static str,
    pub end: String,
    pub live: bool,
    pub has_attestation: bool,
    pub demarches: Vec<DemarcheLine>,
    pub accesses: Vec<AccessLine>,
}

pub struct OrganisationSection {
    pub id: String,
    pub name: String,
    pub mandates: Vec<MandateCard>,
}

#[derive(Template)]
#[template(path = "usager_space/home.html")]
pub struct SpacePage<'a> {
    pub frame: &'a Frame,
    pub header: &'a UsagerHeader,
    pub organisations: Vec<OrganisationSection>,
    pub more_accesses: bool,
    pub accesses_shown: i64,
    pub notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    pub notice: Option<String>,
}

/// The words of the notices the space's actions come back with.
fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "demarche-revoquee" => {
            "La démarche est révoquée : aucun aidant ne peut plus la faire pour vous avec ce mandat. Les \
             autres démarches du mandat restent valables."
        }
        "mandat-revoque" => "Le mandat est révoqué : aucun aidant ne peut plus rien faire pour vous avec ce mandat.",
        "deja-revoque" => "C'était déjà fait : cette démarche ou ce mandat ne permettait plus rien.",
        "deconnecte" => "Vous êtes déconnecté(e) de votre espace.",
        _ => return None,
    })
}

pub async fn page(
    MaybeSignedInUsager(usager): MaybeSignedInUsager,
    query: web::Query<HomeQuery>,
    state: web::Data<AppState>,
    upstream: web::Data<UpstreamLogin>,
) -> Result<HttpResponse, PageError> {
    let frame = frame(&state).await?;
    let notice = notice(query.notice.as_deref());
    let Some(usager) = usager else {
        return html(&SignInPage {
            frame: &frame,
            available: upstream.for_usager_space().is_some(),
            demo: upstream.is_demo(),
            notice,
        });
    };
    let header = UsagerHeader::load(&usager, &state).await?;
    let id = usager.usager_id.clone();
    let found = with_conn(&state.store, move |conn| by_usager::overview(conn, &id)).await?;
    html(&SpacePage {
        frame: &frame,
        header: &header,
        organisations: sections(&found),
        more_accesses: found.more_accesses,
        accesses_shown: by_usager::ACCESSES_SHOWN,
        notice,
    })
}

fn sections(found: &UsagerMandates) -> Vec<OrganisationSection> {
    found
        .organisations
        .iter()
        .map(|o| OrganisationSection {
            id: o.organisation_id.clone(),
            name: o.organisation_name.clone(),
            mandates: o.mandates.iter().map(card).collect(),
        })
        .collect()
}

fn card(m: &MandateOfUsager) -> MandateCard {
    let at = now();
    let found = &m.mandate;
    let status = found.status(at);
    let mandate = &found.mandate;
    let (state, end) = match (status, mandate.revoked_at) {
        (MandateStatus::Revoked, Some(when)) if mandate.revoked_by_usager => {
            ("révoqué", format!("révoqué par vous le {}", long_day(Lang::Fr, when)))
        }
        (MandateStatus::Revoked, Some(when)) => ("révoqué", format!("révoqué le {}", long_day(Lang::Fr, when))),
        (MandateStatus::Expired, _) => ("expiré", format!("expiré le {}", long_day(Lang::Fr, mandate.expires_at))),
        _ => ("en cours", format!("valable jusqu'au {}", long_day(Lang::Fr, mandate.expires_at))),
    };
    MandateCard {
        id: mandate.id.clone(),
        signed_on: long_day(Lang::Fr, mandate.created_at),
        state,
        end,
        live: status == MandateStatus::Live,
        has_attestation: mandate.attestation_hash.is_some(),
        demarches: found.authorisations.iter().map(|a| demarche_line(found, a, status)).collect(),
        accesses: m.accesses.iter().map(access_line).collect(),
    }
}

fn demarche_line(m: &MandateWithAuthorisations, a: &Authorisation, status: MandateStatus) -> DemarcheLine {
    let (state, end) = match (a.revoked_at, status) {
        (Some(when), _) if a.revoked_by_usager => {
            ("révoquée", format!("révoquée par vous le {}", long_day(Lang::Fr, when)))
        }
        (Some(when), _) => ("révoquée", format!("révoquée le {}", long_day(Lang::Fr, when))),
        (None, MandateStatus::Expired) => {
            ("expirée", format!("expirée le {}", long_day(Lang::Fr, m.mandate.expires_at)))
        }
        _ => ("en cours", format!("jusqu'au {}", long_day(Lang::Fr, m.mandate.expires_at))),
    };
    DemarcheLine {
        id: a.id.clone(),
        title: a.demarche.label_fr(),
        state,
        end,
        revocable: status == MandateStatus::Live && a.revoked_at.is_none(),
    }
}

fn access_line(a: &Access) -> AccessLine {
    AccessLine {
        when: paris_date_time(a.at),
        service: a.service.clone(),
        demarche: a.demarche.map_or("—", |d| d.label_fr()),
        aidant: a.aidant_given_name.clone().unwrap_or_else(|| "un aidant".to_owned()),
        organisation: a.organisation_name.clone().unwrap_or_default(),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {}

/// Ends the usager's session; the cookie goes too.
pub async fn sign_out(form: UsagerForm<SignOutForm>, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let usager: SignedInUsager = form.usager;
    let hash = usager.id_hash();
    with_conn(&state.store, move |conn| usager_sessions::end(conn, &hash, now())).await?;
    let mut response = see_other(&format!("{HOME}?notice=deconnecte"));
    let _ = response.add_cookie(&expired_cookie(&state));
    Ok(response)
}
