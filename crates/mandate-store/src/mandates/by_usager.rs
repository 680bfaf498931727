//! The usager's side of their mandates, for their own space: every mandate they gave, with any
//! organisation, and the accesses made under each (read from the journal); revoking a mandate or
//! one démarche themselves, journalled with no helper and `{"by": "usager"}`; and the display
//! of an attestation to them. A mandate that is not the usager's is "not found", whoever holds it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{find, list, Authorisation, Mandate, MandateWithAuthorisations, Revocation};
use crate::db::{write_transaction, DbConnection};
use crate::domain::Demarche;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, JournalFilter, NewEntry, Page};
use crate::schema::{aidants, authorisations, clients, mandates, organisations};

/// The newest accesses shown; older ones stay in the journal.
pub const ACCESSES_SHOWN: i64 = 500;

/// One delegated access: a helper used the mandate with a service (`authorisation_used`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub at: NaiveDateTime,
    pub mandate_id: Option<String>,
    pub demarche: Option<Demarche>,
    /// The service's name; its client id when the service was removed since.
    pub service: String,
    /// The helper's first name (the usager need not know more), `None` if the account is gone.
    pub aidant_given_name: Option<String>,
    pub organisation_name: Option<String>,
}

/// A mandate with the accesses made under it, newest first.
#[derive(Debug, Clone)]
pub struct MandateOfUsager {
    pub mandate: MandateWithAuthorisations,
    pub accesses: Vec<Access>,
}

/// One organisation holding (or having held) a mandate of the usager, newest mandate first.
#[derive(Debug, Clone)]
pub struct OrganisationMandates {
    pub organisation_id: String,
    pub organisation_name: String,
    pub mandates: Vec<MandateOfUsager>,
}

/// What the usager's space shows.
#[derive(Debug, Clone)]
pub struct UsagerMandates {
    /// The organisation of the newest mandate first.
    pub organisations: Vec<OrganisationMandates>,
    /// Older accesses than those shown exist (more than [`ACCESSES_SHOWN`]).
    pub more_accesses: bool,
}

impl UsagerMandates {
    pub fn is_empty(&self) -> bool {
        self.organisations.is_empty()
    }
}

fn names_by_id(rows: Vec<(String, String)>) -> HashMap<String, String> {
    rows.into_iter().collect()
}

