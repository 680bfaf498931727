//! How fast a journal is exported to a bundle and checked offline, in entries per second.
//!
//! ```sh
//! cargo run --release -p idp --example journal_rate                 # SQLite, 100,000 entries (a debug build works too)
//! cargo run --release -p idp --example journal_rate -- postgres://postgres@127.0.0.1/idp_rate 100000
//! ```
//!
//! Builds a fresh journal of N entries (a checkpoint every 10,000, as a server signing hourly
//! under load would leave), then times `bundle::export` (what `idp journal export` runs) and
//! `verify::verify` (what `idp journal verify-bundle` runs) on it. Prints, asserts nothing.

use std::time::Instant;

use idp::journal_proof::{bundle, checkpoint, verify};
use idp::keys::{KeySet, SigningAlg};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::{Demarche, Store};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args.next().unwrap_or_else(|| format!("sqlite://{}/rate.db", dir.path().display()));
    let entries: i64 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(100_000);
    let store = Store::open_and_migrate(&url, 2)?;
    let keys_dir = dir.path().join("keys");
    idp::keys::generate(&keys_dir, SigningAlg::Rs256)?;
    let keys = KeySet::load(&keys_dir)?;
    let issuer = "https://aidants.example.gouv.fr";
    let mut conn = store.conn()?;

    let started = Instant::now();
    let mut appended = journal::checkpoints::head(&mut conn)?.map_or(0, |h| h.seq);
    while appended < entries {
        // Batches in one transaction: building the journal is not what is measured.
        let batch = (entries - appended).min(10_000);
        mandate_store::write_transaction(&mut conn, |conn| {
            for i in 0..batch - 1 {
                let entry = NewEntry::new(JournalAction::AuthorisationUsed)
                    .aidant("2f1c6c1e-9a53-4a43-a0a5-0c3b6f6d9e11")
                    .organisation("8b0a4f0e-3f0b-4f4e-9a43-5a9e8d2b7c01")
                    .usager("c7d8e9f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
                    .mandate("0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")
                    .authorisation("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
                    .demarche(Demarche::Argent)
                    .client("impots-gouv")
                    .details(serde_json::json!({"grant_type": "authorization_code", "n": appended + i}));
                journal::append(conn, entry, mandate_store::now())?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        checkpoint::sign(&mut conn, &keys, issuer, mandate_store::now())?;
        appended = journal::checkpoints::head(&mut conn)?.map_or(0, |h| h.seq);
    }
    println!("built a journal of {appended} entries in {:.1} s ({url})", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let mut out = Vec::with_capacity(appended as usize * 700);
    let exported = bundle::export(&mut conn, &keys, issuer, None, mandate_store::now(), &mut out)?;
    let export_seconds = started.elapsed().as_secs_f64();
    let lines = exported.last_seq - exported.first_seq + 1;
    println!(
        "export: {lines} entries, {:.1} MB, in {export_seconds:.2} s: {:.0} entries/s",
        out.len() as f64 / 1e6,
        lines as f64 / export_seconds
    );

    let started = Instant::now();
    let report = verify::verify(out.as_slice(), None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let verify_seconds = started.elapsed().as_secs_f64();
    println!(
        "verify-bundle: {} entries, {} checkpoints, in {verify_seconds:.2} s: {:.0} entries/s",
        report.entries,
        report.checkpoints,
        report.entries as f64 / verify_seconds
    );
    Ok(())
}
