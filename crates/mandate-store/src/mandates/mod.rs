//! Mandates and their authorisations (one per démarche), and the question every other part
//! asks: may this aidant, in this organisation, act for this usager for this démarche now?

pub mod attestation;
pub mod by_usager;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::aidants;
use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::{demarche_set, Demarche, DurationKind};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{authorisations, mandates, usagers};
use crate::usagers::Usager;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = mandates)]
pub struct Mandate {
    pub id: String,
    pub organisation_id: String,
    pub usager_id: String,
    pub created_by_aidant_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub duration_kind: DurationKind,
    pub is_remote: bool,
    pub consent_proof: Option<String>,
    pub attestation_hash: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by_aidant_id: Option<String>,
    /// The per-mandate salt of the attestation hash (absent on mandates older than attestations).
    pub attestation_salt: Option<String>,
    /// The version of the mandate text the attestation prints.
    pub template_version: Option<String>,
    /// The mandate this one renewed, if it is a renewal.
    pub renewed_from_id: Option<String>,
    /// The usager revoked it from their own space (`revoked_by_aidant_id` is then empty).
    pub revoked_by_usager: bool,
}

impl Mandate {
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = authorisations)]
pub struct Authorisation {
    pub id: String,
    pub mandate_id: String,
    pub demarche: Demarche,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by_aidant_id: Option<String>,
    /// The usager revoked this démarche (or its whole mandate) from their own space.
    pub revoked_by_usager: bool,
}

#[derive(Debug, Clone)]
pub struct NewMandate {
    pub organisation_id: String,
    pub usager_id: String,
    pub aidant_id: String,
    pub demarches: Vec<Demarche>,
    pub duration: DurationKind,
    /// Required for `DurationKind::Custom`, ignored otherwise.
    pub custom_expires_at: Option<NaiveDateTime>,
    pub is_remote: bool,
    /// How a remote usager consented (e.g. the hash of the one-time code exchange).
    pub consent_proof: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MandateWithAuthorisations {
    pub mandate: Mandate,
    pub authorisations: Vec<Authorisation>,
    /// From [`create`]: the live authorisations of other mandates (same organisation, usager
    /// and démarche) that this one replaced, now revoked. Empty when a mandate is read back.
    pub replaced: Vec<Authorisation>,
}

impl MandateWithAuthorisations {
    /// The démarches a renewal may keep: those whose authorisation was never revoked (alone, or
    /// replaced by a newer mandate).
    pub fn renewable_demarches(&self) -> Vec<Demarche> {
        self.authorisations.iter().filter(|a| a.revoked_at.is_none()).map(|a| a.demarche).collect()
    }

