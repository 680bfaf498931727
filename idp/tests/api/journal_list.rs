//! `idp journal list`: filters, pages, and the three formats, as an operator runs it.

use chrono::{NaiveDate, NaiveDateTime};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::testing::TestDb;
use mandate_store::{Backend, Demarche};
use serde_json::Value;

use crate::helpers::{idp, stderr, stdout};

crate::on_both_backends!(
    journal_list_filters_by_organisation_aidant_usager_action_and_dates,
    journal_list_pages_with_before,
    journal_list_as_csv_parses_back_to_the_entries,
    journal_list_refuses_an_unknown_action_or_a_bad_date_as_a_usage_error,
);

fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(hour, minute, 0).unwrap()
}

/// seq 1..=5:
/// 1  27 Nov 23:59  aidant_connected    org-a  aidant-x
/// 2  28 Nov 00:00  mandate_created     org-a  aidant-x  usager-u
/// 3  28 Nov 14:30  authorisation_used  org-a  aidant-y  usager-u  argent, client impots
/// 4  28 Nov 23:59  authorisation_used  org-b  aidant-z  usager-v
/// 5  29 Nov 00:00  mandate_revoked     org-a  aidant-x  usager-v
fn seed(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let entries = [
        (NewEntry::new(JournalAction::AidantConnected).organisation("org-a").aidant("aidant-x"), at(27, 23, 59)),
        (
            NewEntry::new(JournalAction::MandateCreated).organisation("org-a").aidant("aidant-x").usager("usager-u"),
            at(28, 0, 0),
        ),
        (
            NewEntry::new(JournalAction::AuthorisationUsed)
                .organisation("org-a")
                .aidant("aidant-y")
                .usager("usager-u")
                .mandate("mandate-1")
                .demarche(Demarche::Argent)
                .client("impots")
                .details(serde_json::json!({"grant_type": "authorization_code", "note": "a, \"b\""})),
            at(28, 14, 30),
        ),
        (
            NewEntry::new(JournalAction::AuthorisationUsed).organisation("org-b").aidant("aidant-z").usager("usager-v"),
            at(28, 23, 59),
        ),
        (
            NewEntry::new(JournalAction::MandateRevoked).organisation("org-a").aidant("aidant-x").usager("usager-v"),
            at(29, 0, 0),
        ),
    ];
    for (entry, when) in entries {
        journal::append(&mut conn, entry, when).unwrap();
    }
}

