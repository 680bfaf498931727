//! A helper's second factors: authenticator apps (30-second step) and physical TOTP cards
//! (60-second step). A factor counts once confirmed by a first code; each factor keeps the last
//! time step it accepted, so a code works once per factor (RFC 6238 §5.2). Computing codes is
//! the server's job; this module keeps the secrets (sealed, see `sealing`) and the steps.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{new_id, write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{aidants, second_factors};
use crate::sealing::{self, Reseal, ResealReport, RowIdentity, SealingKeys};

crate::keyed_enum! {
    /// What produces the codes.
    pub enum FactorKind in "kind" {
        /// An authenticator app on a phone, enrolled from a QR code.
        App = "app",
        /// A physical card handed out by the organisation, known by its serial.
        Card = "card",
    }
}

impl FactorKind {
    /// The time step of the codes this kind of factor shows, in seconds.
    pub fn step_seconds(self) -> i32 {
        match self {
            FactorKind::App => 30,
            FactorKind::Card => 60,
        }
    }
}

/// A factor as the server uses it: its secret opened.
#[derive(Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub id: String,
    pub aidant_id: String,
    pub kind: FactorKind,
    /// Base32. Never logged, shown once (as a QR code and in groups of four) at enrolment;
    /// sealed in the store.
    pub secret: String,
    pub step_seconds: i32,
    pub card_serial: Option<String>,
    /// The last time step accepted (a code of that step or an earlier one is refused).
    pub last_step: Option<i64>,
    /// None while the factor waits for its first code.
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

// The secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("id", &self.id)
            .field("aidant_id", &self.aidant_id)
            .field("kind", &self.kind)
            .field("secret", &"<redacted>")
            .field("step_seconds", &self.step_seconds)
            .field("card_serial", &self.card_serial)
            .field("last_step", &self.last_step)
            .field("confirmed_at", &self.confirmed_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl SecondFactor {
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// A factor as stored: its secret sealed for its row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = second_factors)]
pub(crate) struct StoredFactor {
    pub id: String,
    pub aidant_id: String,
    pub kind: FactorKind,
    pub secret: String,
    pub step_seconds: i32,
    pub card_serial: Option<String>,
    pub last_step: Option<i64>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl StoredFactor {
    fn open(self, keys: &dyn SealingKeys) -> StoreResult<SecondFactor> {
        let secret = sealing::open_column(keys, &self.secret, row(&self.id))?;
        Ok(SecondFactor {
            id: self.id,
            aidant_id: self.aidant_id,
            kind: self.kind,
            secret,
            step_seconds: self.step_seconds,
            card_serial: self.card_serial,
            last_step: self.last_step,
            confirmed_at: self.confirmed_at,
            created_at: self.created_at,
        })
    }

    pub(crate) fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

fn row(id: &str) -> RowIdentity<'_> {
    RowIdentity { table: "second_factors", id }
}

fn open_all(keys: &dyn SealingKeys, stored: Vec<StoredFactor>) -> StoreResult<Vec<SecondFactor>> {
    stored.into_iter().map(|factor| factor.open(keys)).collect()
}

/// This module stands below `aidants` (which makes a first factor when it creates a helper), so
/// it checks that a helper exists with its own query.
fn require_aidant(conn: &mut DbConnection, aidant_id: &str) -> StoreResult<()> {
    let exists: bool = diesel::select(diesel::dsl::exists(aidants::table.find(aidant_id))).get_result(conn)?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound("aidant"))
    }
}

/// Every factor of the helper, confirmed or not, oldest first.
pub fn list(conn: &mut DbConnection, keys: &dyn SealingKeys, aidant_id: &str) -> StoreResult<Vec<SecondFactor>> {
    let stored = second_factors::table
        .filter(second_factors::aidant_id.eq(aidant_id))
        .order((second_factors::created_at.asc(), second_factors::id.asc()))
        .select(StoredFactor::as_select())
        .load(conn)?;
    open_all(keys, stored)
}

/// The factors a code may come from (confirmed ones), oldest first.
pub fn confirmed(conn: &mut DbConnection, keys: &dyn SealingKeys, aidant_id: &str) -> StoreResult<Vec<SecondFactor>> {
    let stored = second_factors::table
        .filter(second_factors::aidant_id.eq(aidant_id))
        .filter(second_factors::confirmed_at.is_not_null())
        .order((second_factors::created_at.asc(), second_factors::id.asc()))
        .select(StoredFactor::as_select())
        .load(conn)?;
    open_all(keys, stored)
}

pub fn has_confirmed(conn: &mut DbConnection, aidant_id: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        second_factors::table
            .filter(second_factors::aidant_id.eq(aidant_id))
            .filter(second_factors::confirmed_at.is_not_null()),
    ))
    .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, keys: &dyn SealingKeys, id: &str) -> StoreResult<SecondFactor> {
    find_stored(conn, id)?.open(keys)
}

