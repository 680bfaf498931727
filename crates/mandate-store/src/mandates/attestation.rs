//! A mandate's attestation: the data printed on it, in one canonical form, and its hash.
//!
//! The hash is SHA-256 over the canonical data (which names the template version) and a
//! per-mandate salt. It is written into the journal when the mandate is created, with one
//! salted hash per field, so that `idp attestation verify` can recompute it from the stored rows
//! and, when it differs, say which field changed, while the journal holds no personal data.
//!
//! Canonical form, so that anyone can recompute it: one line per field, `path=value\n`, sorted by
//! path; dates as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), démarches as their keys joined
//! by `,` in their stored order. The hash is `SHA-256("aidants-idp attestation\n" + salt + "\n" +
//! lines)`; a field's hash is `SHA-256(salt + "\n" + path + "=" + value)`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Mandate;
use crate::aidants;
use crate::db::DbConnection;
use crate::domain::{Demarche, DurationKind};
use crate::error::{StoreError, StoreResult};
use crate::journal::{JournalAction, JournalEntry};
use crate::organisations::{self, Organisation};
use crate::schema::{authorisations, journal_entries};
use crate::usagers::{self, Usager};

/// The version of the mandate text the attestation prints. A change of wording is a new version;
/// the version is part of the hash.
pub const TEMPLATE_VERSION: &str = "mandat-v1-2026-11";

/// Everything the attestation states, read from the stored rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationData {
    pub template_version: String,
    pub mandate: Mandate,
    pub demarches: Vec<Demarche>,
    pub organisation: Organisation,
    pub aidant: AidantParty,
    pub usager: Usager,
}

/// The helper as the attestation names them (no credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AidantParty {
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub profession: String,
}

fn timestamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl AttestationData {
    /// The fields the attestation states, by path (sorted).
    pub fn fields(&self) -> BTreeMap<&'static str, String> {
        let m = &self.mandate;
        let o = &self.organisation;
        let a = &self.aidant;
        let u = &self.usager;
        BTreeMap::from([
            ("template_version", self.template_version.clone()),
            ("mandate.id", m.id.clone()),
            ("mandate.created_at", timestamp(m.created_at)),
            ("mandate.expires_at", timestamp(m.expires_at)),
            ("mandate.duration", m.duration_kind.key().to_owned()),
            ("mandate.remote", m.is_remote.to_string()),
            ("mandate.demarches", self.demarches.iter().map(|d| d.key()).collect::<Vec<_>>().join(",")),
            ("mandate.place", o.city.clone()),
            ("organisation.id", o.id.clone()),
            ("organisation.name", o.name.clone()),
            ("organisation.siret", o.siret.clone()),
            ("organisation.address", format!("{}, {} {}", o.address, o.postcode, o.city)),
            ("aidant.id", a.id.clone()),
            ("aidant.name", format!("{} {}", a.given_name, a.family_name)),
            ("aidant.profession", a.profession.clone()),
            ("usager.id", u.id.clone()),
            ("usager.given_name", u.given_name.clone()),
            ("usager.family_name", u.family_name.clone()),
            ("usager.birthdate", u.birthdate.clone()),
            ("usager.gender", u.gender.clone()),
            ("usager.birthplace", u.birthplace.clone()),
            ("usager.birthcountry", u.birthcountry.clone()),
        ])
    }

    /// The canonical text the hash covers (without the salt).
    pub fn canonical(&self) -> String {
        self.fields().iter().map(|(path, value)| format!("{path}={value}\n")).collect()
    }

    pub fn hash(&self, salt: &str) -> String {
        let mut digest = Sha256::new();
        digest.update(b"aidants-idp attestation\n");
        digest.update(salt.as_bytes());
        digest.update(b"\n");
        digest.update(self.canonical().as_bytes());
        hex::encode(digest.finalize())
    }

    pub fn field_hashes(&self, salt: &str) -> BTreeMap<&'static str, String> {
        self.fields()
            .into_iter()
            .map(|(path, value)| (path, hex::encode(Sha256::digest(format!("{salt}\n{path}={value}").as_bytes()))))
            .collect()
    }

    /// What the journal records when the mandate is created: hashes only.
    pub fn journal_details(&self, salt: &str) -> serde_json::Value {
        serde_json::json!({
            "attestation_sha256": self.hash(salt),
            "template_version": self.template_version,
            "field_sha256": self.field_hashes(salt),
            "demarches": self.demarches,
            "duration": self.mandate.duration_kind,
        })
    }
}

