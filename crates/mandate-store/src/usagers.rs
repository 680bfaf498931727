//! Usagers: the people helped, with the identity an upstream provider verified.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{new_id, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::organisations::require_text;
use crate::schema::usagers;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = usagers)]
pub struct Usager {
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`, with `00` for unknown month or day (FranceConnect's format).
    pub birthdate: String,
    /// `male` or `female`.
    pub gender: String,
    /// INSEE commune code, empty when born abroad.
    pub birthplace: String,
    /// INSEE country code, `99100` for France.
    pub birthcountry: String,
    pub email: String,
    pub phone: Option<String>,
    pub preferred_username: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub locality: Option<String>,
    pub country: Option<String>,
    pub upstream_issuer: String,
    pub upstream_subject: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct NewUsager {
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub gender: String,
    pub birthplace: String,
    pub birthcountry: String,
    pub email: String,
    pub phone: Option<String>,
    pub preferred_username: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub locality: Option<String>,
    pub country: Option<String>,
    pub upstream_issuer: String,
    pub upstream_subject: String,
}

const FRANCE: &str = "99100";

fn is_insee_code(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `YYYY-MM-DD` where month and day may be `00` (unknown), as FranceConnect sends them.
fn is_fc_birthdate(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    let numeric = |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_digit());
    if !(numeric(y, 4) && numeric(m, 2) && numeric(d, 2)) {
        return false;
    }
    let (month, day): (u32, u32) = (m.parse().unwrap_or(99), d.parse().unwrap_or(99));
    month <= 12 && day <= 31 && !(month == 0 && day != 0)
}

fn validate(new: &NewUsager) -> StoreResult<()> {
    if !is_fc_birthdate(&new.birthdate) {
        return Err(StoreError::InvalidField {
            field: "birthdate",
            reason: "expected YYYY-MM-DD (00 for unknown parts)".into(),
        });
    }
    if new.gender != "male" && new.gender != "female" {
        return Err(StoreError::InvalidField { field: "gender", reason: "expected male or female".into() });
    }
    if !is_insee_code(&new.birthcountry) {
        return Err(StoreError::InvalidField {
            field: "birthcountry",
            reason: "expected a 5-character INSEE code".into(),
        });
    }
    let born_in_france = new.birthcountry == FRANCE;
    if born_in_france && !is_insee_code(&new.birthplace) {
        return Err(StoreError::InvalidField {
            field: "birthplace",
            reason: "expected a 5-character INSEE code when born in France".into(),
        });
    }
    if !born_in_france && !new.birthplace.is_empty() {
        return Err(StoreError::InvalidField { field: "birthplace", reason: "must be empty when born abroad".into() });
    }
    crate::domain::Email::parse(&new.email)?;
    Ok(())
}

pub fn create(conn: &mut DbConnection, new: NewUsager, now: NaiveDateTime) -> StoreResult<Usager> {
    validate(&new)?;
    let usager = Usager {
        id: new_id(),
        given_name: require_text("given_name", &new.given_name)?,
        family_name: require_text("family_name", &new.family_name)?,
        birthdate: new.birthdate,
        gender: new.gender,
        birthplace: new.birthplace,
        birthcountry: new.birthcountry,
        email: new.email.trim().to_owned(),
        phone: new.phone,
        preferred_username: new.preferred_username,
        street_address: new.street_address,
        postal_code: new.postal_code,
        locality: new.locality,
        country: new.country,
        upstream_issuer: require_text("upstream_issuer", &new.upstream_issuer)?,
        upstream_subject: require_text("upstream_subject", &new.upstream_subject)?,
        created_at: now,
    };
    diesel::insert_into(usagers::table).values(&usager).execute(conn)?;
    Ok(usager)
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Usager> {
    usagers::table.find(id).select(Usager::as_select()).first(conn).optional()?.ok_or(StoreError::NotFound("usager"))
}

pub fn find_by_upstream(conn: &mut DbConnection, issuer: &str, subject: &str) -> StoreResult<Option<Usager>> {
    Ok(usagers::table
        .filter(usagers::upstream_issuer.eq(issuer))
        .filter(usagers::upstream_subject.eq(subject))
        .select(Usager::as_select())
        .first(conn)
        .optional()?)
}

/// An identity as an upstream provider verified it (FranceConnect's pivot identity and more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamIdentity {
    pub issuer: String,
    pub subject: String,
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub gender: String,
    pub birthplace: String,
    pub birthcountry: String,
    pub email: String,
    pub preferred_username: Option<String>,
}

/// Who came back from upstream: a usager already known by (issuer, subject), or a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Known(Usager),
    Created(Usager),
}

impl Recorded {
    pub fn usager(&self) -> &Usager {
        match self {
            Recorded::Known(u) | Recorded::Created(u) => u,
        }
    }
}

/// Records an identity verified upstream: the same person (issuer, subject) is found again and
/// their identity refreshed, never duplicated; a new one is created. Journalled (ids only) as
/// usager created and identity verified, by `aidant_id` for `organisation_id`, in one transaction.
pub fn record_upstream_identity(
    conn: &mut DbConnection,
    identity: UpstreamIdentity,
    aidant_id: &str,
    organisation_id: &str,
    now: NaiveDateTime,
) -> StoreResult<Recorded> {
    let new = NewUsager {
        given_name: identity.given_name,
        family_name: identity.family_name,
        birthdate: identity.birthdate,
        gender: identity.gender,
        birthplace: identity.birthplace,
        birthcountry: identity.birthcountry,
        email: identity.email,
        preferred_username: identity.preferred_username.filter(|p| !p.trim().is_empty()),
        upstream_issuer: identity.issuer,
        upstream_subject: identity.subject,
        ..Default::default()
    };
    validate(&new)?;
    crate::db::write_transaction(conn, |conn| {
        let recorded = match find_by_upstream(conn, &new.upstream_issuer, &new.upstream_subject)? {
            Some(known) => {
                diesel::update(usagers::table.find(&known.id))
                    .set((
                        usagers::given_name.eq(new.given_name.trim()),
                        usagers::family_name.eq(new.family_name.trim()),
                        usagers::birthdate.eq(&new.birthdate),
                        usagers::gender.eq(&new.gender),
                        usagers::birthplace.eq(&new.birthplace),
                        usagers::birthcountry.eq(&new.birthcountry),
                        usagers::email.eq(new.email.trim()),
                        usagers::preferred_username.eq(&new.preferred_username),
                    ))
                    .execute(conn)?;
                Recorded::Known(find(conn, &known.id)?)
            }
            None => {
                let usager = create(conn, new.clone(), now)?;
                crate::journal::record(
                    conn,
                    crate::journal::NewEntry::new(crate::journal::JournalAction::UsagerCreated)
                        .aidant(aidant_id)
                        .organisation(organisation_id)
                        .usager(&usager.id),
                    now,
                )?;
                Recorded::Created(usager)
            }
        };
        crate::journal::record(
            conn,
            crate::journal::NewEntry::new(crate::journal::JournalAction::UsagerIdentityVerified)
                .aidant(aidant_id)
                .organisation(organisation_id)
                .usager(&recorded.usager().id)
                .details(serde_json::json!({"upstream_issuer": new.upstream_issuer})),
            now,
        )?;
        Ok(recorded)
    })
}

/// Records a usager an operator adds by hand (identity checked outside this service), journalled
/// as created, in one transaction.
pub fn add_by_operator(conn: &mut DbConnection, new: NewUsager, now: NaiveDateTime) -> StoreResult<Usager> {
    crate::db::write_transaction(conn, |conn| {
        let usager = create(conn, new, now)?;
        crate::journal::record(
            conn,
            crate::journal::NewEntry::new(crate::journal::JournalAction::UsagerCreated)
                .usager(&usager.id)
                .details(serde_json::json!({"by": "operator"})),
            now,
        )?;
        Ok(usager)
    })
}

/// Every usager not erased, sorted by family name, optionally filtered by words of their names.
/// (An erased usager's row only keeps their id: see [`crate::erasure`].)
pub fn list(conn: &mut DbConnection, search: Option<&str>) -> StoreResult<Vec<Usager>> {
    let mut found: Vec<Usager> = usagers::table
        .filter(usagers::erased_at.is_null())
        .order((usagers::family_name.asc(), usagers::given_name.asc()))
        .select(Usager::as_select())
        .load(conn)?;
    if let Some(term) = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        found.retain(|u| u.matches(&term));
    }
    Ok(found)
}

impl Usager {
    /// Whether every word of a lower-cased search term appears in the usager's names.
    pub fn matches(&self, term: &str) -> bool {
        let haystack =
            format!("{} {} {}", self.given_name, self.family_name, self.preferred_username.as_deref().unwrap_or(""))
                .to_lowercase();
        term.split_whitespace().all(|word| haystack.contains(word))
    }
}

#[cfg(test)]
mod tests {
    use super::is_fc_birthdate;

    #[test]
    fn franceconnect_birthdates() {
        for ok in ["1950-03-12", "1950-03-00", "1950-00-00"] {
            assert!(is_fc_birthdate(ok), "{ok}");
        }
        for bad in ["1950-03", "1950", "1950-13-01", "1950-00-05", "50-03-12", "1950-3-12"] {
            assert!(!is_fc_birthdate(bad), "{bad}");
        }
    }
}