/// The factor as stored, for the checks that need no secret.
pub(crate) fn find_stored(conn: &mut DbConnection, id: &str) -> StoreResult<StoredFactor> {
    second_factors::table
        .find(id)
        .select(StoredFactor::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("second factor"))
}

/// The helper's authenticator app waiting for its first code, if any.
pub fn pending_app(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    aidant_id: &str,
) -> StoreResult<Option<SecondFactor>> {
    second_factors::table
        .filter(second_factors::aidant_id.eq(aidant_id))
        .filter(second_factors::kind.eq(FactorKind::App))
        .filter(second_factors::confirmed_at.is_null())
        .order(second_factors::created_at.desc())
        .select(StoredFactor::as_select())
        .first(conn)
        .optional()?
        .map(|factor| factor.open(keys))
        .transpose()
}

/// Starts enrolling an authenticator app with `secret`: the factor waits for its first code.
/// An earlier app still waiting is replaced (its secret was shown on a page since left).
pub fn start_app(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    aidant_id: &str,
    secret: &str,
    now: NaiveDateTime,
) -> StoreResult<SecondFactor> {
    write_transaction(conn, |conn| {
        require_aidant(conn, aidant_id)?;
        diesel::delete(
            second_factors::table
                .filter(second_factors::aidant_id.eq(aidant_id))
                .filter(second_factors::kind.eq(FactorKind::App))
                .filter(second_factors::confirmed_at.is_null()),
        )
        .execute(conn)?;
        insert(conn, keys, aidant_id, FactorKind::App, secret, FactorKind::App.step_seconds(), None, None, now)
    })
}

