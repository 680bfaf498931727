//! `journal::search`: filters, date bounds and keyset pages, on both backends.

use chrono::{NaiveDate, NaiveDateTime};
use mandate_store::journal::{self, JournalAction, JournalEntry, JournalFilter, NewEntry, Page};
use mandate_store::testing::TestDb;
use mandate_store::StoreError;

mandate_store::tests_on_both_backends!(
    each_filter_alone_and_combined,
    since_is_inclusive_and_until_exclusive,
    pages_lose_and_repeat_nothing_while_entries_are_appended,
    a_page_of_no_entry_is_refused,
);

fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(hour, minute, 0).unwrap()
}

fn append(db: &TestDb, entry: NewEntry, when: NaiveDateTime) -> JournalEntry {
    journal::append(&mut db.store.conn().unwrap(), entry, when).unwrap()
}

fn seqs(db: &TestDb, filter: &JournalFilter) -> Vec<i64> {
    let page = journal::search(&mut db.store.conn().unwrap(), filter, Page::first(1_000)).unwrap();
    assert_eq!(page.next_before_seq, None, "everything fits in one page");
    page.entries.iter().map(|e| e.seq).collect()
}

fn entry(action: JournalAction, organisation: &str, aidant: &str, usager: Option<&str>) -> NewEntry {
    let entry = NewEntry::new(action).organisation(organisation).aidant(aidant);
    match usager {
        Some(u) => entry.usager(u),
        None => entry,
    }
}

fn each_filter_alone_and_combined(db: &TestDb) {
    use JournalAction::{AidantConnected, AuthorisationUsed, MandateCreated};
    // seq 1..=6, one per hour on 3 November.
    append(db, entry(AidantConnected, "org-a", "aidant-x", None), at(3, 9, 0));
    append(db, entry(MandateCreated, "org-a", "aidant-x", Some("usager-u")), at(3, 10, 0));
    append(db, entry(AuthorisationUsed, "org-a", "aidant-y", Some("usager-u")), at(3, 11, 0));
    append(db, entry(AuthorisationUsed, "org-b", "aidant-z", Some("usager-v")), at(3, 12, 0));
    append(db, entry(MandateCreated, "org-b", "aidant-z", Some("usager-u")), at(3, 13, 0));
    append(db, entry(AuthorisationUsed, "org-a", "aidant-x", Some("usager-v")), at(3, 14, 0));

    assert_eq!(seqs(db, &JournalFilter::default()), [6, 5, 4, 3, 2, 1], "no filter: all, newest first");
    let organisation = JournalFilter { organisation_id: Some("org-a".into()), ..Default::default() };
    assert_eq!(seqs(db, &organisation), [6, 3, 2, 1]);
    let aidant = JournalFilter { aidant_id: Some("aidant-x".into()), ..Default::default() };
    assert_eq!(seqs(db, &aidant), [6, 2, 1]);
    let usager = JournalFilter { usager_id: Some("usager-u".into()), ..Default::default() };
    assert_eq!(seqs(db, &usager), [5, 3, 2]);
    let action = JournalFilter { action: Some(AuthorisationUsed), ..Default::default() };
    assert_eq!(seqs(db, &action), [6, 4, 3]);
    let since = JournalFilter { since: Some(at(3, 12, 0)), ..Default::default() };
    assert_eq!(seqs(db, &since), [6, 5, 4]);
    let until = JournalFilter { until: Some(at(3, 12, 0)), ..Default::default() };
    assert_eq!(seqs(db, &until), [3, 2, 1]);

    // Combined, every condition must hold.
    let org_and_action =
        JournalFilter { organisation_id: Some("org-a".into()), action: Some(AuthorisationUsed), ..Default::default() };
    assert_eq!(seqs(db, &org_and_action), [6, 3]);
    let org_usager_range = JournalFilter {
        organisation_id: Some("org-a".into()),
        usager_id: Some("usager-u".into()),
        since: Some(at(3, 10, 30)),
        until: Some(at(3, 23, 0)),
        ..Default::default()
    };
    assert_eq!(seqs(db, &org_usager_range), [3]);
    let all = JournalFilter {
        organisation_id: Some("org-a".into()),
        aidant_id: Some("aidant-x".into()),
        usager_id: Some("usager-v".into()),
        action: Some(AuthorisationUsed),
        since: Some(at(3, 0, 0)),
        until: Some(at(4, 0, 0)),
    };
    assert_eq!(seqs(db, &all), [6]);
    let no_match = JournalFilter {
        organisation_id: Some("org-b".into()),
        aidant_id: Some("aidant-x".into()),
        ..Default::default()
    };
    assert_eq!(seqs(db, &no_match), Vec::<i64>::new());
    // An id is matched whole, never as a part.
    let prefix = JournalFilter { organisation_id: Some("org".into()), ..Default::default() };
    assert_eq!(seqs(db, &prefix), Vec::<i64>::new());
}