    /// Where the mandate stands at `now`.
    pub fn status(&self, now: NaiveDateTime) -> MandateStatus {
        if self.mandate.revoked_at.is_some() {
            MandateStatus::Revoked
        } else if self.mandate.expires_at <= now {
            MandateStatus::Expired
        } else {
            MandateStatus::Live
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MandateStatus {
    Live,
    Expired,
    Revoked,
}

/// What a revocation did: the operator is told when there was nothing left to revoke (and no
/// journal entry is written then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    AlreadyRevoked,
}

/// Creates a mandate with one authorisation per démarche, and its attestation (hash written into
/// the journal). Any live authorisation of the same organisation + usager + démarche is revoked
/// first: there are never two live ones. The whole change and its journal entries are one
/// transaction.
pub fn create(conn: &mut DbConnection, new: NewMandate, now: NaiveDateTime) -> StoreResult<MandateWithAuthorisations> {
    write_transaction(conn, |conn| create_in(conn, new, None, now))
}

fn create_in(
    conn: &mut DbConnection,
    new: NewMandate,
    renewed_from: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<MandateWithAuthorisations> {
    let now = crate::db::truncate_to_micros(now);
    let demarches = demarche_set(new.demarches.clone())?;
    let expires_at = match new.duration.expiry_from(now) {
        Some(at) => at,
        None => new.custom_expires_at.ok_or(StoreError::InvalidField {
            field: "expires_at",
            reason: "a custom duration needs an expiry".into(),
        })?,
    };
    if expires_at <= now {
        return Err(StoreError::ExpiryInPast(expires_at));
    }
    if new.is_remote && new.consent_proof.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(StoreError::InvalidField {
            field: "consent_proof",
            reason: "a remote mandate needs the usager's consent proof".into(),
        });
    }

    let aidant = aidants::find(conn, &new.aidant_id)?;
    if !aidant.active {
        return Err(StoreError::AidantInactive);
    }
    if !aidants::is_member(conn, &aidant.id, &new.organisation_id)? {
        return Err(StoreError::NotMember { organisation_id: new.organisation_id.clone() });
    }
    crate::usagers::find(conn, &new.usager_id)?;

    let salt = attestation::new_salt();
    let mut mandate = Mandate {
        id: new_id(),
        organisation_id: new.organisation_id.clone(),
        usager_id: new.usager_id.clone(),
        created_by_aidant_id: aidant.id.clone(),
        created_at: now,
        expires_at: crate::db::truncate_to_micros(expires_at),
        duration_kind: new.duration,
        is_remote: new.is_remote,
        consent_proof: new.consent_proof.clone(),
        attestation_hash: None,
        revoked_at: None,
        revoked_by_aidant_id: None,
        attestation_salt: Some(salt.clone()),
        template_version: Some(attestation::TEMPLATE_VERSION.to_owned()),
        renewed_from_id: renewed_from.map(str::to_owned),
        revoked_by_usager: false,
    };
    diesel::insert_into(mandates::table).values(&mandate).execute(conn)?;

    let mut created = Vec::with_capacity(demarches.len());
    let mut replaced_all = Vec::new();
    for demarche in &demarches {
        for mut replaced in live_authorisations_for(conn, &new.organisation_id, &new.usager_id, *demarche, now)? {
            revoke_authorisation_row(conn, &replaced.id, &aidant.id, now)?;
            journal::record(
                conn,
                NewEntry::new(JournalAction::AuthorisationRevoked)
                    .aidant(&aidant.id)
                    .organisation(&new.organisation_id)
                    .usager(&new.usager_id)
                    .mandate(&replaced.mandate_id)
                    .authorisation(&replaced.id)
                    .demarche(*demarche)
                    .details(serde_json::json!({"reason": "replaced", "by_mandate": mandate.id})),
                now,
            )?;
            replaced.revoked_at = Some(now);
            replaced.revoked_by_aidant_id = Some(aidant.id.clone());
            replaced_all.push(replaced);
        }
        let authorisation = Authorisation {
            id: new_id(),
            mandate_id: mandate.id.clone(),
            demarche: *demarche,
            created_at: now,
            revoked_at: None,
            revoked_by_aidant_id: None,
            revoked_by_usager: false,
        };
        diesel::insert_into(authorisations::table).values(&authorisation).execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::AuthorisationCreated)
                .aidant(&aidant.id)
                .organisation(&new.organisation_id)
                .usager(&new.usager_id)
                .mandate(&mandate.id)
                .authorisation(&authorisation.id)
                .demarche(*demarche)
                .details(serde_json::json!({
                    "duration": mandate.duration_kind,
                    "remote": mandate.is_remote,
                })),
            now,
        )?;
        created.push(authorisation);
    }

