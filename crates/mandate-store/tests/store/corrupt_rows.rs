//! A stored value outside its column's set (written with raw SQL, as someone with database
//! access could) is an error when read, never an empty or default value. Columns that the
//! schema already guards with a CHECK (role, duration, authorisation démarche, client
//! authentication method and subject type, token kind) cannot hold one.

use mandate_store::testing::TestDb;
use mandate_store::{clients, grants, journal, now, StoreError, StoreResult};

use crate::exchange::{exchange_of, grant_with_code, CLIENT};
use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    a_corrupt_client_row_is_an_error,
    a_corrupt_grant_or_token_row_is_an_error,
    a_corrupt_journal_row_is_an_error,
);

#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(result: StoreResult<T>, expected_column: &str, expected_value: &str) {
    match result {
        Err(StoreError::CorruptRow { column, value, .. }) => {
            assert!(column.contains(expected_column), "column {column:?}, expected {expected_column:?}");
            assert_eq!(value, expected_value);
        }
        other => panic!("expected a corrupt row in {expected_column}, got {other:?}"),
    }
}

fn a_corrupt_client_row_is_an_error(db: &TestDb) {
    grant_with_code(db);
    let find = || clients::find(&mut db.store.conn().unwrap(), CLIENT);
    assert!(find().unwrap().is_some());
    let cases = [
        ("id_token_signed_response_alg", "'HS256'", "HS256"),
        ("userinfo_signed_response_alg", "'none'", "none"),
        ("redirect_uris", "'https://rp.example.fr/cb'", "https://rp.example.fr/cb"),
        ("post_logout_redirect_uris", "''", ""),
        // An unknown démarche used to be dropped silently, narrowing what the client was offered.
        ("demarches", r#"'["argent","impots"]'"#, r#"["argent","impots"]"#),
    ];
    for (column, sql_value, stored) in cases {
        db.execute_sql(&format!("UPDATE clients SET {column} = {sql_value} WHERE id = '{CLIENT}'"));
        let expected = if column.ends_with("signed_response_alg") { "signed_response_alg" } else { column };
        assert_corrupt(find(), expected, stored);
        assert_corrupt(clients::list(&mut db.store.conn().unwrap()), expected, stored);
        restore_client(db, column);
        assert!(find().is_ok(), "restored {column}");
    }
}

/// Puts back the value `grant_with_code` registered.
fn restore_client(db: &TestDb, column: &str) {
    let value = match column {
        "id_token_signed_response_alg" => "'RS256'",
        "userinfo_signed_response_alg" => "NULL",
        "redirect_uris" => r#"'["https://rp.example.fr/cb"]'"#,
        "post_logout_redirect_uris" => "'[]'",
        "demarches" => r#"'["argent"]'"#,
        other => panic!("no original value for {other}"),
    };
    db.execute_sql(&format!("UPDATE clients SET {column} = {value} WHERE id = '{CLIENT}'"));
}

fn a_corrupt_grant_or_token_row_is_an_error(db: &TestDb) {
    let code_hash = grant_with_code(db);
    let mut conn = db.store.conn().unwrap();
    mandate_store::exchange::redeem_code(&mut conn, &exchange_of(&code_hash, "access-1", "refresh-1"), now())
        .unwrap()
        .unwrap();
    let latest = |conn: &mut mandate_store::DbConnection| grants::latest_for_session(conn, "sid-1", CLIENT);
    assert!(latest(&mut conn).unwrap().is_some());

    db.execute_sql("UPDATE grants SET amr = 'pwd otp'");
    assert_corrupt(latest(&mut conn), "grants.amr", "pwd otp");
    assert_corrupt(grants::find_token(&mut conn, "access-1"), "grants.amr", "pwd otp");
    db.execute_sql(r#"UPDATE grants SET amr = '["pwd","otp"]'"#);

    db.execute_sql("UPDATE grants SET claims = '[1]'");
    assert_corrupt(latest(&mut conn), "grants.claims", "[1]");
    db.execute_sql("UPDATE grants SET claims = NULL");

    db.execute_sql("UPDATE grants SET demarche = 'impots'");
    assert_corrupt(latest(&mut conn), "demarche", "impots");
    db.execute_sql("UPDATE grants SET demarche = 'argent'");
    // Before, a grant with an unknown démarche silently lost its mandate check at prompt=none.
    db.execute_sql("UPDATE grants SET demarche = 'impots'");
    assert_corrupt(grants::find_token(&mut conn, "access-1"), "demarche", "impots");
}

fn a_corrupt_journal_row_is_an_error(db: &TestDb) {
    let w = world(db);
    mandate(db, &w, &[mandate_store::Demarche::Argent], now());
    let recent = || journal::recent(&mut db.store.conn().unwrap(), None, 10);
    // The world's two organisations registered, then the mandate's two entries.
    assert_eq!(recent().unwrap().len(), 4);
    db.tamper_with_journal("UPDATE journal_entries SET action = 'mandate_deleted' WHERE seq = 1");
    assert_corrupt(recent(), "journal_entries.action", "mandate_deleted");
    db.tamper_with_journal("UPDATE journal_entries SET action = 'authorisation_created' WHERE seq = 1");
    db.tamper_with_journal("UPDATE journal_entries SET details = '{\"duration\": ' WHERE seq = 1");
    assert_corrupt(recent(), "journal_entries.details", "{\"duration\": ");
}