fn since_is_inclusive_and_until_exclusive(db: &TestDb) {
    let used = |i: usize| NewEntry::new(JournalAction::AuthorisationUsed).client(&format!("client-{i}"));
    let midnight = at(5, 0, 0);
    let just_before = midnight - chrono::Duration::microseconds(1);
    let just_after = midnight + chrono::Duration::microseconds(1);
    append(db, used(1), just_before); // seq 1
    append(db, used(2), midnight); // seq 2
    append(db, used(3), just_after); // seq 3
    append(db, used(4), at(6, 0, 0)); // seq 4: the next midnight

    let from_midnight = JournalFilter { since: Some(midnight), ..Default::default() };
    assert_eq!(seqs(db, &from_midnight), [4, 3, 2], "an entry at `since` is in");
    let before_midnight = JournalFilter { until: Some(midnight), ..Default::default() };
    assert_eq!(seqs(db, &before_midnight), [1], "an entry at `until` is out");
    // One whole day, [midnight, next midnight): the entry at the next midnight belongs to the
    // next day.
    let the_day = JournalFilter { since: Some(midnight), until: Some(at(6, 0, 0)), ..Default::default() };
    assert_eq!(seqs(db, &the_day), [3, 2]);
    let empty = JournalFilter { since: Some(midnight), until: Some(midnight), ..Default::default() };
    assert_eq!(seqs(db, &empty), Vec::<i64>::new());
}

fn pages_lose_and_repeat_nothing_while_entries_are_appended(db: &TestDb) {
    let used = |i: usize| {
        let organisation = if i.is_multiple_of(3) { "org-b" } else { "org-a" };
        NewEntry::new(JournalAction::AuthorisationUsed).organisation(organisation).client(&format!("client-{i}"))
    };
    for i in 1..=10 {
        append(db, used(i), at(7, 9, i as u32));
    }
    // org-a holds seq 10, 8, 7, 5, 4, 2, 1 (multiples of 3 are org-b).
    let filter = JournalFilter { organisation_id: Some("org-a".into()), ..Default::default() };
    let mut conn = db.store.conn().unwrap();
    let first = journal::search(&mut conn, &filter, Page::first(3)).unwrap();
    assert_eq!(first.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [10, 8, 7]);
    assert_eq!(first.next_before_seq, Some(7));

    // Entries arrive while the reader is on the first page, one of them for org-a.
    drop(conn);
    append(db, used(11), at(7, 10, 0));
    append(db, used(12), at(7, 10, 1));
    let mut conn = db.store.conn().unwrap();

    let mut seen: Vec<i64> = first.entries.iter().map(|e| e.seq).collect();
    let mut before = first.next_before_seq;
    let mut pages = 1;
    while let Some(before_seq) = before {
        let page = journal::search(&mut conn, &filter, Page { before_seq: Some(before_seq), limit: 3 }).unwrap();
        assert!(!page.entries.is_empty(), "a next page is announced only when it holds entries");
        assert!(page.entries.iter().all(|e| e.seq < before_seq && e.organisation_id.as_deref() == Some("org-a")));
        seen.extend(page.entries.iter().map(|e| e.seq));
        before = page.next_before_seq;
        pages += 1;
    }
    assert_eq!(seen, [10, 8, 7, 5, 4, 2, 1], "every entry once, in order, none of the new ones");
    assert_eq!(pages, 3);

    // A page that ends exactly on the last matching entry announces no next page.
    let exact = journal::search(&mut conn, &filter, Page { before_seq: Some(5), limit: 3 }).unwrap();
    assert_eq!(exact.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 2, 1]);
    assert_eq!(exact.next_before_seq, None);
    // Reading again from the top shows the new org-a entry (seq 11) first.
    let top = journal::search(&mut conn, &filter, Page::first(1)).unwrap();
    assert_eq!(top.entries[0].seq, 11);
    assert_eq!(top.next_before_seq, Some(11));
}

fn a_page_of_no_entry_is_refused(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    for limit in [0, -1] {
        let err = journal::search(&mut conn, &JournalFilter::default(), Page::first(limit)).unwrap_err();
        assert!(matches!(err, StoreError::InvalidField { field: "limit", .. }), "{err:?}");
    }
}
