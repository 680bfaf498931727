//! Physical TOTP cards (60-second step), imported by the operator from the supplier's file and
//! assigned by a manager to one helper, which makes the card that helper's second factor. A
//! card is assigned while a second factor carries its serial.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::aidants;
use crate::db::{write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{second_factors, totp_cards};
use crate::second_factors::{self as factors, FactorKind, SecondFactor};

#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_cards)]
pub struct TotpCard {
    pub serial: String,
    /// Base32; never logged.
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
pub fn import(conn: &mut DbConnection, cards: &[(String, String)], now: NaiveDateTime) -> StoreResult<usize> {
    let mut rows = Vec::with_capacity(cards.len());
    for (serial, secret) in cards {
        let serial = valid_serial(serial)?;
        if rows.iter().any(|row: &TotpCard| row.serial == serial) {
            return Err(StoreError::InvalidField { field: "serial", reason: format!("card {serial} is listed twice") });
        }
        rows.push(TotpCard {
            serial,
            secret: factors::valid_secret(secret)?,
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

pub fn find(conn: &mut DbConnection, serial: &str) -> StoreResult<Option<TotpCard>> {
    Ok(totp_cards::table.find(serial.trim()).select(TotpCard::as_select()).first(conn).optional()?)
}

/// The card with this serial if it is known and no helper holds it.
pub fn find_unassigned(conn: &mut DbConnection, serial: &str) -> StoreResult<Option<TotpCard>> {
    Ok(totp_cards::table
        .find(serial.trim())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            second_factors::table.filter(second_factors::card_serial.eq(totp_cards::serial.nullable())),
        )))
        .select(TotpCard::as_select())
        .first(conn)
        .optional()?)
}

/// Gives the card to the helper as a confirmed second factor. The caller has checked a code
/// from the card first (the person holds it); that code's step is not spent here, so the
/// caller spends it with [`factors::accept_step`] on the returned factor. A card already held
/// by a helper, or unknown, is refused. Journalled `card_assigned` with the serial.
pub fn assign(
    conn: &mut DbConnection,
    serial: &str,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<SecondFactor> {
    write_transaction(conn, |conn| {
        aidants::find(conn, aidant_id)?;
        let card = match find(conn, serial)? {
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
