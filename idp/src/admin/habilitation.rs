//! `idp aidant habilitation` and `idp aidant show`: a helper's habilitation as the operator
//! records and reads it (training and PIX with their dates; the charter the helper accepted).

use chrono::NaiveDate;
use mandate_store::aidants::{self, Aidant};
use mandate_store::habilitation::{self, HabilitationStep, Requirement, CURRENT_CHARTER_VERSION};
use mandate_store::{now, DbConnection, Email, Store, StoreError};
use serde_json::json;

use super::records::Format;

/// The helper named by their e-mail address or their id.
pub fn find(conn: &mut DbConnection, email_or_id: &str) -> anyhow::Result<Aidant> {
    let found = if email_or_id.contains('@') {
        aidants::find_by_email(conn, &Email::parse(email_or_id)?)?
    } else {
        match aidants::find(conn, email_or_id) {
            Err(StoreError::NotFound(_)) => None,
            other => Some(other?),
        }
    };
    found.ok_or_else(|| anyhow::anyhow!("aidant not found: no helper has the e-mail or id {email_or_id:?}"))
}

/// What the helper lacks, in words, or "habilitated".
pub fn status(aidant: &Aidant) -> String {
    let missing = habilitation::missing(aidant);
    if missing.is_empty() {
        return "habilitated".to_owned();
    }
    let words: Vec<&str> = missing
        .iter()
        .map(|r| match r {
            Requirement::Training => "training",
            Requirement::Pix => "PIX certification",
            Requirement::Charter => "charter acceptance",
        })
        .collect();
    format!("in habilitation, missing: {}", words.join(", "))
}

/// Records the training day and/or the PIX certification (by the operator), then prints the
/// helper's habilitation status.
pub fn record(
    store: &Store,
    email_or_id: &str,
    training: Option<NaiveDate>,
    pix: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let mut conn = store.conn()?;
    let aidant = find(&mut conn, email_or_id)?;
    for (step, on) in [(HabilitationStep::Training, training), (HabilitationStep::Pix, pix)] {
        if let Some(on) = on {
            habilitation::record(&mut conn, &aidant.id, step, on, None, None, now())?;
            eprintln!("{} recorded on {on} for aidant {}", step.key(), aidant.id);
        }
    }
    let aidant = aidants::find(&mut conn, &aidant.id)?;
    println!("aidant {}: {}", aidant.id, status(&aidant));
    Ok(())
}

pub fn show(store: &Store, email_or_id: &str, format: Format) -> anyhow::Result<()> {
    let mut conn = store.conn()?;
    let aidant = find(&mut conn, email_or_id)?;
    let organisations = aidants::organisations_of(&mut conn, &aidant.id)?;
    let missing = habilitation::missing(&aidant);
    match format {
        Format::Json => {
            let value = json!({
                "id": aidant.id,
                "email": aidant.email,
                "given_name": aidant.given_name,
                "family_name": aidant.family_name,
                "profession": aidant.profession,
                "active": aidant.active,
                "current_organisation_id": aidant.current_organisation_id,
                "organisations": organisations.iter().map(|o| json!({"id": o.id, "name": o.name})).collect::<Vec<_>>(),
                "habilitation": {
                    "habilitated": missing.is_empty(),
                    "missing": missing.iter().map(|r| r.key()).collect::<Vec<_>>(),
                    "training_date": aidant.training_date,
                    "pix_date": aidant.pix_date,
                    "charter_version": aidant.charter_version,
                    "current_charter_version": CURRENT_CHARTER_VERSION,
                },
            });
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        Format::Text => {
            let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "not recorded".to_owned());
            println!("aidant {}", aidant.id);
            println!("  name: {} {} ({})", aidant.given_name, aidant.family_name, aidant.profession);
            println!("  email: {}", aidant.email);
            println!("  active: {}", if aidant.active { "yes" } else { "no" });
            for o in &organisations {
                let current = if o.id == aidant.current_organisation_id { " (current)" } else { "" };
                println!("  organisation: {} {}{current}", o.id, o.name);
            }
            println!("  habilitation: {}", status(&aidant));
            println!("    training: {}", or_none(&aidant.training_date));
            println!("    PIX: {}", or_none(&aidant.pix_date));
            println!(
                "    charter: {} (in force: {CURRENT_CHARTER_VERSION})",
                aidant.charter_version.as_deref().map_or("never accepted".to_owned(), |v| format!("version {v}"))
            );
        }
    }
    Ok(())
}