/// Reads what a mandate's attestation states from the stored rows.
pub fn data(conn: &mut DbConnection, mandate: &Mandate) -> StoreResult<AttestationData> {
    let demarches: Vec<Demarche> = authorisations::table
        .filter(authorisations::mandate_id.eq(&mandate.id))
        .order(authorisations::demarche.asc())
        .select(authorisations::demarche)
        .load(conn)?;
    let mut demarches = demarches;
    demarches.sort();
    Ok(AttestationData {
        template_version: mandate.template_version.clone().unwrap_or_else(|| TEMPLATE_VERSION.to_owned()),
        mandate: mandate.clone(),
        demarches,
        organisation: organisations::find(conn, &mandate.organisation_id)?,
        aidant: {
            let a = aidants::find(conn, &mandate.created_by_aidant_id)?;
            AidantParty { id: a.id, given_name: a.given_name, family_name: a.family_name, profession: a.profession }
        },
        usager: usagers::find(conn, &mandate.usager_id)?,
    })
}

/// A new random salt (128 bits, hex).
pub fn new_salt() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// The stored data hashes to what the journal recorded at creation.
    Matches { attestation_sha256: String, journal_seq: i64 },
    /// It does not; `fields` names the fields whose hashes differ (empty when the journal entry
    /// carries no field hashes, or only the salt or template changed).
    Differs { recorded: String, recomputed: String, fields: Vec<String> },
    /// The mandate has no attestation hash, or the journal has no creation entry for it.
    NotRecorded,
}

/// Recomputes a mandate's attestation hash from the stored rows and compares it with the one the
/// journal recorded when the mandate was created.
pub fn verify(conn: &mut DbConnection, mandate_id: &str) -> StoreResult<Verification> {
    let found = super::find(conn, mandate_id)?;
    crate::journal::catch_up(conn)?;
    let entry: Option<JournalEntry> = journal_entries::table
        .filter(journal_entries::mandate_id.eq(mandate_id))
        .filter(journal_entries::action.eq(JournalAction::MandateCreated))
        .order(journal_entries::seq.asc())
        .select(JournalEntry::as_select())
        .first(conn)
        .optional()?;
    let (Some(entry), Some(salt)) = (entry, found.mandate.attestation_salt.clone()) else {
        return Ok(Verification::NotRecorded);
    };
    let details = entry.details.as_ref().map(|d| d.value().clone()).unwrap_or_default();
    let Some(recorded) = details.get("attestation_sha256").and_then(|v| v.as_str()).map(str::to_owned) else {
        return Ok(Verification::NotRecorded);
    };
    let data = data(conn, &found.mandate)?;
    let recomputed = data.hash(&salt);
    if recomputed == recorded {
        return Ok(Verification::Matches { attestation_sha256: recorded, journal_seq: entry.seq });
    }
    let recorded_fields = details.get("field_sha256").and_then(|v| v.as_object()).cloned().unwrap_or_default();
    let now_fields = data.field_hashes(&salt);
    let mut fields: Vec<String> = now_fields
        .iter()
        .filter(|(path, hash)| recorded_fields.get(**path).and_then(|v| v.as_str()) != Some(hash.as_str()))
        .map(|(path, _)| (*path).to_owned())
        .collect();
    fields.extend(recorded_fields.keys().filter(|k| !now_fields.contains_key(k.as_str())).cloned());
    Ok(Verification::Differs { recorded, recomputed, fields })
}

/// The stored attestation hash of a mandate that has one (for pages and the QR code).
pub fn stored_hash(mandate: &Mandate) -> StoreResult<&str> {
    mandate.attestation_hash.as_deref().ok_or(StoreError::NotFound("attestation"))
}

