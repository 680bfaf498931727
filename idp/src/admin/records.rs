//! `idp usager …` and `idp mandate list|show`: the records an operator reads and adds, printed
//! for people (aligned text) or for scripts (`--format json`).

use anyhow::Context;
use mandate_store::mandates::{self, MandateWithAuthorisations};
use mandate_store::usagers::{self, NewUsager, Usager};
use mandate_store::{now, Store};
use serde_json::json;

/// The issuer recorded for a usager an operator adds by hand.
pub const OPERATOR_ISSUER: &str = "urn:aidants-idp:operator";

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

/// How list and show commands print: for people, or for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Records a usager; `new` carries no upstream identity when the operator checked it by hand.
pub fn add_usager(store: &Store, mut new: NewUsager) -> anyhow::Result<()> {
    if new.upstream_issuer.is_empty() {
        new.upstream_issuer = OPERATOR_ISSUER.to_owned();
        new.upstream_subject = uuid::Uuid::new_v4().to_string();
    }
    let usager = usagers::add_by_operator(&mut *store.conn()?, new, now())?;
    print_json(&serde_json::to_value(usager)?);
    Ok(())
}

pub fn list_usagers(store: &Store, search: Option<&str>, format: Format) -> anyhow::Result<()> {
    let found = usagers::list(&mut *store.conn()?, search)?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&found)?),
        Format::Text if found.is_empty() => println!("no usager"),
        Format::Text => {
            for u in &found {
                println!("{}  {} {}  born {}", u.id, u.given_name, u.family_name, u.birthdate);
            }
        }
    }
    Ok(())
}

pub fn show_usager(store: &Store, usager_id: &str, format: Format) -> anyhow::Result<()> {
    let mut conn = store.conn()?;
    let usager = usagers::find(&mut conn, usager_id).with_context(|| format!("usager {usager_id}"))?;
    let found = mandates::list(&mut conn, None, Some(usager_id))?;
    match format {
        Format::Json => print_json(&json!({"usager": usager, "mandates": found})),
        Format::Text => {
            print_usager(&usager);
            println!("mandates: {}", found.len());
            for m in &found {
                println!("  {}", mandate_line(m));
            }
        }
    }
    Ok(())
}

fn print_usager(u: &Usager) {
    println!("usager {}", u.id);
    println!("  name: {} {}", u.given_name, u.family_name);
    println!(
        "  born: {} (place {}, country {})",
        u.birthdate,
        if u.birthplace.is_empty() { "-" } else { &u.birthplace },
        u.birthcountry
    );
    println!("  email: {}", u.email);
    println!("  verified by: {} (subject {})", u.upstream_issuer, u.upstream_subject);
}

fn mandate_line(m: &MandateWithAuthorisations) -> String {
    let demarches: Vec<String> = m
        .authorisations
        .iter()
        .map(|a| if a.revoked_at.is_some() { format!("{} (revoked)", a.demarche) } else { a.demarche.to_string() })
        .collect();
    format!(
        "{}  {:?}  organisation {}  usager {}  {} → {}  [{}]",
        m.mandate.id,
        m.status(now()),
        m.mandate.organisation_id,
        m.mandate.usager_id,
        m.mandate.created_at.format("%Y-%m-%d"),
        m.mandate.expires_at.format("%Y-%m-%d"),
        demarches.join(", ")
    )
}

pub fn list_mandates(
    store: &Store,
    organisation: Option<&str>,
    usager: Option<&str>,
    format: Format,
) -> anyhow::Result<()> {
    let found = mandates::list(&mut *store.conn()?, organisation, usager)?;
    match format {
        Format::Json => print_json(&serde_json::to_value(&found)?),
        Format::Text if found.is_empty() => println!("no mandate"),
        Format::Text => found.iter().for_each(|m| println!("{}", mandate_line(m))),
    }
    Ok(())
}

pub fn show_mandate(store: &Store, mandate_id: &str, format: Format) -> anyhow::Result<()> {
    let found = mandates::find(&mut *store.conn()?, mandate_id).with_context(|| format!("mandate {mandate_id}"))?;
    match format {
        Format::Json => print_json(&json!({"status": found.status(now()), "mandate": found})),
        Format::Text => {
            let m = &found.mandate;
            println!("mandate {} ({:?})", m.id, found.status(now()));
            println!("  organisation: {}", m.organisation_id);
            println!("  usager: {}", m.usager_id);
            println!("  signed by aidant: {}", m.created_by_aidant_id);
            println!("  created: {}  expires: {}  duration: {}", m.created_at, m.expires_at, m.duration_kind.key());
            if let Some(at) = m.revoked_at {
                let by =
                    if m.revoked_by_usager { "the usager" } else { m.revoked_by_aidant_id.as_deref().unwrap_or("-") };
                println!("  revoked: {at} by {by}");
            }
            if let Some(from) = &m.renewed_from_id {
                println!("  renews: {from}");
            }
            println!("  attestation: {}", m.attestation_hash.as_deref().unwrap_or("none"));
            for a in &found.authorisations {
                let state = a.revoked_at.map_or("in force".to_owned(), |at| format!("revoked {at}"));
                println!("  authorisation {}  {}  {state}", a.id, a.demarche);
            }
        }
    }
    Ok(())
}
