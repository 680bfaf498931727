//! `idp org add|list|show|update`: organisations as the operator registers and corrects them,
//! printed for people (aligned text) or for scripts (`--format json`).

use anyhow::Context;
use mandate_store::organisations::{self, NewOrganisation, Organisation, OrganisationUpdate};
use mandate_store::{now, DbConnection, Siret, Store, StoreError};

use super::records::Format;

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

/// The organisation named by its id or its SIRET.
pub fn find(conn: &mut DbConnection, id_or_siret: &str) -> anyhow::Result<Organisation> {
    let by_siret = match Siret::parse(id_or_siret) {
        Ok(siret) => organisations::find_by_siret(conn, &siret)?,
        Err(_) => None,
    };
    match by_siret {
        Some(found) => Ok(found),
        None => match organisations::find(conn, id_or_siret) {
            Err(StoreError::NotFound(_)) => {
                anyhow::bail!(
                    "organisation not found: no organisation has the id or SIRET {id_or_siret:?} (idp org list)"
                )
            }
            other => Ok(other?),
        },
    }
}

pub fn add(store: &Store, new: NewOrganisation) -> anyhow::Result<()> {
    let created = organisations::create(&mut *store.conn()?, new, now())?;
    print_json(&serde_json::to_value(created)?);
    Ok(())
}

pub fn list(store: &Store, format: Format) -> anyhow::Result<()> {
    let all = organisations::list(&mut *store.conn()?)?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&all)?),
        Format::Text if all.is_empty() => println!("no organisation"),
        Format::Text => {
            for o in &all {
                println!("{}  {}  {}  {}, {}", o.id, o.siret, o.name, o.organisation_type.label_en(), department(o));
            }
        }
    }
    Ok(())
}

pub fn show(store: &Store, id_or_siret: &str, format: Format) -> anyhow::Result<()> {
    let found = find(&mut *store.conn()?, id_or_siret)?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&found)?),
        Format::Text => print_organisation(&found),
    }
    Ok(())
}

/// Applies `update`, prints the organisation as it is now (JSON) and says on standard error
/// which fields changed.
pub fn update(store: &Store, id_or_siret: &str, update: OrganisationUpdate) -> anyhow::Result<()> {
    let mut conn = store.conn()?;
    let before = find(&mut conn, id_or_siret)?;
    let after = organisations::update(&mut conn, &before.id, update, None, now())
        .with_context(|| format!("organisation {}", before.id))?;
    if after == before {
        eprintln!("organisation {}: nothing changed", after.id);
    } else {
        eprintln!("organisation {} updated", after.id);
    }
    print_json(&serde_json::to_value(&after)?);
    Ok(())
}

fn department(o: &Organisation) -> String {
    if o.department_code.is_empty() {
        "department not given".to_owned()
    } else {
        format!("department {} ({})", o.department_code, o.region)
    }
}

fn print_organisation(o: &Organisation) {
    println!("organisation {}", o.id);
    println!("  name: {}", o.name);
    println!("  SIRET: {}", o.siret);
    println!("  type: {} ({})", o.organisation_type.label_en(), o.organisation_type.key());
    println!("  address: {}, {} {}", o.address, o.postcode, o.city);
    if o.department_code.is_empty() {
        println!("  department: not given (region {:?} as registered)", o.region);
    } else {
        println!("  department: {}, region {} ({})", o.department_code, o.region_code, o.region);
    }
    let demarches: Vec<&str> = o.demarches().iter().map(|d| d.key()).collect();
    println!("  démarches offered: {}", demarches.join(", "));
    println!("  registered: {}", o.created_at.format("%Y-%m-%d %H:%M UTC"));
}