    // The attestation states what was just stored; its hash goes into the row and the journal.
    let data = attestation::data(conn, &mandate)?;
    let hash = data.hash(&salt);
    diesel::update(mandates::table.find(&mandate.id)).set(mandates::attestation_hash.eq(&hash)).execute(conn)?;
    mandate.attestation_hash = Some(hash);
    journal::record(
        conn,
        NewEntry::new(JournalAction::MandateCreated)
            .aidant(&aidant.id)
            .organisation(&new.organisation_id)
            .usager(&new.usager_id)
            .mandate(&mandate.id)
            .details(data.journal_details(&salt)),
        now,
    )?;
    Ok(MandateWithAuthorisations { mandate, authorisations: created, replaced: replaced_all })
}

/// Renews a mandate: a new mandate for the same usager and organisation, with the same or fewer
/// démarches (among those still in force on the old one) and a new duration, without a new
/// upstream login. The old mandate ends (its remaining authorisations are replaced), and the
/// journal links old and new.
pub fn renew(
    conn: &mut DbConnection,
    mandate_id: &str,
    aidant_id: &str,
    demarches: Vec<Demarche>,
    duration: DurationKind,
    now: NaiveDateTime,
) -> StoreResult<MandateWithAuthorisations> {
    if duration == DurationKind::Custom {
        return Err(StoreError::InvalidField {
            field: "duration",
            reason: "a renewal takes a standard duration".into(),
        });
    }
    write_transaction(conn, |conn| {
        let old = find(conn, mandate_id)?;
        if !aidants::is_member(conn, aidant_id, &old.mandate.organisation_id)? {
            return Err(StoreError::NotMember { organisation_id: old.mandate.organisation_id.clone() });
        }
        if old.mandate.revoked_at.is_some() {
            return Err(StoreError::InvalidField {
                field: "mandate",
                reason: "a revoked mandate cannot be renewed: create a new one with the usager".into(),
            });
        }
        let renewable = old.renewable_demarches();
        if let Some(extra) = demarches.iter().find(|d| !renewable.contains(d)) {
            return Err(StoreError::InvalidField {
                field: "demarches",
                reason: format!("{extra} is not among the démarches in force on the mandate renewed"),
            });
        }
        let created = create_in(
            conn,
            NewMandate {
                organisation_id: old.mandate.organisation_id.clone(),
                usager_id: old.mandate.usager_id.clone(),
                aidant_id: aidant_id.to_owned(),
                demarches,
                duration,
                custom_expires_at: None,
                is_remote: false,
                consent_proof: None,
            },
            Some(mandate_id),
            now,
        )?;
        // The old mandate ends with its renewal (démarches left out of it end too).
        diesel::update(mandates::table.find(mandate_id))
            .set((mandates::revoked_at.eq(now), mandates::revoked_by_aidant_id.eq(aidant_id)))
            .execute(conn)?;
        diesel::update(
            authorisations::table
                .filter(authorisations::mandate_id.eq(mandate_id))
                .filter(authorisations::revoked_at.is_null()),
        )
        .set((authorisations::revoked_at.eq(now), authorisations::revoked_by_aidant_id.eq(aidant_id)))
        .execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::MandateRenewed)
                .aidant(aidant_id)
                .organisation(&old.mandate.organisation_id)
                .usager(&old.mandate.usager_id)
                .mandate(&created.mandate.id)
                .details(serde_json::json!({"renewed_from": mandate_id, "renewed_by": created.mandate.id})),
            now,
        )?;
        Ok(created)
    })
}

fn live_authorisations_for(
    conn: &mut DbConnection,
    organisation_id: &str,
    usager_id: &str,
    demarche: Demarche,
    now: NaiveDateTime,
) -> StoreResult<Vec<Authorisation>> {
    Ok(authorisations::table
        .inner_join(mandates::table)
        .filter(mandates::organisation_id.eq(organisation_id))
        .filter(mandates::usager_id.eq(usager_id))
        .filter(mandates::revoked_at.is_null())
        .filter(mandates::expires_at.gt(now))
        .filter(authorisations::demarche.eq(demarche))
        .filter(authorisations::revoked_at.is_null())
        .select(Authorisation::as_select())
        .load(conn)?)
}

