//! Checking a bundle with nothing but the bundle: no database, no configuration. The rules are
//! those of `docs/journal-format.md`, in the order it gives them; the first line that breaks one
//! is named.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::NaiveDateTime;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use mandate_store::journal::{canonical_time, JournalDetails, JournalEntry, GENESIS_HASH};
use serde::Serialize;
use serde_json::Value;

use super::bundle::{EntryLine, Header, Keys, Line, FORMAT, VERSION};
use super::checkpoint::{CheckpointPayload, CHECKPOINT_TYP};

/// Why a bundle does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleProblem {
    /// The file cannot be read, or is not a bundle at all (`idp journal verify-bundle` exit 2).
    #[error("not a readable journal bundle: {0}")]
    Unreadable(String),
    /// The bundle was tampered with, or its checkpoints do not prove it (exit 3).
    #[error("line {line}: {reason}")]
    Broken { line: usize, reason: String },
}

/// What an intact bundle proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    pub issuer: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub entries: u64,
    pub checkpoints: u64,
    /// The hash of the last entry covered by the last checkpoint.
    pub head_hash: String,
    /// When the last checkpoint was signed, and by which key.
    pub signed_at: String,
    pub kid: String,
}

/// Keys the checker may be told to trust (a JWKS the operator published): every checkpoint must
/// then be signed by one of them, not only by a key the bundle itself carries.
pub type TrustedKids = BTreeSet<String>;

struct Key {
    alg: Algorithm,
    decoding: DecodingKey,
}

/// Checks a bundle read line by line from `input`.
pub fn verify(input: impl BufRead, trusted: Option<&TrustedKids>) -> Result<BundleReport, BundleProblem> {
    let mut lines = input.lines().enumerate().map(|(i, line)| (i + 1, line));
    let mut next_line = |what: &str| -> Result<(usize, String), BundleProblem> {
        match lines.next() {
            Some((n, Ok(text))) => Ok((n, text)),
            Some((n, Err(e))) => Err(BundleProblem::Unreadable(format!("line {n}: {e}"))),
            None => Err(BundleProblem::Unreadable(format!("it ends before its {what}"))),
        }
    };

    let (_, first) = next_line("header")?;
    let header = match serde_json::from_str::<Line>(&first) {
        Ok(Line::Header(header)) if header.format == FORMAT => header,
        _ => return Err(BundleProblem::Unreadable(format!("line 1 is not a {FORMAT} header"))),
    };
    if header.version != VERSION {
        return Err(BundleProblem::Unreadable(format!("version {} (this checker reads {VERSION})", header.version)));
    }
    let (keys_line, second) = next_line("keys")?;
    let keys = match serde_json::from_str::<Line>(&second) {
        Ok(Line::Keys(keys)) => read_keys(keys).map_err(|reason| BundleProblem::Broken { line: keys_line, reason })?,
        _ => return Err(BundleProblem::Unreadable("line 2 is not the bundle's keys".into())),
    };

    let mut chain = Chain::new(&header, &keys, trusted);
    for (n, text) in lines {
        let text = text.map_err(|e| BundleProblem::Unreadable(format!("line {n}: {e}")))?;
        chain.entry(n, &text).map_err(|reason| BundleProblem::Broken { line: n, reason })?;
    }
    chain.finish()
}

/// Parses the JWKS line. A key's `kid` must be its RFC 7638 thumbprint (how this provider names
/// its keys), so a `kid` cannot be made to point at another key.
fn read_keys(keys: Keys) -> Result<BTreeMap<String, Key>, String> {
    let mut by_kid = BTreeMap::new();
    for value in keys.keys {
        let alg = value.get("alg").and_then(Value::as_str).map(str::to_owned);
        let jwk: Jwk = serde_json::from_value(value).map_err(|e| format!("a key is not a JWK: {e}"))?;
        let kid = jwk.common.key_id.clone().ok_or("a key has no kid")?;
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| format!("key {kid}: {e}"))?;
        if thumbprint != kid {
            return Err(format!("key {kid} is not named by its thumbprint ({thumbprint})"));
        }
        let alg = match alg.as_deref() {
            Some("RS256") => Algorithm::RS256,
            Some("ES256") => Algorithm::ES256,
            other => return Err(format!("key {kid} has no usable alg ({other:?}): RS256 or ES256")),
        };
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| format!("key {kid}: {e}"))?;
        by_kid.insert(kid, Key { alg, decoding });
    }
    Ok(by_kid)
}

