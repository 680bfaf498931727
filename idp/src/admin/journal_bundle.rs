//! `idp journal checkpoint | export | verify-bundle`: the journal's proof, from the command line.

use std::io::{BufReader, Write};
use std::path::PathBuf;

use chrono::NaiveDateTime;
use mandate_store::journal::checkpoints::Checkpoint;
use mandate_store::Store;

use crate::configuration::Settings;
use crate::journal_proof::verify::{self, BundleProblem, TrustedKids};
use crate::journal_proof::{bundle, checkpoint};

/// `idp journal export`'s options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The bundle (JSON Lines, on standard output) holds the entries, the checkpoints they fall under
and the public keys that signed them; `idp journal verify-bundle` checks it with no database.
A checkpoint of the journal as it stands is signed first, and the bundle ends with it.
With --since, the bundle starts at the newest checkpoint at or before the first entry of that
day or instant (so that its start is signed too), or at entry 1 when there is none.
The format: docs/journal-format.md.")]
pub struct JournalExport {
    /// Entries from this day (YYYY-MM-DD, UTC) or RFC 3339 instant on.
    #[arg(long, value_name = "DATE", value_parser = super::journal::parse_since)]
    pub since: Option<NaiveDateTime>,
}

/// `idp journal verify-bundle`'s options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Needs no database and no configuration. Exit 0: intact (a summary is printed); 3: an entry was
changed, removed, inserted or reordered, or a checkpoint is forged or signed by a key the bundle
(or --trusted-keys) does not hold, the first bad line named; 2: unreadable, or not a bundle.")]
pub struct VerifyBundle {
    /// The bundle `idp journal export` wrote.
    pub file: PathBuf,
    /// A JWKS the provider published (its /jwks, kept): every checkpoint must then be signed by
    /// one of its keys, not only by a key the bundle carries.
    #[arg(long, value_name = "JWKS_FILE")]
    pub trusted_keys: Option<PathBuf>,
}

fn open(settings: &Settings) -> anyhow::Result<(Store, crate::keys::KeySet)> {
    let store = Store::open_and_migrate(&settings.database.url, 1)?;
    let (keys, _) = crate::keys::KeySet::load_or_generate(&settings.keys.dir, settings.keys.generate_if_missing)
        .map_err(|e| anyhow::anyhow!("signing keys (keys.dir): {e}"))?;
    Ok((store, keys))
}

/// `idp journal checkpoint`: signs one now, unless nothing was appended since the last.
pub fn checkpoint(settings: &Settings) -> anyhow::Result<()> {
    let (store, keys) = open(settings)?;
    match checkpoint::sign(&mut *store.conn()?, &keys, &settings.issuer, mandate_store::now())? {
        Checkpoint::Signed(entry) => {
            println!(
                "checkpoint signed: entry {} covers entries 1 to {}, head {}",
                entry.seq,
                entry.seq - 1,
                entry.prev_hash
            )
        }
        Checkpoint::Current(entry) => println!(
            "nothing appended since the checkpoint at entry {} (covering entries 1 to {}): none signed",
            entry.seq,
            entry.seq - 1
        ),
    }
    Ok(())
}

/// `idp journal export`: the bundle on standard output, a summary on standard error.
pub fn export(settings: &Settings, args: JournalExport) -> anyhow::Result<()> {
    let (store, keys) = open(settings)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let exported =
        bundle::export(&mut *store.conn()?, &keys, &settings.issuer, args.since, mandate_store::now(), &mut out)?;
    out.flush()?;
    eprintln!(
        "exported entries {} to {}, ending with {} checkpoint",
        exported.first_seq,
        exported.last_seq,
        if exported.signed_checkpoint { "a new" } else { "the latest" }
    );
    Ok(())
}

/// What `idp journal verify-bundle` found, for its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Intact,
    /// Tampered with, or not proved by its checkpoints (exit 3).
    Broken,
    /// Unreadable, or not a bundle (exit 2).
    Unreadable,
}

/// `idp journal verify-bundle`: the summary on standard output, the problem on standard error.
pub fn verify_bundle(args: &VerifyBundle) -> Verdict {
    let trusted = match &args.trusted_keys {
        None => None,
        Some(path) => match trusted_kids(path) {
            Ok(kids) => Some(kids),
            Err(reason) => {
                eprintln!("idp: trusted keys {}: {reason}", path.display());
                return Verdict::Unreadable;
            }
        },
    };
    let file = match std::fs::File::open(&args.file) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("idp: bundle {}: {e}", args.file.display());
            return Verdict::Unreadable;
        }
    };
    match verify::verify(BufReader::new(file), trusted.as_ref()) {
        Ok(report) => {
            println!(
                "bundle intact: entries {} to {} ({} entries, {} checkpoints) of {}; the last checkpoint, \
                 signed at {} by key {}, covers every entry before it (head {})",
                report.first_seq,
                report.last_seq,
                report.entries,
                report.checkpoints,
                report.issuer,
                report.signed_at,
                report.kid,
                report.head_hash
            );
            Verdict::Intact
        }
        Err(problem @ BundleProblem::Unreadable(_)) => {
            eprintln!("idp: {}: {problem}", args.file.display());
            Verdict::Unreadable
        }
        Err(problem @ BundleProblem::Broken { .. }) => {
            eprintln!("bundle BROKEN at {problem}");
            Verdict::Broken
        }
    }
}

/// The `kid`s of a JWKS file.
fn trusted_kids(path: &std::path::Path) -> Result<TrustedKids, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let jwks: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))?;
    let keys = jwks.get("keys").and_then(|k| k.as_array()).ok_or("not a JWKS (no \"keys\" array)")?;
    Ok(keys.iter().filter_map(|k| k.get("kid").and_then(|kid| kid.as_str()).map(str::to_owned)).collect())
}