fn revoke_authorisation_row(conn: &mut DbConnection, id: &str, by: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(authorisations::table.find(id))
        .set((authorisations::revoked_at.eq(now), authorisations::revoked_by_aidant_id.eq(by)))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<MandateWithAuthorisations> {
    let mandate = mandates::table
        .find(id)
        .select(Mandate::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("mandate"))?;
    let authorisations = authorisations::table
        .filter(authorisations::mandate_id.eq(id))
        .order(authorisations::demarche.asc())
        .select(Authorisation::as_select())
        .load(conn)?;
    Ok(MandateWithAuthorisations { mandate, authorisations, replaced: Vec::new() })
}

/// The mandate an authorisation belongs to.
pub fn find_by_authorisation(
    conn: &mut DbConnection,
    authorisation_id: &str,
) -> StoreResult<MandateWithAuthorisations> {
    let mandate_id: String = authorisations::table
        .find(authorisation_id)
        .select(authorisations::mandate_id)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("authorisation"))?;
    find(conn, &mandate_id)
}

/// Revokes a whole mandate and its live authorisations. The aidant must belong to the
/// mandate's organisation. A mandate already revoked is left as it is.
pub fn revoke(
    conn: &mut DbConnection,
    mandate_id: &str,
    aidant_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Revocation> {
    write_transaction(conn, |conn| {
        let found = find(conn, mandate_id)?;
        if !aidants::is_member(conn, aidant_id, &found.mandate.organisation_id)? {
            return Err(StoreError::NotMember { organisation_id: found.mandate.organisation_id.clone() });
        }
        if found.mandate.revoked_at.is_some() {
            return Ok(Revocation::AlreadyRevoked);
        }
        diesel::update(mandates::table.find(mandate_id))
            .set((mandates::revoked_at.eq(now), mandates::revoked_by_aidant_id.eq(aidant_id)))
            .execute(conn)?;
        for authorisation in found.authorisations.iter().filter(|a| a.revoked_at.is_none()) {
            revoke_authorisation_row(conn, &authorisation.id, aidant_id, now)?;
        }
        journal::record(
            conn,
            NewEntry::new(JournalAction::MandateRevoked)
                .aidant(aidant_id)
                .organisation(&found.mandate.organisation_id)
                .usager(&found.mandate.usager_id)
                .mandate(mandate_id),
            now,
        )?;
        Ok(Revocation::Revoked)
    })
}

/// Revokes one authorisation, leaving the mandate's others in force. An authorisation already
/// revoked (alone, with its mandate, or replaced by a newer mandate) is left as it is.
pub fn revoke_authorisation(
    conn: &mut DbConnection,
    authorisation_id: &str,
    aidant_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Revocation> {
    write_transaction(conn, |conn| {
        let (authorisation, mandate): (Authorisation, Mandate) = authorisations::table
            .inner_join(mandates::table)
            .filter(authorisations::id.eq(authorisation_id))
            .select((Authorisation::as_select(), Mandate::as_select()))
            .first(conn)
            .optional()?
            .ok_or(StoreError::NotFound("authorisation"))?;
        if !aidants::is_member(conn, aidant_id, &mandate.organisation_id)? {
            return Err(StoreError::NotMember { organisation_id: mandate.organisation_id.clone() });
        }
        if authorisation.revoked_at.is_some() {
            return Ok(Revocation::AlreadyRevoked);
        }
        revoke_authorisation_row(conn, authorisation_id, aidant_id, now)?;
        let entry = NewEntry::new(JournalAction::AuthorisationRevoked)
            .aidant(aidant_id)
            .organisation(&mandate.organisation_id)
            .usager(&mandate.usager_id)
            .mandate(&mandate.id)
            .authorisation(authorisation_id)
            .demarche(authorisation.demarche);
        journal::record(conn, entry, now)?;
        Ok(Revocation::Revoked)
    })
}

/// A live authorisation, with what a token needs to say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveAuthorisation {
    pub authorisation_id: String,
    pub mandate_id: String,
    pub organisation_id: String,
    pub usager_id: String,
    pub demarche: Demarche,
    pub expires_at: NaiveDateTime,
}

/// Why an aidant may not act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    AidantInactive,
    NotMember,
    NoMandate,
    MandateExpired,
    MandateRevoked,
    AuthorisationRevoked,
    DemarcheNotCovered,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Granted(LiveAuthorisation),
    Denied(Refusal),
}