/// A confirmed authenticator app whose secret was handed over outside the pages (`idp aidant
/// add`, the demo seed): the operator gave it to the helper directly.
pub fn add_confirmed_app(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    aidant_id: &str,
    secret: &str,
    step_seconds: i32,
    now: NaiveDateTime,
) -> StoreResult<SecondFactor> {
    insert(conn, keys, aidant_id, FactorKind::App, secret, valid_step(step_seconds)?, None, Some(now), now)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn insert(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    aidant_id: &str,
    kind: FactorKind,
    secret: &str,
    step_seconds: i32,
    card_serial: Option<&str>,
    confirmed_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> StoreResult<SecondFactor> {
    let factor = SecondFactor {
        id: new_id(),
        aidant_id: aidant_id.to_owned(),
        kind,
        secret: valid_secret(secret)?,
        step_seconds: valid_step(step_seconds)?,
        card_serial: card_serial.map(str::to_owned),
        last_step: None,
        confirmed_at,
        created_at: now,
    };
    let stored = StoredFactor {
        id: factor.id.clone(),
        aidant_id: factor.aidant_id.clone(),
        kind,
        secret: sealing::seal(keys, &factor.secret, row(&factor.id)),
        step_seconds: factor.step_seconds,
        card_serial: factor.card_serial.clone(),
        last_step: None,
        confirmed_at,
        created_at: now,
    };
    diesel::insert_into(second_factors::table).values(&stored).execute(conn)?;
    Ok(factor)
}

/// Seals again the factors' secrets (`sealing::reseal`), in one transaction.
pub(crate) fn reseal(conn: &mut DbConnection, keys: &dyn SealingKeys, what: Reseal) -> StoreResult<ResealReport> {
    write_transaction(conn, |conn| {
        let mut query = second_factors::table.select((second_factors::id, second_factors::secret)).into_boxed();
        if what == Reseal::Plaintext {
            query = query.filter(second_factors::secret.not_like(sealing::LIKE_SEALED));
        }
        let rows: Vec<(String, String)> = query.load(conn)?;
        let mut report = ResealReport::default();
        for (id, stored) in rows {
            if let Some(sealed) = sealing::reseal_value(keys, &stored, row(&id), &mut report)? {
                diesel::update(second_factors::table.find(&id).filter(second_factors::secret.eq(&stored)))
                    .set(second_factors::secret.eq(sealed))
                    .execute(conn)?;
            }
        }
        Ok(report)
    })
}

fn valid_step(step_seconds: i32) -> StoreResult<i32> {
    match step_seconds {
        30 | 60 => Ok(step_seconds),
        _ => Err(StoreError::InvalidField { field: "step_seconds", reason: "30 or 60".into() }),
    }
}

/// A TOTP secret as authenticators and cards give it: RFC 4648 base32 (upper case, padding and
/// spaces dropped), at least 80 bits (RFC 4226 §4 asks for 128, cards in use carry 80).
pub fn valid_secret(secret: &str) -> StoreResult<String> {
    let normalised: String = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &normalised);
    match bytes {
        Some(bytes) if bytes.len() >= 10 => Ok(normalised),
        Some(_) => Err(StoreError::InvalidField {
            field: "secret",
            reason: "too short (at least 16 base32 characters)".into(),
        }),
        None => {
            Err(StoreError::InvalidField { field: "secret", reason: "not base32 (letters A-Z and digits 2-7)".into() })
        }
    }
}

/// Spends time step `step` of a confirmed factor unless that step (or a later one) was already
/// used: a code works once, even across replicas (the check and the write are one statement).
pub fn accept_step(conn: &mut DbConnection, factor_id: &str, step: i64) -> StoreResult<bool> {
    let updated = diesel::update(
        second_factors::table
            .find(factor_id)
            .filter(second_factors::confirmed_at.is_not_null())
            .filter(second_factors::last_step.is_null().or(second_factors::last_step.lt(step))),
    )
    .set(second_factors::last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Confirms a factor waiting for its first code, spending that code's step. Returns `false` if
/// it was already confirmed (or removed meanwhile).
pub fn confirm(conn: &mut DbConnection, factor_id: &str, step: i64, now: NaiveDateTime) -> StoreResult<bool> {
    let updated = diesel::update(second_factors::table.find(factor_id).filter(second_factors::confirmed_at.is_null()))
        .set((second_factors::confirmed_at.eq(Some(now)), second_factors::last_step.eq(Some(step))))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Removes every second factor of the helper (a lost phone or card): they enrol again through
/// a new link. Journalled `second_factor_reset` with the count, who did it and where; a card
/// removed this way can be assigned again. Returns how many were removed.
pub fn reset(
    conn: &mut DbConnection,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    write_transaction(conn, |conn| {
        require_aidant(conn, aidant_id)?;
        let removed =
            diesel::delete(second_factors::table.filter(second_factors::aidant_id.eq(aidant_id))).execute(conn)?;
        let mut entry = NewEntry::new(JournalAction::SecondFactorReset).aidant(aidant_id);
        entry.organisation_id = organisation_id.map(str::to_owned);
        entry.details = Some(serde_json::json!({ "removed": removed, "by": journal::actor(by) }));
        journal::record(conn, entry, now)?;
        Ok(removed)
    })
}
