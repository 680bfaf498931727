//! `idp secrets …`: the keys that seal secrets at rest (`crate::sealing_keys`), and the
//! re-sealing of the stored secrets after a rotation.

use mandate_store::sealing::{Reseal, SealingKeys as _};
use mandate_store::{resealing, Store};
use serde_json::json;

use crate::configuration::Settings;
use crate::sealing_keys;

#[derive(Debug, clap::Subcommand)]
pub enum SecretsCommand {
    /// Make a new sealing key and seal every stored secret with it (TOTP secrets, the server's
    /// own keys), and any left from before secrets were sealed; prints what was done as JSON.
    ///
    /// The previous keys stay in the keys folder: replicas still running may seal with one of
    /// them for up to `keys.recheck_interval_ms`, and a backup of the database needs them.
    /// `idp secrets list` shows how many secrets each key still seals.
    Rotate,
    /// List the sealing keys (oldest first, the last one seals) and how many stored secrets each
    /// seals, as JSON.
    List,
}

pub fn run(command: SecretsCommand, settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let out = match command {
        SecretsCommand::Rotate => {
            // The new key first: what `prepare` seals from before sealing is sealed with it.
            let made = sealing_keys::create(&settings.keys.dir)?;
            let (keys, mut report) = sealing_keys::prepare_and_report(settings, store)?;
            let keyring = keys.keyring();
            anyhow::ensure!(
                keyring.current().id() == made.id,
                "a newer sealing key appeared in {} during the rotation: run it again",
                settings.keys.dir.display()
            );
            report += resealing::reseal(&mut *store.conn()?, &keyring, Reseal::Everything)?;
            json!({
                "key": made.id,
                "file": made.path,
                "resealed": report.resealed,
                "sealed_from_plaintext": report.sealed_from_plaintext,
            })
        }
        SecretsCommand::List => {
            let census = resealing::census(&mut *store.conn()?)?;
            let files = sealing_keys::scan(&settings.keys.dir)?;
            let keys: Vec<_> = files
                .iter()
                .map(|file| {
                    json!({
                        "key": file.id,
                        "created_at": file.created_at.to_rfc3339(),
                        "file": file.path,
                        "seals": census.get(&Some(file.id.clone())).copied().unwrap_or(0),
                    })
                })
                .collect();
            let missing: Vec<_> = census
                .iter()
                .filter_map(|(id, count)| {
                    let id = id.as_ref()?;
                    (!files.iter().any(|f| &f.id == id)).then(|| json!({ "key": id, "seals": count }))
                })
                .collect();
            json!({
                "keys": keys,
                "missing_keys": missing,
                "not_sealed": census.get(&None).copied().unwrap_or(0),
            })
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