/// May aidant `aidant_id`, in organisation `organisation_id`, act for usager `usager_id` for
/// `demarche` at `now`? Yes only with a live authorisation on an unexpired, unrevoked mandate
/// of that organisation, held by an active aidant who belongs to it.
pub fn may_act(
    conn: &mut DbConnection,
    aidant_id: &str,
    organisation_id: &str,
    usager_id: &str,
    demarche: Demarche,
    now: NaiveDateTime,
) -> StoreResult<Permission> {
    let aidant = aidants::find(conn, aidant_id)?;
    if !aidant.active {
        return Ok(Permission::Denied(Refusal::AidantInactive));
    }
    if !aidants::is_member(conn, aidant_id, organisation_id)? {
        return Ok(Permission::Denied(Refusal::NotMember));
    }
    let candidates: Vec<(Authorisation, Mandate)> = authorisations::table
        .inner_join(mandates::table)
        .filter(mandates::organisation_id.eq(organisation_id))
        .filter(mandates::usager_id.eq(usager_id))
        .filter(authorisations::demarche.eq(demarche))
        .order(mandates::created_at.desc())
        .select((Authorisation::as_select(), Mandate::as_select()))
        .load(conn)?;
    if let Some((authorisation, mandate)) = candidates.iter().find(|(a, m)| a.revoked_at.is_none() && m.is_live(now)) {
        return Ok(Permission::Granted(LiveAuthorisation {
            authorisation_id: authorisation.id.clone(),
            mandate_id: mandate.id.clone(),
            organisation_id: mandate.organisation_id.clone(),
            usager_id: mandate.usager_id.clone(),
            demarche,
            expires_at: mandate.expires_at,
        }));
    }
    // Refused: say why, from the most recent attempt at covering this démarche.
    let refusal = match candidates.first() {
        Some((_, mandate)) if mandate.revoked_at.is_some() => Refusal::MandateRevoked,
        Some((_, mandate)) if mandate.expires_at <= now => Refusal::MandateExpired,
        Some(_) => Refusal::AuthorisationRevoked,
        None => {
            let any_mandate: bool = diesel::select(diesel::dsl::exists(
                mandates::table
                    .filter(mandates::organisation_id.eq(organisation_id))
                    .filter(mandates::usager_id.eq(usager_id)),
            ))
            .get_result(conn)?;
            if any_mandate {
                Refusal::DemarcheNotCovered
            } else {
                Refusal::NoMandate
            }
        }
    };
    Ok(Permission::Denied(refusal))
}

/// The live authorisations of an organisation for one usager (what the aidant may choose).
pub fn live_authorisations(
    conn: &mut DbConnection,
    organisation_id: &str,
    usager_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Vec<LiveAuthorisation>> {
    let rows: Vec<(Authorisation, Mandate)> = authorisations::table
        .inner_join(mandates::table)
        .filter(mandates::organisation_id.eq(organisation_id))
        .filter(mandates::usager_id.eq(usager_id))
        .filter(mandates::revoked_at.is_null())
        .filter(mandates::expires_at.gt(now))
        .filter(authorisations::revoked_at.is_null())
        .order(authorisations::demarche.asc())
        .select((Authorisation::as_select(), Mandate::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, m)| LiveAuthorisation {
            demarche: a.demarche,
            authorisation_id: a.id,
            mandate_id: m.id,
            organisation_id: m.organisation_id,
            usager_id: m.usager_id,
            expires_at: m.expires_at,
        })
        .collect())
}

