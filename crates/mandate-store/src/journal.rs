//! The journal: an append-only hash chain proving who helped whom with what, and when.
//!
//! Every entry carries the SHA-256 of the previous one; `verify` walks the chain. Entries
//! name aidants, usagers and mandates by id only and copy no personal data, so a usager can
//! be erased while the chain stays whole. No code path updates or deletes an entry, and both
//! backends refuse it with a trigger.
//!
//! A change [`record`]s its entry into a queue; a sequencer chains queued entries in batches
//! (`sequencer`, decision 0020). Every read here chains what is queued first, so readers see
//! every committed entry.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{write_transaction, DbConnection};
use crate::domain::Demarche;
use crate::error::{StoreError, StoreResult};
use crate::schema::journal_entries;

pub mod checkpoints;
pub mod names;
mod search;
mod sequencer;
pub use search::{search, JournalFilter, JournalPage, Page};
pub use sequencer::{catch_up, pending_count, record, sequence_pending, SEQUENCE_BATCH};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened: the actions the service records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum JournalAction {
    AidantConnected,
    UsagerIdentityVerified,
    AttestationCreated,
    AuthorisationCreated,
    AuthorisationUsed,
    AuthorisationRevoked,
    MandateRevoked,
    MandateRenewed,
    OrganisationSwitched,
    SecondFactorAdded,
    SecondFactorRemoved,
    UsagerCreated,
    MandateCreated,
    AttestationPrinted,
    UpstreamLoginFailed,
    OrganisationCreated,
    OrganisationUpdated,
    HabilitationRecorded,
    CharterAccepted,
    AidantCreated,
    EnrolmentLinkIssued,
    EnrolmentCompleted,
    PasswordChanged,
    AidantDeactivated,
    AidantReactivated,
    AidantUnlocked,
    SecondFactorReset,
    CardsImported,
    CardAssigned,
    JournalExported,
    /// The usager signed in to their own space (`/espace-usager`).
    UsagerSignedIn,
    /// A signed checkpoint of the chain: its length and head hash before this entry, signed.
    CheckpointSigned,
    /// A usager's personal data was erased; the entries about them keep their ids only.
    UsagerErased,
}

impl JournalAction {
    pub const ALL: [JournalAction; 33] = [
        JournalAction::AidantConnected,
        JournalAction::UsagerIdentityVerified,
        JournalAction::AttestationCreated,
        JournalAction::AuthorisationCreated,
        JournalAction::AuthorisationUsed,
        JournalAction::AuthorisationRevoked,
        JournalAction::MandateRevoked,
        JournalAction::MandateRenewed,
        JournalAction::OrganisationSwitched,
        JournalAction::SecondFactorAdded,
        JournalAction::SecondFactorRemoved,
        JournalAction::UsagerCreated,
        JournalAction::MandateCreated,
        JournalAction::AttestationPrinted,
        JournalAction::UpstreamLoginFailed,
        JournalAction::OrganisationCreated,
        JournalAction::OrganisationUpdated,
        JournalAction::HabilitationRecorded,
        JournalAction::CharterAccepted,
        JournalAction::AidantCreated,
        JournalAction::EnrolmentLinkIssued,
        JournalAction::EnrolmentCompleted,
        JournalAction::PasswordChanged,
        JournalAction::AidantDeactivated,
        JournalAction::AidantReactivated,
        JournalAction::AidantUnlocked,
        JournalAction::SecondFactorReset,
        JournalAction::CardsImported,
        JournalAction::CardAssigned,
        JournalAction::JournalExported,
        JournalAction::UsagerSignedIn,
        JournalAction::CheckpointSigned,
        JournalAction::UsagerErased,
    ];

    pub fn key(self) -> &'static str {
        match self {
            JournalAction::AidantConnected => "aidant_connected",
            JournalAction::UsagerIdentityVerified => "usager_identity_verified",
            JournalAction::AttestationCreated => "attestation_created",
            JournalAction::AuthorisationCreated => "authorisation_created",
            JournalAction::AuthorisationUsed => "authorisation_used",
            JournalAction::AuthorisationRevoked => "authorisation_revoked",
            JournalAction::MandateRevoked => "mandate_revoked",
            JournalAction::MandateRenewed => "mandate_renewed",
            JournalAction::OrganisationSwitched => "organisation_switched",
            JournalAction::SecondFactorAdded => "second_factor_added",
            JournalAction::SecondFactorRemoved => "second_factor_removed",
            JournalAction::UsagerCreated => "usager_created",
            JournalAction::MandateCreated => "mandate_created",
            JournalAction::AttestationPrinted => "attestation_printed",
            JournalAction::UpstreamLoginFailed => "upstream_login_failed",
            JournalAction::OrganisationCreated => "organisation_created",
            JournalAction::OrganisationUpdated => "organisation_updated",
            JournalAction::HabilitationRecorded => "habilitation_recorded",
            JournalAction::CharterAccepted => "charter_accepted",
            JournalAction::AidantCreated => "aidant_created",
            JournalAction::EnrolmentLinkIssued => "enrolment_link_issued",
            JournalAction::EnrolmentCompleted => "enrolment_completed",
            JournalAction::PasswordChanged => "password_changed",
            JournalAction::AidantDeactivated => "aidant_deactivated",
            JournalAction::AidantReactivated => "aidant_reactivated",
            JournalAction::AidantUnlocked => "aidant_unlocked",
            JournalAction::SecondFactorReset => "second_factor_reset",
            JournalAction::CardsImported => "cards_imported",
            JournalAction::CardAssigned => "card_assigned",
            JournalAction::JournalExported => "journal_exported",
            JournalAction::UsagerSignedIn => "usager_signed_in",
            JournalAction::CheckpointSigned => "checkpoint_signed",
            JournalAction::UsagerErased => "usager_erased",
        }
    }
}