/// The seqs `idp journal list --format json ARGS` prints.
fn listed(url: &str, args: &[&str]) -> Vec<i64> {
    let mut all = vec!["journal", "list", "--format", "json"];
    all.extend_from_slice(args);
    let out = idp(url, &all, None);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let value: Value = serde_json::from_str(&stdout(&out)).unwrap();
    value.as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

async fn journal_list_filters_by_organisation_aidant_usager_action_and_dates(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    seed(&db);
    let url = db.url.as_str();
    assert_eq!(listed(url, &[]), [5, 4, 3, 2, 1]);
    assert_eq!(listed(url, &["--organisation", "org-a"]), [5, 3, 2, 1]);
    assert_eq!(listed(url, &["--aidant", "aidant-x"]), [5, 2, 1]);
    assert_eq!(listed(url, &["--usager", "usager-u"]), [3, 2]);
    assert_eq!(listed(url, &["--action", "authorisation_used"]), [4, 3]);
    // A day covers the whole day in UTC, from its midnight to (not including) the next one.
    assert_eq!(listed(url, &["--since", "2026-11-28", "--until", "2026-11-28"]), [4, 3, 2]);
    assert_eq!(listed(url, &["--since", "2026-11-29"]), [5]);
    assert_eq!(listed(url, &["--until", "2026-11-27"]), [1]);
    // An instant is exact: inclusive for --since, exclusive for --until, any offset.
    assert_eq!(listed(url, &["--since", "2026-11-28T15:30:00+01:00"]), [5, 4, 3]);
    assert_eq!(listed(url, &["--until", "2026-11-28T14:30:00Z"]), [2, 1]);
    // Together, every filter must hold.
    assert_eq!(
        listed(url, &["--organisation", "org-a", "--action", "authorisation_used", "--since", "2026-11-28"]),
        [3]
    );
    assert_eq!(listed(url, &["--organisation", "org-b", "--aidant", "aidant-x"]), Vec::<i64>::new());

    // The JSON keeps the shape it always had: an array of whole entries.
    let out = idp(url, &["journal", "list", "--format", "json", "--usager", "usager-u", "--limit", "1"], None);
    let entries: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let entry = &entries[0];
    assert_eq!(entry["action"], "authorisation_used");
    assert_eq!(entry["demarche"], "argent");
    assert_eq!(entry["details"], r#"{"grant_type":"authorization_code","note":"a, \"b\""}"#);
    assert_eq!(entry["hash"].as_str().unwrap().len(), 64);

    // Text, for people, is the default: one line per entry, with the ids it holds.
    let text = idp(url, &["journal", "list", "--usager", "usager-u"], None);
    assert!(text.status.success(), "{}", stderr(&text));
    let lines: Vec<String> = stdout(&text).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("2026-11-28 14:30:00 UTC  authorisation_used"), "{}", lines[0]);
    assert!(lines[0].contains("usager usager-u") && lines[0].contains("demarche argent"), "{}", lines[0]);
    assert!(lines[1].contains("mandate_created") && !lines[1].contains("client"), "{}", lines[1]);
    let none = idp(url, &["journal", "list", "--usager", "nobody"], None);
    assert_eq!(stdout(&none).trim(), "no journal entry");
}

async fn journal_list_pages_with_before(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    seed(&db);
    let url = db.url.as_str();
    let first = idp(url, &["journal", "list", "--format", "json", "--organisation", "org-a", "--limit", "2"], None);
    let first_seqs: Vec<i64> = serde_json::from_str::<Vec<Value>>(&stdout(&first))
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(first_seqs, [5, 3]);
    assert!(stderr(&first).contains("--before 3"), "the next page is named: {}", stderr(&first));

    // An entry appended meanwhile does not shift the next page.
    journal::append(
        &mut db.store.conn().unwrap(),
        NewEntry::new(JournalAction::AidantConnected).organisation("org-a").aidant("aidant-x"),
        at(29, 9, 0),
    )
    .unwrap();
    let next = idp(
        url,
        &["journal", "list", "--format", "json", "--organisation", "org-a", "--limit", "2", "--before", "3"],
        None,
    );
    let next_seqs: Vec<i64> = serde_json::from_str::<Vec<Value>>(&stdout(&next))
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(next_seqs, [2, 1]);
    assert!(stderr(&next).is_empty(), "the last page names no next one: {}", stderr(&next));
    assert_eq!(listed(url, &["--organisation", "org-a", "--limit", "1"]), [6]);
}

async fn journal_list_as_csv_parses_back_to_the_entries(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    seed(&db);
    let url = db.url.as_str();
    let json = idp(url, &["journal", "list", "--format", "json", "--organisation", "org-a"], None);
    let entries: Vec<Value> = serde_json::from_str(&stdout(&json)).unwrap();
    let out = idp(url, &["journal", "list", "--format", "csv", "--organisation", "org-a"], None);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "seq",
            "created_at",
            "action",
            "aidant_id",
            "organisation_id",
            "usager_id",
            "mandate_id",
            "authorisation_id",
            "demarche",
            "client_id",
            "details",
            "hash"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "one row per entry, as JSON lists them");
    for (row, entry) in rows.iter().zip(&entries) {
        assert_eq!(row[0], entry["seq"].to_string());
        assert_eq!(row[2], entry["action"]);
        assert_eq!(row[11], entry["hash"]);
        for (i, column) in header.iter().enumerate().take(11).skip(3) {
            assert_eq!(&row[i], entry[column].as_str().unwrap_or(""), "{column} of entry {}", &row[0]);
        }
    }
    // The entry with everything: RFC 3339 UTC, quotes and commas inside details come back whole.
    let used = &rows[1];
    assert_eq!(&used[1], "2026-11-28T14:30:00.000000Z");
    assert_eq!(&used[8], "argent");
    assert_eq!(&used[10], r#"{"grant_type":"authorization_code","note":"a, \"b\""}"#);
    let details: Value = serde_json::from_str(&used[10]).unwrap();
    assert_eq!(details["note"], "a, \"b\"");
    assert_eq!(&rows[0][6], "", "an absent id is an empty cell");

    let empty = idp(url, &["journal", "list", "--format", "csv", "--usager", "nobody"], None);
    assert_eq!(stdout(&empty).lines().count(), 1, "the header alone: {}", stdout(&empty));
}

async fn journal_list_refuses_an_unknown_action_or_a_bad_date_as_a_usage_error(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    seed(&db);
    let url = db.url.as_str();
    let action = idp(url, &["journal", "list", "--action", "mandate_signed"], None);
    assert_eq!(action.status.code(), Some(2));
    assert!(
        stderr(&action).contains("mandate_signed") && stderr(&action).contains("authorisation_used"),
        "names the bad value and the known ones: {}",
        stderr(&action)
    );
    for (flag, value) in [("--since", "28/11/2026"), ("--until", "2026-11-31"), ("--since", "2026-11-28 14:30")] {
        let out = idp(url, &["journal", "list", flag, value], None);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&out).contains("YYYY-MM-DD") && stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    for (flag, value) in [("--limit", "0"), ("--before", "-1"), ("--format", "xml")] {
        let out = idp(url, &["journal", "list", flag, value], None);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {}", stderr(&out));
    }
}