/// Usagers with at least one live authorisation in the organisation, optionally filtered by a
/// case-insensitive search on their names, sorted by family name.
pub fn usagers_with_live_mandates(
    conn: &mut DbConnection,
    organisation_id: &str,
    search: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<Vec<Usager>> {
    let mut found: Vec<Usager> = usagers::table
        .filter(
            usagers::id.eq_any(
                mandates::table
                    .inner_join(authorisations::table)
                    .filter(mandates::organisation_id.eq(organisation_id))
                    .filter(mandates::revoked_at.is_null())
                    .filter(mandates::expires_at.gt(now))
                    .filter(authorisations::revoked_at.is_null())
                    .select(mandates::usager_id),
            ),
        )
        .order((usagers::family_name.asc(), usagers::given_name.asc()))
        .select(Usager::as_select())
        .load(conn)?;
    // Filtered here rather than in SQL: case-folding (and accents) differ between backends.
    if let Some(term) = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        found.retain(|u| u.matches(&term));
    }
    Ok(found)
}

/// Mandates, newest first, with their authorisations: of one organisation, one usager, or both.
pub fn list(
    conn: &mut DbConnection,
    organisation_id: Option<&str>,
    usager_id: Option<&str>,
) -> StoreResult<Vec<MandateWithAuthorisations>> {
    let mut query = mandates::table.into_boxed();
    if let Some(organisation_id) = organisation_id {
        query = query.filter(mandates::organisation_id.eq(organisation_id.to_owned()));
    }
    if let Some(usager_id) = usager_id {
        query = query.filter(mandates::usager_id.eq(usager_id.to_owned()));
    }
    let found: Vec<Mandate> =
        query.order((mandates::created_at.desc(), mandates::id.asc())).select(Mandate::as_select()).load(conn)?;
    let ids: Vec<&str> = found.iter().map(|m| m.id.as_str()).collect();
    let mut all: Vec<Authorisation> = authorisations::table
        .filter(authorisations::mandate_id.eq_any(&ids))
        .order(authorisations::demarche.asc())
        .select(Authorisation::as_select())
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|mandate| {
            let (mine, rest): (Vec<Authorisation>, Vec<Authorisation>) =
                std::mem::take(&mut all).into_iter().partition(|a| a.mandate_id == mandate.id);
            all = rest;
            MandateWithAuthorisations { mandate, authorisations: mine, replaced: Vec::new() }
        })
        .collect())
}

/// A usager of the organisation with what is in force for them: the home page's line.
#[derive(Debug, Clone, Serialize)]
pub struct UsagerOverview {
    pub usager: Usager,
    pub live: Vec<LiveAuthorisation>,
}

impl UsagerOverview {
    /// The first expiry among the live authorisations.
    pub fn next_expiry(&self) -> Option<NaiveDateTime> {
        self.live.iter().map(|l| l.expires_at).min()
    }
}

/// The usagers with at least one live authorisation in the organisation, each with those
/// authorisations, sorted by family name; `search` filters on names as
/// [`usagers_with_live_mandates`] does. One query for the authorisations.
pub fn organisation_overview(
    conn: &mut DbConnection,
    organisation_id: &str,
    search: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<Vec<UsagerOverview>> {
    let usagers = usagers_with_live_mandates(conn, organisation_id, search, now)?;
    let rows: Vec<(Authorisation, Mandate)> = authorisations::table
        .inner_join(mandates::table)
        .filter(mandates::organisation_id.eq(organisation_id))
        .filter(mandates::revoked_at.is_null())
        .filter(mandates::expires_at.gt(now))
        .filter(authorisations::revoked_at.is_null())
        .order(authorisations::demarche.asc())
        .select((Authorisation::as_select(), Mandate::as_select()))
        .load(conn)?;
    Ok(usagers
        .into_iter()
        .map(|usager| {
            let live = rows
                .iter()
                .filter(|(_, m)| m.usager_id == usager.id)
                .map(|(a, m)| LiveAuthorisation {
                    authorisation_id: a.id.clone(),
                    mandate_id: m.id.clone(),
                    organisation_id: m.organisation_id.clone(),
                    usager_id: m.usager_id.clone(),
                    demarche: a.demarche,
                    expires_at: m.expires_at,
                })
                .collect();
            UsagerOverview { usager, live }
        })
        .collect())
}