impl FromStr for JournalAction {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JournalAction::ALL
            .into_iter()
            .find(|a| a.key() == s)
            .ok_or(StoreError::InvalidField { field: "action", reason: format!("unknown journal action {s:?}") })
    }
}

crate::text_enum_column!(JournalAction, "journal_entries.action");

impl fmt::Display for JournalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// An entry's non-personal context (a reason, a hash, a grant type), as JSON. The stored text
/// is kept as it was read: the entry's hash covers those very bytes.
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct JournalDetails {
    text: String,
    value: serde_json::Value,
}

impl JournalDetails {
    pub fn new(value: serde_json::Value) -> JournalDetails {
        JournalDetails { text: value.to_string(), value }
    }

    /// The text as stored (what the hash covers).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> &serde_json::Value {
        &self.value
    }

    /// Details as read from elsewhere (an export bundle): the text is kept byte for byte, and
    /// must be JSON.
    pub fn from_text(text: String) -> Result<JournalDetails, serde_json::Error> {
        let value = serde_json::from_str(&text)?;
        Ok(JournalDetails { text, value })
    }
}

/// Listed as the stored text, as it always was.
impl Serialize for JournalDetails {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, crate::db::MultiBackend> for JournalDetails {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
    ) -> diesel::serialize::Result {
        out.set_value((diesel::sql_types::Text, self.text.as_str()));
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for JournalDetails {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.text.as_str());
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for JournalDetails {
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
        std::io::Write::write_all(out, self.text.as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Text, crate::db::MultiBackend> for JournalDetails {
    fn from_sql(
        bytes: <crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        let text: String = bytes.from_sql::<String, diesel::sql_types::Text>()?;
        match serde_json::from_str(&text) {
            Ok(value) => Ok(JournalDetails { text, value }),
            Err(e) => Err(Box::new(crate::error::CorruptValue {
                column: "journal_entries.details",
                reason: e.to_string(),
                value: text,
            })),
        }
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = journal_entries)]
pub struct JournalEntry {
    pub seq: i64,
    pub created_at: NaiveDateTime,
    pub action: JournalAction,
    pub aidant_id: Option<String>,
    pub organisation_id: Option<String>,
    pub usager_id: Option<String>,
    pub mandate_id: Option<String>,
    pub authorisation_id: Option<String>,
    pub demarche: Option<Demarche>,
    pub client_id: Option<String>,
    /// Non-personal context (a reason, a hash, a relying party's name).
    pub details: Option<JournalDetails>,
    pub prev_hash: String,
    pub hash: String,
}

impl JournalEntry {
    /// The hash this entry must carry, computed from its content and its predecessor's hash.
    pub fn expected_hash(&self) -> String {
        // A JSON array of the fields in a fixed order: unambiguous, and easy to re-derive
        // with any tool when proving an entry outside this code.
        let canonical = serde_json::json!([
            self.seq,
            canonical_time(self.created_at),
            self.action.key(),
            self.aidant_id,
            self.organisation_id,
            self.usager_id,
            self.mandate_id,
            self.authorisation_id,
            self.demarche.map(Demarche::key),
            self.client_id,
            self.details.as_ref().map(JournalDetails::as_str),
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// An entry's time as its hash covers it: RFC 3339 in UTC, always six decimals, `Z`.
pub fn canonical_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What to record; ids only, never names, birth dates or emails.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub action: JournalAction,
    pub aidant_id: Option<String>,
    pub organisation_id: Option<String>,
    pub usager_id: Option<String>,
    pub mandate_id: Option<String>,
    pub authorisation_id: Option<String>,
    pub demarche: Option<Demarche>,
    pub client_id: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl NewEntry {
    pub fn new(action: JournalAction) -> NewEntry {
        NewEntry {
            action,
            aidant_id: None,
            organisation_id: None,
            usager_id: None,
            mandate_id: None,
            authorisation_id: None,
            demarche: None,
            client_id: None,
            details: None,
        }
    }

    pub fn aidant(mut self, id: &str) -> Self {
        self.aidant_id = Some(id.to_owned());
        self
    }
    pub fn organisation(mut self, id: &str) -> Self {
        self.organisation_id = Some(id.to_owned());
        self
    }
    pub fn usager(mut self, id: &str) -> Self {
        self.usager_id = Some(id.to_owned());
        self
    }
    pub fn mandate(mut self, id: &str) -> Self {
        self.mandate_id = Some(id.to_owned());
        self
    }
    pub fn authorisation(mut self, id: &str) -> Self {
        self.authorisation_id = Some(id.to_owned());
        self
    }
    pub fn demarche(mut self, demarche: Demarche) -> Self {
        self.demarche = Some(demarche);
        self
    }
    pub fn client(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_owned());
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// Who changed an account, for the journal: a manager (their aidant id) or the operator (CLI).
/// Journal entries about an account carry that account as `aidant_id` and the actor in `by`.
pub fn actor(by: Option<&str>) -> serde_json::Value {
    by.map_or_else(|| serde_json::Value::from("operator"), serde_json::Value::from)
}

/// Appends one entry at the head of the chain at once, after every entry still queued, and
/// returns it chained. It waits for the chain's lock, as every journalled step once did: requests
/// [`record`] instead, and leave the chaining to the sequencer (decision 0020). For callers that
/// need the chained entry itself (the command line, tests).
///
/// Concurrent appends (threads or processes) are serialised: on SQLite by the write lock that
/// [`write_transaction`] takes, on PostgreSQL by a transaction-scoped advisory lock. The
/// primary key on `seq` turns any lapse of that into an error, never a fork.
pub fn append(conn: &mut DbConnection, entry: NewEntry, now: NaiveDateTime) -> StoreResult<JournalEntry> {
    write_transaction(conn, |conn| {
        lock_chain(conn)?;
        sequencer::chain_all_queued(conn)?;
        sequencer::chain_at_head(conn, entry, now)
    })
}

/// Takes the chain's append lock until the end of the current transaction: on SQLite the write
/// lock [`write_transaction`] already holds, on PostgreSQL a transaction-scoped advisory lock.
pub(crate) fn lock_chain(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(72417002)").execute(conn)?;
    }
    Ok(())
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainReport {
    Intact { entries: i64, head_hash: String },
    Broken { seq: i64, reason: String },
}

const VERIFY_PAGE: i64 = 1_000;

/// Walks the whole chain in order, page by page, and names the first entry that does not fit.
pub fn verify(conn: &mut DbConnection) -> StoreResult<ChainReport> {
    catch_up(conn)?;
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    loop {
        let page: Vec<JournalEntry> = journal_entries::table
            .filter(journal_entries::seq.ge(expected_seq))
            .order(journal_entries::seq.asc())
            .limit(VERIFY_PAGE)
            .select(JournalEntry::as_select())
            .load(conn)?;
        if page.is_empty() {
            return Ok(ChainReport::Intact { entries: expected_seq - 1, head_hash: prev_hash });
        }
        for entry in page {
            if entry.seq != expected_seq {
                return Ok(ChainReport::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing (next stored entry is {})", entry.seq),
                });
            }
            if entry.prev_hash != prev_hash {
                return Ok(ChainReport::Broken {
                    seq: entry.seq,
                    reason: "prev_hash does not match the hash of the previous entry".into(),
                });
            }
            if entry.expected_hash() != entry.hash {
                return Ok(ChainReport::Broken {
                    seq: entry.seq,
                    reason: "content does not match its hash (the entry was altered)".into(),
                });
            }
            prev_hash = entry.hash;
            expected_seq += 1;
        }
    }
}

/// Entries for one usager, oldest first (what a usager may ask to see).
pub fn entries_for_usager(conn: &mut DbConnection, usager_id: &str) -> StoreResult<Vec<JournalEntry>> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .filter(journal_entries::usager_id.eq(usager_id))
        .order(journal_entries::seq.asc())
        .select(JournalEntry::as_select())
        .load(conn)?)
}

/// Entries of one action, newest first, at most `limit`.
pub fn recent(conn: &mut DbConnection, action: Option<JournalAction>, limit: i64) -> StoreResult<Vec<JournalEntry>> {
    catch_up(conn)?;
    let mut query = journal_entries::table.select(JournalEntry::as_select()).into_boxed();
    if let Some(action) = action {
        query = query.filter(journal_entries::action.eq(action));
    }
    Ok(query.order(journal_entries::seq.desc()).limit(limit).load(conn)?)
}

pub fn count(conn: &mut DbConnection, action: JournalAction) -> StoreResult<i64> {
    catch_up(conn)?;
    Ok(journal_entries::table.filter(journal_entries::action.eq(action)).count().get_result(conn)?)
}