/// Journals that a helper displayed (to print) a mandate's attestation, in a language.
pub fn record_printed(
    conn: &mut DbConnection,
    mandate: &Mandate,
    aidant_id: &str,
    language: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    crate::journal::record(
        conn,
        crate::journal::NewEntry::new(JournalAction::AttestationPrinted)
            .aidant(aidant_id)
            .organisation(&mandate.organisation_id)
            .usager(&mandate.usager_id)
            .mandate(&mandate.id)
            .details(serde_json::json!({
                "attestation_sha256": mandate.attestation_hash,
                "language": language,
            })),
        now,
    )?;
    Ok(())
}

/// The duration kinds the mandate form offers (never `Custom`).
pub const OFFERED_DURATIONS: [DurationKind; 4] =
    [DurationKind::Short, DurationKind::Month, DurationKind::Semester, DurationKind::Long];

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AttestationData {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap().and_hms_micro_opt(9, 30, 12, 345_678).unwrap();
        AttestationData {
            template_version: TEMPLATE_VERSION.into(),
            mandate: Mandate {
                id: "m1".into(),
                organisation_id: "o1".into(),
                usager_id: "u1".into(),
                created_by_aidant_id: "a1".into(),
                created_at: at,
                expires_at: at + chrono::Duration::days(182),
                duration_kind: DurationKind::Semester,
                is_remote: false,
                consent_proof: None,
                attestation_hash: None,
                revoked_at: None,
                revoked_by_aidant_id: None,
                attestation_salt: None,
                template_version: None,
                renewed_from_id: None,
                revoked_by_usager: false,
            },
            demarches: vec![Demarche::Famille, Demarche::Logement],
            organisation: Organisation {
                id: "o1".into(),
                name: "France Services".into(),
                siret: "21750001600019".into(),
                address: "1 place de la Mairie".into(),
                postcode: "75013".into(),
                city: "Paris".into(),
                region: "Île-de-France".into(),
                created_at: at,
                organisation_type: crate::OrganisationType::FranceServices,
                department_code: "75".into(),
                region_code: "11".into(),
                demarches: crate::domain::DemarcheList(Demarche::ALL.to_vec()),
            },
            aidant: AidantParty {
                id: "a1".into(),
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                profession: "Conseillère France Services".into(),
            },
            usager: Usager {
                id: "u1".into(),
                given_name: "Angela Claire Louise".into(),
                family_name: "DUBOIS".into(),
                birthdate: "1962-08-24".into(),
                gender: "female".into(),
                birthplace: "75107".into(),
                birthcountry: "99100".into(),
                email: "angela.dubois@example.fr".into(),
                phone: None,
                preferred_username: None,
                street_address: None,
                postal_code: None,
                locality: None,
                country: None,
                upstream_issuer: "https://upstream.example".into(),
                upstream_subject: "s1".into(),
                created_at: at,
            },
        }
    }

    #[test]
    fn canonical_text_is_sorted_lines_with_whole_second_dates() {
        let text = sample().canonical();
        let lines: Vec<&str> = text.lines().collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        assert!(lines.contains(&"mandate.created_at=2026-11-29T09:30:12Z"), "{text}");
        assert!(lines.contains(&"mandate.demarches=famille,logement"), "{text}");
        assert!(lines.contains(&format!("template_version={TEMPLATE_VERSION}").as_str()), "{text}");
    }

    #[test]
    fn the_hash_depends_on_salt_and_every_field() {
        let data = sample();
        assert_ne!(data.hash("aa"), data.hash("bb"));
        let mut changed = data.clone();
        changed.usager.birthdate = "1962-08-25".into();
        assert_ne!(data.hash("aa"), changed.hash("aa"));
        let before = data.field_hashes("aa");
        let after = changed.field_hashes("aa");
        let differing: Vec<_> = before.iter().filter(|(k, v)| after[*k] != **v).map(|(k, _)| *k).collect();
        assert_eq!(differing, vec!["usager.birthdate"]);
    }
}