/// The walk along the entries.
struct Chain<'a> {
    header: &'a Header,
    keys: &'a BTreeMap<String, Key>,
    trusted: Option<&'a TrustedKids>,
    /// The line last read.
    line: usize,
    first_seq: Option<i64>,
    previous: Option<(i64, String)>,
    entries: u64,
    checkpoints: u64,
    issuer: Option<String>,
    /// The last checkpoint: its signed payload and key.
    last_checkpoint: Option<(CheckpointPayload, String)>,
    /// The first line not yet covered by a checkpoint.
    uncovered_from: Option<usize>,
}

impl<'a> Chain<'a> {
    fn new(header: &'a Header, keys: &'a BTreeMap<String, Key>, trusted: Option<&'a TrustedKids>) -> Chain<'a> {
        Chain {
            header,
            keys,
            trusted,
            line: 2,
            first_seq: None,
            previous: None,
            entries: 0,
            checkpoints: 0,
            issuer: None,
            last_checkpoint: None,
            uncovered_from: None,
        }
    }

    /// One entry line: its place in the chain, its hash, and its signature for a checkpoint.
    fn entry(&mut self, number: usize, text: &str) -> Result<(), String> {
        self.line = number;
        let line = match serde_json::from_str::<Line>(text) {
            Ok(Line::Entry(line)) => line,
            Ok(_) => return Err("expected a journal entry".into()),
            Err(e) => return Err(format!("not a journal entry ({e})")),
        };
        let entry = parse_entry(&line)?;
        let is_checkpoint = line.action == "checkpoint_signed";
        match &self.previous {
            None if entry.seq == 1 && entry.prev_hash != GENESIS_HASH => {
                return Err("entry 1 does not start from the genesis hash".into())
            }
            // Starting later, the first entry must be a checkpoint: its signed head is its own
            // prev_hash, which anchors the bundle to a journal the provider signed.
            None if entry.seq != 1 && !is_checkpoint => {
                return Err(format!(
                    "the bundle starts at entry {}, which is not a checkpoint: nothing proves what came before it",
                    entry.seq
                ))
            }
            None => {}
            Some((seq, hash)) => {
                if entry.seq != seq + 1 {
                    return Err(format!(
                        "entry {} where entry {} was expected: entries were removed, inserted or reordered",
                        entry.seq,
                        seq + 1
                    ));
                }
                if &entry.prev_hash != hash {
                    return Err(format!(
                        "prev_hash is not the hash of entry {seq}: an entry was changed, removed, inserted or reordered"
                    ));
                }
            }
        }
        if entry.expected_hash() != entry.hash {
            return Err("the entry does not match its hash: it was changed".into());
        }
        if is_checkpoint {
            let (payload, kid) = self.checkpoint(&line)?;
            self.checkpoints += 1;
            self.last_checkpoint = Some((payload, kid));
            self.uncovered_from = None;
        } else if self.uncovered_from.is_none() {
            self.uncovered_from = Some(number);
        }
        self.first_seq.get_or_insert(entry.seq);
        self.previous = Some((entry.seq, entry.hash));
        self.entries += 1;
        Ok(())
    }

    /// A checkpoint entry: signed by a key of the bundle (and a trusted one, when told), for
    /// this very place in the chain, and carrying nothing its signature does not cover.
    fn checkpoint(&mut self, line: &EntryLine) -> Result<(CheckpointPayload, String), String> {
        let ids = [
            &line.aidant_id,
            &line.organisation_id,
            &line.usager_id,
            &line.mandate_id,
            &line.authorisation_id,
            &line.demarche,
            &line.client_id,
        ];
        if ids.iter().any(|id| id.is_some()) {
            return Err("a checkpoint carries ids its signature does not cover".into());
        }
        let details: Value = line.details.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
        let jws = details.get("jws").and_then(Value::as_str).ok_or("a checkpoint without its jws")?;
        let (payload, kid) = self.verify_jws(jws)?;
        if payload.size != line.seq - 1 {
            return Err(format!(
                "the checkpoint was signed for a journal of {} entries, but it is entry {}: entries were removed or inserted",
                payload.size, line.seq
            ));
        }
        if payload.head_hash != line.prev_hash {
            return Err(format!(
                "the checkpoint signed head {} but the entry before it hashes to {}: an entry at or before entry {} was changed, removed, inserted or reordered",
                payload.head_hash, line.prev_hash, payload.size
            ));
        }
        if payload.time != line.created_at {
            return Err("the checkpoint's time is not the time it was signed at".into());
        }
        let stated = (details.get("size").and_then(Value::as_i64), details.get("head_hash").and_then(Value::as_str));
        if stated != (Some(payload.size), Some(payload.head_hash.as_str())) {
            return Err("the checkpoint's details do not say what its signature says".into());
        }
        let issuer = self.issuer.get_or_insert_with(|| payload.iss.clone());
        if *issuer != payload.iss {
            return Err(format!("the checkpoint was signed for {}, the others for {issuer}", payload.iss));
        }
        Ok((payload, kid))
    }

    /// The JWS's key from the bundle's keys, its algorithm that key's (RFC 8725 §3.1), its
    /// signature, then its payload.
    fn verify_jws(&self, jws: &str) -> Result<(CheckpointPayload, String), String> {
        let header =
            jsonwebtoken::decode_header(jws).map_err(|e| format!("the checkpoint's jws is malformed ({e})"))?;
        let kid = header.kid.ok_or("the checkpoint's jws names no key (kid)")?;
        let key = self
            .keys
            .get(&kid)
            .ok_or_else(|| format!("the checkpoint was signed by key {kid}, which is not among the bundle's keys"))?;
        if self.trusted.is_some_and(|trusted| !trusted.contains(&kid)) {
            return Err(format!("the checkpoint was signed by key {kid}, which is not among the trusted keys"));
        }
        if header.alg != key.alg {
            return Err(format!("the checkpoint's alg {:?} is not its key's", header.alg));
        }
        if header.typ.as_deref() != Some(CHECKPOINT_TYP) {
            return Err(format!("the jws is not a checkpoint (typ {:?})", header.typ));
        }
        let (signing_input, signature) = jws.rsplit_once('.').ok_or("the checkpoint's jws is malformed")?;
        let valid =
            jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key.decoding, key.alg).unwrap_or(false);
        if !valid {
            return Err(format!("the checkpoint's signature does not verify with key {kid}: it is forged"));
        }
        let payload = signing_input.split_once('.').map(|(_, payload)| payload).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CheckpointPayload>(&bytes).ok())
            .ok_or("the checkpoint's payload is not a checkpoint")?;
        Ok((payload, kid))
    }

    /// The bundle's end: every entry covered by a checkpoint, and as long as its header says.
    fn finish(self) -> Result<BundleReport, BundleProblem> {
        let broken = |line, reason: String| Err(BundleProblem::Broken { line, reason });
        let Some((last_seq, _)) = self.previous else {
            return broken(self.line + 1, "the bundle holds no entry".into());
        };
        if let Some(line) = self.uncovered_from {
            return broken(
                line,
                "this entry and those after it are covered by no checkpoint: the bundle must end with one".into(),
            );
        }
        if last_seq != self.header.last_seq {
            return broken(
                self.line + 1,
                format!(
                    "the bundle ends at entry {last_seq} but its header says {}: entries were removed from its end",
                    self.header.last_seq
                ),
            );
        }
        let Some((payload, kid)) = self.last_checkpoint else {
            return broken(self.line, "no checkpoint".into());
        };
        Ok(BundleReport {
            issuer: payload.iss,
            first_seq: self.first_seq.unwrap_or(last_seq),
            last_seq,
            entries: self.entries,
            checkpoints: self.checkpoints,
            head_hash: payload.head_hash,
            signed_at: payload.time,
            kid,
        })
    }
}

