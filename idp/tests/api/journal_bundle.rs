//! The journal's proof as an auditor receives it: `idp journal export` on the operator's side,
//! `idp journal verify-bundle` on theirs (no database, no configuration), and every kind of
//! tampering found and named. Hashes are recomputed here from `docs/journal-format.md`, as a
//! third party's own checker would, to play the attacker who rewrites the unkeyed chain.

use std::path::Path;
use std::process::{Command, Output};

use idp::keys::{KeySet, SigningAlg};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::testing::TestDb;
use mandate_store::{now, Backend, Demarche};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{stderr, stdout};

crate::on_both_backends!(
    an_exported_bundle_verifies_offline,
    a_changed_entry_is_named,
    a_removed_entry_is_named_in_the_middle_and_at_the_end,
    an_inserted_entry_and_two_swapped_are_named,
    a_forged_checkpoint_is_named,
    a_checkpoint_signed_before_a_key_rotation_still_verifies,
    since_starts_at_a_signed_checkpoint,
);

const ISSUER: &str = "https://aidants.example.gouv.fr";

/// `idp` against `db` with the keys of `keys`.
fn idp(db: &TestDb, keys: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idp"))
        .args(args)
        .env("IDP__DATABASE__URL", &db.url)
        .env("IDP__KEYS__DIR", keys)
        .env("IDP__ISSUER", ISSUER)
        .env_remove("IDP_CONFIG")
        .output()
        .unwrap()
}

/// `idp journal verify-bundle` on `lines`, where neither a database nor a configuration is:
/// the configuration given is wrong on purpose, and would stop any command that read it.
fn verify_bundle(lines: &[Value]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    verify_file(&file, &[])
}

fn verify_file(file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idp"))
        .args(["journal", "verify-bundle"])
        .arg(file)
        .args(extra)
        .env("IDP__DATABASE__URL", "nonsense://nowhere")
        .env("IDP__NO__SUCH_SETTING", "1")
        .env_remove("IDP_CONFIG")
        .output()
        .unwrap()
}