/// The usager's mandates (any state, any organisation) with the accesses made under each.
pub fn overview(conn: &mut DbConnection, usager_id: &str) -> StoreResult<UsagerMandates> {
    let found = list(conn, None, Some(usager_id))?;
    let filter = JournalFilter {
        usager_id: Some(usager_id.to_owned()),
        action: Some(JournalAction::AuthorisationUsed),
        ..JournalFilter::default()
    };
    let page = journal::search(conn, &filter, Page::first(ACCESSES_SHOWN))?;
    let ids = |pick: fn(&journal::JournalEntry) -> Option<&String>| -> Vec<String> {
        let mut ids: Vec<String> = page.entries.iter().filter_map(|e| pick(e).cloned()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let (aidant_ids, client_ids) = (ids(|e| e.aidant_id.as_ref()), ids(|e| e.client_id.as_ref()));
    let mut organisation_ids = ids(|e| e.organisation_id.as_ref());
    organisation_ids.extend(found.iter().map(|m| m.mandate.organisation_id.clone()));
    let helpers = names_by_id(
        aidants::table.filter(aidants::id.eq_any(&aidant_ids)).select((aidants::id, aidants::given_name)).load(conn)?,
    );
    let services = names_by_id(
        clients::table.filter(clients::id.eq_any(&client_ids)).select((clients::id, clients::name)).load(conn)?,
    );
    let organisation_names = names_by_id(
        organisations::table
            .filter(organisations::id.eq_any(&organisation_ids))
            .select((organisations::id, organisations::name))
            .load(conn)?,
    );
    let mut accesses: HashMap<String, Vec<Access>> = HashMap::new();
    for entry in &page.entries {
        let access = Access {
            at: entry.created_at,
            mandate_id: entry.mandate_id.clone(),
            demarche: entry.demarche,
            service: entry
                .client_id
                .as_ref()
                .map(|id| services.get(id).cloned().unwrap_or_else(|| id.clone()))
                .unwrap_or_default(),
            aidant_given_name: entry.aidant_id.as_ref().and_then(|id| helpers.get(id).cloned()),
            organisation_name: entry.organisation_id.as_ref().and_then(|id| organisation_names.get(id).cloned()),
        };
        accesses.entry(entry.mandate_id.clone().unwrap_or_default()).or_default().push(access);
    }
    let mut held_by: Vec<OrganisationMandates> = Vec::new();
    for mandate in found {
        let organisation_id = mandate.mandate.organisation_id.clone();
        let of_mandate =
            MandateOfUsager { accesses: accesses.remove(&mandate.mandate.id).unwrap_or_default(), mandate };
        match held_by.iter_mut().find(|o| o.organisation_id == organisation_id) {
            Some(held) => held.mandates.push(of_mandate),
            None => held_by.push(OrganisationMandates {
                organisation_name: organisation_names.get(&organisation_id).cloned().unwrap_or_default(),
                organisation_id,
                mandates: vec![of_mandate],
            }),
        }
    }
    Ok(UsagerMandates { organisations: held_by, more_accesses: page.next_before_seq.is_some() })
}

/// A mandate of this usager; another's (or none) is not found.
pub fn mandate_of_usager(
    conn: &mut DbConnection,
    mandate_id: &str,
    usager_id: &str,
) -> StoreResult<MandateWithAuthorisations> {
    let found = find(conn, mandate_id)?;
    if found.mandate.usager_id != usager_id {
        return Err(StoreError::NotFound("mandate"));
    }
    Ok(found)
}

/// An authorisation of one of this usager's mandates, with its mandate; another's is not found.
pub fn authorisation_of_usager(
    conn: &mut DbConnection,
    authorisation_id: &str,
    usager_id: &str,
) -> StoreResult<(Authorisation, Mandate)> {
    let found: Option<(Authorisation, Mandate)> = authorisations::table
        .inner_join(mandates::table)
        .filter(authorisations::id.eq(authorisation_id))
        .select((Authorisation::as_select(), Mandate::as_select()))
        .first(conn)
        .optional()?;
    found.filter(|(_, m)| m.usager_id == usager_id).ok_or(StoreError::NotFound("authorisation"))
}

fn by_usager() -> serde_json::Value {
    serde_json::json!({"by": "usager"})
}

/// The usager revokes their whole mandate: the mandate and its démarches still in force end now,
/// marked as revoked by the usager, and the journal says so (no helper), in one transaction. A
/// mandate already revoked is left as it is; another usager's is not found.
pub fn revoke_by_usager(
    conn: &mut DbConnection,
    mandate_id: &str,
    usager_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Revocation> {
    let now = crate::db::truncate_to_micros(now);
    write_transaction(conn, |conn| {
        let found = mandate_of_usager(conn, mandate_id, usager_id)?;
        if found.mandate.revoked_at.is_some() {
            return Ok(Revocation::AlreadyRevoked);
        }
        diesel::update(mandates::table.find(mandate_id))
            .set((mandates::revoked_at.eq(now), mandates::revoked_by_usager.eq(true)))
            .execute(conn)?;
        diesel::update(
            authorisations::table
                .filter(authorisations::mandate_id.eq(mandate_id))
                .filter(authorisations::revoked_at.is_null()),
        )
        .set((authorisations::revoked_at.eq(now), authorisations::revoked_by_usager.eq(true)))
        .execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::MandateRevoked)
                .organisation(&found.mandate.organisation_id)
                .usager(usager_id)
                .mandate(mandate_id)
                .details(by_usager()),
            now,
        )?;
        Ok(Revocation::Revoked)
    })
}

/// The usager revokes one démarche of their mandate; its other démarches stay in force.
/// Journalled with no helper, in one transaction. A démarche already ended is left as it is;
/// another usager's is not found.
pub fn revoke_authorisation_by_usager(
    conn: &mut DbConnection,
    authorisation_id: &str,
    usager_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Revocation> {
    let now = crate::db::truncate_to_micros(now);
    write_transaction(conn, |conn| {
        let (authorisation, mandate) = authorisation_of_usager(conn, authorisation_id, usager_id)?;
        if authorisation.revoked_at.is_some() || mandate.revoked_at.is_some() {
            return Ok(Revocation::AlreadyRevoked);
        }
        diesel::update(authorisations::table.find(authorisation_id))
            .set((authorisations::revoked_at.eq(now), authorisations::revoked_by_usager.eq(true)))
            .execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::AuthorisationRevoked)
                .organisation(&mandate.organisation_id)
                .usager(usager_id)
                .mandate(&mandate.id)
                .authorisation(authorisation_id)
                .demarche(authorisation.demarche)
                .details(by_usager()),
            now,
        )?;
        Ok(Revocation::Revoked)
    })
}

/// Journals that the usager was shown their mandate's attestation (as a helper's display is
/// journalled: the language and the hash, no name), with no helper.
pub fn record_attestation_shown(
    conn: &mut DbConnection,
    mandate: &Mandate,
    language: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    journal::record(
        conn,
        NewEntry::new(JournalAction::AttestationPrinted)
            .organisation(&mandate.organisation_id)
            .usager(&mandate.usager_id)
            .mandate(&mandate.id)
            .details(serde_json::json!({
                "attestation_sha256": mandate.attestation_hash,
                "language": language,
                "by": "usager",
            })),
        now,
    )?;
    Ok(())
}