/// An entry line as the store's own type, whose `expected_hash` is the one canonical form.
/// Values must be written as the store writes them: a time with six decimals and `Z`, a known
/// action and démarche, details that are JSON.
fn parse_entry(line: &EntryLine) -> Result<JournalEntry, String> {
    let created_at = NaiveDateTime::parse_from_str(&line.created_at, "%Y-%m-%dT%H:%M:%S%.6fZ")
        .ok()
        .filter(|at| canonical_time(*at) == line.created_at)
        .ok_or_else(|| format!("created_at {:?} is not a canonical time", line.created_at))?;
    Ok(JournalEntry {
        seq: line.seq,
        created_at,
        action: line.action.parse().map_err(|_| format!("unknown action {:?}", line.action))?,
        aidant_id: line.aidant_id.clone(),
        organisation_id: line.organisation_id.clone(),
        usager_id: line.usager_id.clone(),
        mandate_id: line.mandate_id.clone(),
        authorisation_id: line.authorisation_id.clone(),
        demarche: match &line.demarche {
            Some(key) => Some(key.parse().map_err(|_| format!("unknown démarche {key:?}"))?),
            None => None,
        },
        client_id: line.client_id.clone(),
        details: match &line.details {
            Some(text) => {
                Some(JournalDetails::from_text(text.clone()).map_err(|e| format!("details are not JSON ({e})"))?)
            }
            None => None,
        },
        prev_hash: line.prev_hash.clone(),
        hash: line.hash.clone(),
    })
}