fn export(db: &TestDb, keys: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["journal", "export"];
    args.extend_from_slice(extra);
    let out = idp(db, keys, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A few entries of several kinds; details with characters JSON escapes, to check that they
/// travel byte for byte.
fn append_entries(db: &TestDb, n: usize) {
    let mut conn = db.store.conn().unwrap();
    for i in 0..n {
        let entry = match i % 3 {
            0 => NewEntry::new(JournalAction::AuthorisationUsed)
                .aidant("aidant-1")
                .organisation("org-1")
                .usager("usager-1")
                .mandate("mandate-1")
                .authorisation("authorisation-1")
                .demarche(Demarche::Argent)
                .client(&format!("client-{i}")),
            1 => NewEntry::new(JournalAction::OrganisationUpdated)
                .organisation("org-1")
                .details(json!({"fields": ["name"], "note": "« é » \"quoted\" \\ \u{2028} 😀", "n": i})),
            _ => NewEntry::new(JournalAction::AidantConnected).aidant("aidant-1").organisation("org-1"),
        };
        journal::append(&mut conn, entry, now()).unwrap();
    }
}

fn setup(backend: Backend) -> Option<(TestDb, tempfile::TempDir)> {
    let db = TestDb::for_backend(backend)?;
    let keys = tempfile::tempdir().unwrap();
    idp::keys::generate(keys.path(), SigningAlg::Rs256).unwrap();
    Some((db, keys))
}

/// The hash of an entry line, as `docs/journal-format.md` defines it.
fn entry_hash(e: &Value) -> String {
    let canonical = json!([
        e["seq"],
        e["created_at"],
        e["action"],
        e["aidant_id"],
        e["organisation_id"],
        e["usager_id"],
        e["mandate_id"],
        e["authorisation_id"],
        e["demarche"],
        e["client_id"],
        e["details"],
        e["prev_hash"],
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Rewrites the chain from line index `from` on, as someone with the whole bundle can: each
/// entry's prev_hash and hash recomputed. Only the signatures then stand in the way.
fn rechain(lines: &mut [Value], from: usize) {
    for i in from.max(3)..lines.len() {
        let prev = lines[i - 1]["hash"].clone();
        lines[i]["prev_hash"] = prev;
        let hash = entry_hash(&lines[i]);
        lines[i]["hash"] = json!(hash);
    }
}

/// Line numbers are 1-based; index 0 is the header, 1 the keys, 2 the first entry.
fn line_of(index: usize) -> usize {
    index + 1
}

fn assert_broken_at(out: &Output, line: usize, words: &str) {
    assert_eq!(out.status.code(), Some(3), "stdout {} stderr {}", stdout(out), stderr(out));
    let message = stderr(out);
    assert!(message.contains(&format!("BROKEN at line {line}:")), "expected line {line}: {message}");
    assert!(message.contains(words), "expected {words:?}: {message}");
}

fn checkpoint_indexes(lines: &[Value]) -> Vec<usize> {
    (2..lines.len()).filter(|i| lines[*i]["action"] == "checkpoint_signed").collect()
}

/// Two exports a few entries apart: entries, a checkpoint, entries, the final checkpoint.
fn two_checkpoints(db: &TestDb, keys: &Path) -> Vec<Value> {
    append_entries(db, 6);
    export(db, keys, &[]);
    append_entries(db, 5);
    export(db, keys, &[])
}

async fn an_exported_bundle_verifies_offline(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    append_entries(&db, 7);
    let lines = export(&db, keys.path(), &[]);
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines[0]["issuer"], ISSUER);
    assert_eq!(lines[1]["type"], "keys");
    assert_eq!(lines.len(), 2 + 8, "seven entries and the export's checkpoint");
    let last = &lines[9];
    assert_eq!(last["action"], "checkpoint_signed");
    let details: Value = serde_json::from_str(last["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["size"], 7);
    assert_eq!(details["head_hash"], lines[8]["hash"]);
    for line in &lines[2..] {
        assert_eq!(entry_hash(line), line["hash"], "the documented hash: {line}");
    }
    // The stored details, byte for byte (what the hash covers).
    let stored = journal::recent(&mut db.store.conn().unwrap(), Some(JournalAction::OrganisationUpdated), 1).unwrap();
    let stored_details = stored[0].details.as_ref().unwrap().as_str();
    assert!(lines.iter().any(|l| l["details"] == stored_details));

    let out = verify_bundle(&lines);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("bundle intact: entries 1 to 8 (8 entries, 1 checkpoints)"), "{}", stdout(&out));

    // Exporting again with nothing new re-uses the checkpoint: the journal does not grow.
    let again = export(&db, keys.path(), &[]);
    assert_eq!(again.len(), lines.len());
    // The database's own check agrees.
    let verify = idp(&db, keys.path(), &["journal", "verify"]);
    assert!(stdout(&verify).contains("intact: 8 entries"), "{}", stdout(&verify));

    // Not a bundle, or no file: exit 2.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("journal.csv");
    std::fs::write(&csv, "seq,created_at\n1,2026-11-29\n").unwrap();
    for file in [csv.as_path(), dir.path().join("missing.jsonl").as_path(), dir.path()] {
        let out = verify_file(file, &[]);
        assert_eq!(out.status.code(), Some(2), "{}: {}", file.display(), stderr(&out));
    }
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(verify_file(&empty, &[]).status.code(), Some(2));

    // Told which keys to trust, a bundle signed by another is refused.
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, r#"{"keys": [{"kid": "someone-else", "kty": "RSA"}]}"#).unwrap();
    let bundle = dir.path().join("bundle.jsonl");
    std::fs::write(&bundle, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let out = verify_file(&bundle, &["--trusted-keys", jwks.to_str().unwrap()]);
    assert_broken_at(&out, 10, "not among the trusted keys");
    std::fs::write(&jwks, json!({"keys": lines[1]["keys"]}).to_string()).unwrap();
    assert!(verify_file(&bundle, &["--trusted-keys", jwks.to_str().unwrap()]).status.success());
}

async fn a_changed_entry_is_named(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    let lines = two_checkpoints(&db, keys.path());
    let [first_checkpoint, last_checkpoint] = checkpoint_indexes(&lines)[..] else { panic!("two checkpoints") };

    // A field changed: its own hash no longer matches.
    let mut changed = lines.clone();
    changed[4]["client_id"] = json!("forged");
    assert_broken_at(&verify_bundle(&changed), line_of(4), "does not match its hash");

    // Details changed by one byte.
    let mut changed = lines.clone();
    let i = (2..lines.len()).find(|i| lines[*i]["action"] == "organisation_updated").unwrap();
    changed[i]["details"] = json!(lines[i]["details"].as_str().unwrap().replacen("name", "nom", 1));
    assert_broken_at(&verify_bundle(&changed), line_of(i), "does not match its hash");

    // Changed, and the whole chain rewritten after it: the next checkpoint's signature says no.
    let mut rewritten = lines.clone();
    rewritten[4]["usager_id"] = json!("someone-else");
    rechain(&mut rewritten, 4);
    assert_broken_at(&verify_bundle(&rewritten), line_of(first_checkpoint), "signed head");

    // After the first checkpoint, the last one catches it.
    let mut rewritten = lines.clone();
    rewritten[first_checkpoint + 1]["aidant_id"] = json!("someone-else");
    rechain(&mut rewritten, first_checkpoint + 1);
    assert_broken_at(&verify_bundle(&rewritten), line_of(last_checkpoint), "signed head");
}

async fn a_removed_entry_is_named_in_the_middle_and_at_the_end(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    let lines = two_checkpoints(&db, keys.path());
    let [first_checkpoint, last_checkpoint] = checkpoint_indexes(&lines)[..] else { panic!("two checkpoints") };

    // In the middle: the next entry does not follow.
    let mut removed = lines.clone();
    removed.remove(5);
    assert_broken_at(&verify_bundle(&removed), line_of(5), "removed, inserted or reordered");

    // In the middle, renumbered and rechained: the checkpoint was signed for more entries.
    let mut removed = lines.clone();
    removed.remove(5);
    for (i, line) in removed.iter_mut().enumerate().skip(5) {
        line["seq"] = json!(i - 1);
    }
    rechain(&mut removed, 5);
    assert_broken_at(&verify_bundle(&removed), line_of(first_checkpoint - 1), "signed for a journal of");

    // At the end: the final checkpoint gone, the entries after the first are covered by none.
    let mut truncated = lines.clone();
    truncated.pop();
    assert_broken_at(&verify_bundle(&truncated), line_of(first_checkpoint + 1), "covered by no checkpoint");

    // The last entry before the final checkpoint removed and the chain rewritten.
    let mut removed = lines.clone();
    removed.remove(last_checkpoint - 1);
    let n = removed.len();
    removed[n - 1]["seq"] = json!(lines[last_checkpoint - 1]["seq"]);
    rechain(&mut removed, n - 1);
    assert_broken_at(&verify_bundle(&removed), line_of(n - 1), "signed for a journal of");

    // Cut back to the first checkpoint: every line verifies, but the header says more.
    let cut = lines[..=first_checkpoint].to_vec();
    assert_broken_at(&verify_bundle(&cut), line_of(first_checkpoint + 1), "entries were removed from its end");
}

async fn an_inserted_entry_and_two_swapped_are_named(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    let lines = two_checkpoints(&db, keys.path());
    let [first_checkpoint, _] = checkpoint_indexes(&lines)[..] else { panic!("two checkpoints") };

    // Inserted as is: a second entry with the same seq.
    let mut inserted = lines.clone();
    inserted.insert(5, lines[4].clone());
    assert_broken_at(&verify_bundle(&inserted), line_of(5), "removed, inserted or reordered");

    // Inserted, renumbered and rechained: the checkpoint was signed for fewer entries.
    let mut inserted = lines.clone();
    let mut forged = lines[4].clone();
    forged["client_id"] = json!("inserted");
    inserted.insert(5, forged);
    for (i, line) in inserted.iter_mut().enumerate().skip(5) {
        line["seq"] = json!(i - 1);
    }
    rechain(&mut inserted, 5);
    assert_broken_at(&verify_bundle(&inserted), line_of(first_checkpoint + 1), "signed for a journal of");

    // Two entries swapped.
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    assert_broken_at(&verify_bundle(&swapped), line_of(4), "removed, inserted or reordered");

    // Swapped, renumbered and rechained: the checkpoint's head differs.
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    swapped[4]["seq"] = json!(3);
    swapped[5]["seq"] = json!(4);
    rechain(&mut swapped, 4);
    assert_broken_at(&verify_bundle(&swapped), line_of(first_checkpoint), "signed head");
}

/// Replaces the checkpoint at `index` by one whose JWS is `jws`, rewriting its details and hash
/// as an attacker would.
fn replace_jws(lines: &mut [Value], index: usize, jws: &str) {
    let mut details: Value = serde_json::from_str(lines[index]["details"].as_str().unwrap()).unwrap();
    details["jws"] = json!(jws);
    lines[index]["details"] = json!(details.to_string());
    rechain(lines, index);
}

fn payload_of(line: &Value) -> Value {
    use base64::Engine;
    let details: Value = serde_json::from_str(line["details"].as_str().unwrap()).unwrap();
    let payload = details["jws"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn a_forged_checkpoint_is_named(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    let lines = two_checkpoints(&db, keys.path());
    let [_, last] = checkpoint_indexes(&lines)[..] else { panic!("two checkpoints") };
    let details: Value = serde_json::from_str(lines[last]["details"].as_str().unwrap()).unwrap();
    let jws = details["jws"].as_str().unwrap();

    // The signature altered.
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let mut forged = lines.clone();
    replace_jws(&mut forged, last, &format!("{input}.{flipped}{}", &signature[1..]));
    assert_broken_at(&verify_bundle(&forged), line_of(last), "is forged");

    // Another payload under the original signature.
    let mut payload = payload_of(&lines[last]);
    payload["size"] = json!(payload["size"].as_i64().unwrap() - 1);
    let header = input.split('.').next().unwrap();
    let encoded = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string())
    };
    let mut forged = lines.clone();
    replace_jws(&mut forged, last, &format!("{header}.{encoded}.{signature}"));
    assert_broken_at(&verify_bundle(&forged), line_of(last), "is forged");

    // Signed by a key of someone else, not in the bundle's keys.
    let other_dir = tempfile::tempdir().unwrap();
    idp::keys::generate(other_dir.path(), SigningAlg::Rs256).unwrap();
    let other = KeySet::load(other_dir.path()).unwrap();
    let (other_jws, _) =
        other.sign_keeping_jwk(SigningAlg::Rs256, "journal-checkpoint+jwt", &payload_of(&lines[last])).unwrap();
    let mut forged = lines.clone();
    replace_jws(&mut forged, last, &other_jws);
    assert_broken_at(&verify_bundle(&forged), line_of(last), "not among the bundle's keys");
    // …even with its key slipped into the bundle's keys, when the auditor pins the provider's.
    let mut slipped = forged.clone();
    let mut keys_line = slipped[1]["keys"].as_array().unwrap().clone();
    keys_line.extend(other.jwks()["keys"].as_array().unwrap().iter().cloned());
    slipped[1]["keys"] = json!(keys_line);
    let dir = tempfile::tempdir().unwrap();
    let (bundle, pinned) = (dir.path().join("b.jsonl"), dir.path().join("jwks.json"));
    std::fs::write(&bundle, slipped.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    std::fs::write(&pinned, json!({"keys": lines[1]["keys"]}).to_string()).unwrap();
    let out = verify_file(&bundle, &["--trusted-keys", pinned.to_str().unwrap()]);
    assert_broken_at(&out, line_of(last), "not among the trusted keys");

    // Signed with the provider's own key, but for a head that is not the entry before it.
    let ours = KeySet::load(keys.path()).unwrap();
    let mut payload = payload_of(&lines[last]);
    payload["head_hash"] = json!("ab".repeat(32));
    let (wrong_head, _) = ours.sign_keeping_jwk(SigningAlg::Rs256, "journal-checkpoint+jwt", &payload).unwrap();
    let mut forged = lines.clone();
    replace_jws(&mut forged, last, &wrong_head);
    assert_broken_at(&verify_bundle(&forged), line_of(last), "signed head");
}

async fn a_checkpoint_signed_before_a_key_rotation_still_verifies(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    append_entries(&db, 4);
    let before = export(&db, keys.path(), &[]);
    let old_kid = before[1]["keys"][0]["kid"].as_str().unwrap().to_owned();
    let rotated = idp(&db, keys.path(), &["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let retired = idp(&db, keys.path(), &["keys", "retire", &old_kid]);
    assert!(retired.status.success(), "{}", stderr(&retired));
    assert!(!KeySet::load(keys.path()).unwrap().jwks().to_string().contains(&old_kid), "the old key is gone");

    append_entries(&db, 3);
    let after = export(&db, keys.path(), &[]);
    let kids: Vec<&str> = after[1]["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(kids.contains(&old_kid.as_str()));
    let out = verify_bundle(&after);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 checkpoints"), "{}", stdout(&out));
}

async fn since_starts_at_a_signed_checkpoint(backend: Backend) {
    let Some((db, keys)) = setup(backend) else { return };
    append_entries(&db, 4);
    export(&db, keys.path(), &[]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    append_entries(&db, 3);
    let lines = export(&db, keys.path(), &["--since", &since]);
    assert_eq!(lines[0]["first_seq"], 5, "starts at the checkpoint before the first entry since then");
    assert_eq!(lines[2]["seq"], 5);
    assert_eq!(lines[2]["action"], "checkpoint_signed");
    assert_eq!(lines.len(), 2 + 5);
    let out = verify_bundle(&lines);
    assert!(out.status.success(), "{}", stderr(&out));

    // Without its anchoring checkpoint, the start proves nothing.
    let mut unanchored = lines.clone();
    unanchored.remove(2);
    assert_broken_at(&verify_bundle(&unanchored), 3, "not a checkpoint");

    // A day with nothing since: the export's own checkpoint alone.
    let lines = export(&db, keys.path(), &["--since", "2999-01-01"]);
    assert_eq!(lines.len(), 3);
    assert!(verify_bundle(&lines).status.success());
    // No checkpoint before: from entry 1.
    let lines = export(&db, keys.path(), &["--since", "2000-01-01"]);
    assert_eq!(lines[2]["seq"], 1);
}
