//! Physical TOTP cards (60-second step), imported by the operator from the supplier's file and
//! assigned by a manager to one helper, which makes the card that helper's second factor. A
//! card is assigned while a second factor carries its serial. A card's secret is sealed for
//! its serial (`sealing`), and sealed again for the factor it becomes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::aidants;
use crate::db::{write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{second_factors, totp_cards};
use crate::sealing::{self, Reseal, ResealReport, RowIdentity, SealingKeys};
use crate::second_factors::{self as factors, FactorKind, SecondFactor};

/// A card as the server uses it: its secret opened.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCard {
    pub serial: String,
    /// Base32; never logged; sealed in the store.
    pub secret: String,
    pub step_seconds: i32,
    pub imported_at: NaiveDateTime,
}

impl std::fmt::Debug for TotpCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpCard")
            .field("serial", &self.serial)
            .field("secret", &"<redacted>")
            .field("step_seconds", &self.step_seconds)
            .field("imported_at", &self.imported_at)
            .finish()
    }
}

/// A card as stored: its secret sealed for its serial.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_cards)]
struct StoredCard {
    serial: String,
    secret: String,
    step_seconds: i32,
    imported_at: NaiveDateTime,
}

impl StoredCard {
    fn open(self, keys: &dyn SealingKeys) -> StoreResult<TotpCard> {
        let secret = sealing::open_column(keys, &self.secret, row(&self.serial))?;
        Ok(TotpCard { serial: self.serial, secret, step_seconds: self.step_seconds, imported_at: self.imported_at })
    }
}

fn row(serial: &str) -> RowIdentity<'_> {
    RowIdentity { table: "totp_cards", id: serial }
}

/// A card serial as printed on the card: letters, digits and dashes, up to 64 characters.
pub fn valid_serial(serial: &str) -> StoreResult<String> {
    let serial = serial.trim();
    if serial.is_empty() || serial.len() > 64 || !serial.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(StoreError::InvalidField {
            field: "serial",
            reason: format!("{serial:?} is not a card serial (letters, digits and dashes)"),
        });
    }
    Ok(serial.to_owned())
}

/// Imports cards (serial, base32 secret) in one transaction: all of them, or none if one is
/// invalid or its serial is already known (in the store or earlier in the list). Journalled
/// `cards_imported` with the count. Returns how many were imported.
pub fn import(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    cards: &[(String, String)],
    now: NaiveDateTime,
) -> StoreResult<usize> {
    let mut rows = Vec::with_capacity(cards.len());
    for (serial, secret) in cards {
        let serial = valid_serial(serial)?;
        if rows.iter().any(|row: &StoredCard| row.serial == serial) {
            return Err(StoreError::InvalidField { field: "serial", reason: format!("card {serial} is listed twice") });
        }
        rows.push(StoredCard {
            secret: sealing::seal(keys, &factors::valid_secret(secret)?, row(&serial)),
            serial,
            step_seconds: FactorKind::Card.step_seconds(),
            imported_at: now,
        });
    }
    write_transaction(conn, |conn| {
        for row in &rows {
            let known: bool =
                diesel::select(diesel::dsl::exists(totp_cards::table.find(&row.serial))).get_result(conn)?;
            if known {
                return Err(StoreError::InvalidField {
                    field: "serial",
                    reason: format!("card {} is already imported", row.serial),
                });
            }
        }
        // One statement per card: batch inserts are not in the dialect both backends share.
        for row in &rows {
            diesel::insert_into(totp_cards::table).values(row).execute(conn)?;
        }
        journal::record(
            conn,
            NewEntry::new(JournalAction::CardsImported)
                .details(serde_json::json!({ "count": rows.len(), "by": "operator" })),
            now,
        )?;
        Ok(rows.len())
    })
}

pub fn find(conn: &mut DbConnection, keys: &dyn SealingKeys, serial: &str) -> StoreResult<Option<TotpCard>> {
    totp_cards::table
        .find(serial.trim())
        .select(StoredCard::as_select())
        .first(conn)
        .optional()?
        .map(|card| card.open(keys))
        .transpose()
}

/// Whether a card with this serial was imported.
pub fn exists(conn: &mut DbConnection, serial: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(totp_cards::table.find(serial.trim()))).get_result(conn)?)
}

/// The card with this serial if it is known and no helper holds it.
pub fn find_unassigned(conn: &mut DbConnection, keys: &dyn SealingKeys, serial: &str) -> StoreResult<Option<TotpCard>> {
    totp_cards::table
        .find(serial.trim())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            second_factors::table.filter(second_factors::card_serial.eq(totp_cards::serial.nullable())),
        )))
        .select(StoredCard::as_select())
        .first(conn)
        .optional()?
        .map(|card| card.open(keys))
        .transpose()
}

/// Gives the card to the helper as a confirmed second factor. The caller has checked a code
/// from the card first (the person holds it); that code's step is not spent here, so the
/// caller spends it with [`factors::accept_step`] on the returned factor. A card already held
/// by a helper, or unknown, is refused. Journalled `card_assigned` with the serial.
pub fn assign(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    serial: &str,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<SecondFactor> {
    write_transaction(conn, |conn| {
        aidants::find(conn, aidant_id)?;
        let card = match find(conn, keys, serial)? {
            Some(card) => card,
            None => return Err(StoreError::NotFound("card")),
        };
        let held: bool = diesel::select(diesel::dsl::exists(
            second_factors::table.filter(second_factors::card_serial.eq(&card.serial)),
        ))
        .get_result(conn)?;
        if held {
            return Err(StoreError::InvalidField {
                field: "card",
                reason: format!("card {} is already assigned to a helper", card.serial),
            });
        }
        let factor = factors::insert(
            conn,
            keys,
            aidant_id,
            FactorKind::Card,
            &card.secret,
            card.step_seconds,
            Some(&card.serial),
            Some(now),
            now,
        )?;
        let mut entry = NewEntry::new(JournalAction::CardAssigned)
            .aidant(aidant_id)
            .details(serde_json::json!({ "serial": card.serial, "by": journal::actor(by) }));
        entry.organisation_id = organisation_id.map(str::to_owned);
        journal::record(conn, entry, now)?;
        Ok(factor)
    })
}

/// Seals again the cards' secrets (`sealing::reseal`), in one transaction.
pub(crate) fn reseal(conn: &mut DbConnection, keys: &dyn SealingKeys, what: Reseal) -> StoreResult<ResealReport> {
    write_transaction(conn, |conn| {
        let mut query = totp_cards::table.select((totp_cards::serial, totp_cards::secret)).into_boxed();
        if what == Reseal::Plaintext {
            query = query.filter(totp_cards::secret.not_like(sealing::LIKE_SEALED));
        }
        let rows: Vec<(String, String)> = query.load(conn)?;
        let mut report = ResealReport::default();
        for (serial, stored) in rows {
            if let Some(sealed) = sealing::reseal_value(keys, &stored, row(&serial), &mut report)? {
                diesel::update(totp_cards::table.find(&serial).filter(totp_cards::secret.eq(&stored)))
                    .set(totp_cards::secret.eq(sealed))
                    .execute(conn)?;
            }
        }
        Ok(report)
    })
}
