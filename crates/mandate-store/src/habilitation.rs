//! Habilitation: what a helper must have done before acting for usagers — a training day
//! attended and the digital-skills certification (PIX) passed, both recorded with their dates by
//! the operator or a manager, and the current version of the ethics charter accepted by the
//! helper themself. A new charter version asks every helper again at their next sign-in.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::aidants::{self, Aidant};
use crate::db::{write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::aidants as aidants_table;

/// The version of the ethics charter in force. Changing it asks every helper to accept the new
/// text before they act again (helpers created before habilitation existed hold `2026-11`).
pub const CURRENT_CHARTER_VERSION: &str = "2026-11";

/// A step of habilitation recorded by someone else than the helper, with its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HabilitationStep {
    /// The training day attended.
    Training,
    /// The digital-skills certification (PIX) passed.
    Pix,
}

impl HabilitationStep {
    pub fn key(self) -> &'static str {
        match self {
            HabilitationStep::Training => "training",
            HabilitationStep::Pix => "pix",
        }
    }
}

/// What a helper still lacks before acting for usagers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Requirement {
    Training,
    Pix,
    /// The current charter is not accepted (never, or an older version).
    Charter,
}

impl Requirement {
    pub fn key(self) -> &'static str {
        match self {
            Requirement::Training => "training",
            Requirement::Pix => "pix",
            Requirement::Charter => "charter",
        }
    }
}

/// What the helper lacks, in a fixed order (training, PIX, charter); empty means habilitated.
pub fn missing(aidant: &Aidant) -> Vec<Requirement> {
    let mut missing = Vec::new();
    if aidant.training_date.is_none() {
        missing.push(Requirement::Training);
    }
    if aidant.pix_date.is_none() {
        missing.push(Requirement::Pix);
    }
    if aidant.charter_version.as_deref() != Some(CURRENT_CHARTER_VERSION) {
        missing.push(Requirement::Charter);
    }
    missing
}

/// Records that the helper attended the training or passed PIX `on` that day, by a manager
/// (`recorded_by`, their aidant id) or the operator (`None`). A later record replaces the date.
/// A date after today is refused: it records what happened, not what is planned.
pub fn record(
    conn: &mut DbConnection,
    aidant_id: &str,
    step: HabilitationStep,
    on: NaiveDate,
    recorded_by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    if on > now.date() {
        return Err(StoreError::InvalidField { field: step.key(), reason: "the date is in the future".into() });
    }
    let date = on.format("%Y-%m-%d").to_string();
    write_transaction(conn, |conn| {
        aidants::find(conn, aidant_id)?;
        let row = aidants_table::table.find(aidant_id);
        match step {
            HabilitationStep::Training => {
                diesel::update(row).set(aidants_table::training_date.eq(Some(&date))).execute(conn)?
            }
            HabilitationStep::Pix => diesel::update(row).set(aidants_table::pix_date.eq(Some(&date))).execute(conn)?,
        };
        let mut entry = NewEntry::new(JournalAction::HabilitationRecorded).aidant(aidant_id);
        entry.organisation_id = organisation_id.map(str::to_owned);
        entry.details = Some(serde_json::json!({
            "step": step.key(),
            "on": date,
            "by": recorded_by.unwrap_or("operator"),
        }));
        journal::record(conn, entry, now)?;
        Ok(())
    })
}

/// The helper accepts the charter `version`, which must be the one in force (a page shown
/// before a new version was published cannot accept the new text unseen).
pub fn accept_charter(conn: &mut DbConnection, aidant_id: &str, version: &str, now: NaiveDateTime) -> StoreResult<()> {
    if version != CURRENT_CHARTER_VERSION {
        return Err(StoreError::InvalidField {
            field: "charter_version",
            reason: format!("{version:?} is not the charter in force ({CURRENT_CHARTER_VERSION})"),
        });
    }
    write_transaction(conn, |conn| {
        let aidant = aidants::find(conn, aidant_id)?;
        diesel::update(aidants_table::table.find(aidant_id))
            .set((aidants_table::charter_version.eq(Some(version)), aidants_table::charter_signed_at.eq(Some(now))))
            .execute(conn)?;
        let entry = NewEntry::new(JournalAction::CharterAccepted)
            .aidant(aidant_id)
            .organisation(&aidant.current_organisation_id)
            .details(serde_json::json!({ "version": version }));
        journal::record(conn, entry, now)?;
        Ok(())
    })
}
