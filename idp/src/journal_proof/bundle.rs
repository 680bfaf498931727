//! The export bundle: JSON Lines, one JSON object per line, told apart by `type`:
//! line 1 the `header`, line 2 the `keys` (a JWKS), then one `entry` per journal entry, in
//! order, ending with the checkpoint the export signed. `docs/journal-format.md` specifies it.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::NaiveDateTime;
use mandate_store::journal::checkpoints;
use mandate_store::journal::{canonical_time, JournalEntry};
use mandate_store::DbConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ProofError;
use crate::keys::KeySet;

/// The header's `format`.
pub const FORMAT: &str = "aidants-idp-journal-bundle";
/// The header's `version`; a checker refuses a version it does not know.
pub const VERSION: u32 = 1;

/// One line of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Header(Header),
    Keys(Keys),
    Entry(EntryLine),
}

/// Line 1: what the bundle is. Not signed: its numbers help find a careless truncation, and
/// prove nothing against a deliberate one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub issuer: String,
    pub exported_at: String,
    /// The `--since` asked for, if any.
    pub since: Option<String>,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// Line 2: the public keys of the bundle's checkpoints, as a JWKS (RFC 7517 §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub keys: Vec<Value>,
}

/// An entry, with every field its hash covers, `details` as the stored text byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryLine {
    pub seq: i64,
    pub created_at: String,
    pub action: String,
    pub aidant_id: Option<String>,
    pub organisation_id: Option<String>,
    pub usager_id: Option<String>,
    pub mandate_id: Option<String>,
    pub authorisation_id: Option<String>,
    pub demarche: Option<String>,
    pub client_id: Option<String>,
    pub details: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&JournalEntry> for EntryLine {
    fn from(e: &JournalEntry) -> EntryLine {
        EntryLine {
            seq: e.seq,
            created_at: canonical_time(e.created_at),
            action: e.action.key().to_owned(),
            aidant_id: e.aidant_id.clone(),
            organisation_id: e.organisation_id.clone(),
            usager_id: e.usager_id.clone(),
            mandate_id: e.mandate_id.clone(),
            authorisation_id: e.authorisation_id.clone(),
            demarche: e.demarche.map(|d| d.key().to_owned()),
            client_id: e.client_id.clone(),
            details: e.details.as_ref().map(|d| d.as_str().to_owned()),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub first_seq: i64,
    pub last_seq: i64,
    /// The export's own checkpoint was new (`false`: the head already was one).
    pub signed_checkpoint: bool,
}

/// Entries read from the database at a time.
const PAGE: i64 = 2_000;

/// Signs a checkpoint (unless the head already is one), then writes the bundle up to it.
///
/// With `since`, the bundle starts at the newest checkpoint at or before the first entry made
/// since then, so that its first line is anchored by a signature (a checkpoint's signed head
/// is its own `prev_hash`); with no such checkpoint, at entry 1. It may therefore begin with a
/// few entries older than `since`.
pub fn export(
    conn: &mut DbConnection,
    keys: &KeySet,
    issuer: &str,
    since: Option<NaiveDateTime>,
    now: NaiveDateTime,
    out: &mut impl Write,
) -> Result<Exported, ProofError> {
    let checkpoint = super::checkpoint::sign(conn, keys, issuer, now)?;
    let last_seq = checkpoint.entry().seq;
    let first_seq = match since {
        None => 1,
        Some(since) => match checkpoints::first_seq_since(conn, since)? {
            Some(first) if first < last_seq => checkpoints::checkpoint_at_or_before(conn, first)?.unwrap_or(1),
            // Nothing since then but the export's own checkpoint.
            _ => last_seq,
        },
    };
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        issuer: issuer.to_owned(),
        exported_at: canonical_time(mandate_store::db::truncate_to_micros(now)),
        since: since.map(canonical_time),
        first_seq,
        last_seq,
    };
    write_line(out, &Line::Header(header))?;
    write_line(out, &Line::Keys(checkpoint_keys(conn, first_seq, last_seq)?))?;
    let mut next = first_seq;
    while next <= last_seq {
        let page = checkpoints::entries_between(conn, next, last_seq, PAGE)?;
        let Some(last) = page.last() else { break };
        next = last.seq + 1;
        for entry in &page {
            write_line(out, &Line::Entry(EntryLine::from(entry)))?;
        }
    }
    out.flush()?;
    Ok(Exported { first_seq, last_seq, signed_checkpoint: matches!(checkpoint, checkpoints::Checkpoint::Signed(_)) })
}

/// The keys that signed the checkpoints from `first` to `last`, read from the checkpoints
/// themselves: a key retired (and deleted) since still verifies what it signed.
fn checkpoint_keys(conn: &mut DbConnection, first: i64, last: i64) -> Result<Keys, ProofError> {
    let mut by_kid = BTreeMap::new();
    for entry in checkpoints::checkpoints_between(conn, first, last)? {
        let jwk = entry.details.as_ref().and_then(|d| d.value().get("jwk")).cloned();
        if let Some(jwk) = jwk {
            if let Some(kid) = jwk.get("kid").and_then(Value::as_str) {
                by_kid.entry(kid.to_owned()).or_insert(jwk);
            }
        }
    }
    Ok(Keys { keys: by_kid.into_values().collect() })
}

fn write_line(out: &mut impl Write, line: &Line) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}
