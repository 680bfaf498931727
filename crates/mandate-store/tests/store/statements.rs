//! The lookups every request makes are prepared once per connection and then reused from
//! diesel's statement cache: compiling them again at every call was 22 % of the server's CPU on
//! SQLite (decision 0019's profile, decision 0028).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::Connection;
use libsqlite3_sys as ffi;
use mandate_store::grants::TokenKind;
use mandate_store::testing::TestDb;
use mandate_store::{aidants, clients, grants, mandates, now, organisations, sessions, DbConnection, Demarche, Store};

use crate::fixtures::world;

mandate_store::tests_on_both_backends!(hot_lookups_are_prepared_once_per_connection,);

/// The statements one call put in the connection's statement cache (diesel reports each one
/// it prepares to keep).
fn statements_cached_by(conn: &mut DbConnection, call: impl FnOnce(&mut DbConnection)) -> Vec<String> {
    let cached: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&cached);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            log.lock().unwrap().push(sql.to_owned());
        }
    });
    call(conn);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    let cached = cached.lock().unwrap().clone();
    cached
}

/// One of the lookups a request makes, by name.
type Lookup<'a> = Box<dyn Fn(&mut DbConnection) + 'a>;

fn hot_lookups_are_prepared_once_per_connection(db: &TestDb) {
    let w = world(db);
    // A pool of its own: a connection that has run none of these lookups yet.
    let store = Store::open(&db.url, 1).unwrap();
    let mut conn = store.conn().unwrap();
    let lookups: Vec<(&str, Lookup)> = vec![
        ("aidants::find", Box::new(|c| drop(aidants::find(c, &w.aidant.id).unwrap()))),
        ("clients::find", Box::new(|c| drop(clients::find(c, "no-such-client").unwrap()))),
        ("sessions::find_live", Box::new(|c| drop(sessions::find_live(c, "no-such-session", now()).unwrap()))),
        (
            "grants::find_live_token",
            Box::new(|c| drop(grants::find_live_token(c, "no-such-token", TokenKind::Access, now()).unwrap())),
        ),
        ("organisations::find", Box::new(|c| drop(organisations::find(c, &w.organisation.id).unwrap()))),
        (
            "mandates::may_act",
            Box::new(|c| {
                drop(
                    mandates::may_act(c, &w.aidant.id, &w.organisation.id, &w.usager.id, Demarche::Argent, now())
                        .unwrap(),
                )
            }),
        ),
    ];
    for (name, lookup) in &lookups {
        let first = statements_cached_by(&mut conn, lookup);
        assert!(!first.is_empty(), "{name}: its first call must keep its statements prepared, kept none");
        let again = statements_cached_by(&mut conn, lookup);
        assert!(again.is_empty(), "{name}: a second call prepared again: {again:#?}");
    }
}

/// How many SELECT statements SQLite compiled on connections to the file [`COUNTED_FILE`]
/// names (SQLite asks the authorizer once per SELECT it compiles, re-compilations included,
/// which diesel cannot see).
static SELECTS_COMPILED: AtomicUsize = AtomicUsize::new(0);
static COUNTED_FILE: Mutex<String> = Mutex::new(String::new());

unsafe extern "C" fn count_selects(
    _user: *mut c_void,
    action: c_int,
    _a: *const c_char,
    _b: *const c_char,
    _c: *const c_char,
    _d: *const c_char,
) -> c_int {
    if action == ffi::SQLITE_SELECT {
        SELECTS_COMPILED.fetch_add(1, Ordering::SeqCst);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn watch_counted_file(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite hands a valid connection being opened; the file name it returns lives as
    // long as the connection.
    unsafe {
        let name = ffi::sqlite3_db_filename(db, c"main".as_ptr());
        let counted = COUNTED_FILE.lock().unwrap();
        if !name.is_null() && !counted.is_empty() && CStr::from_ptr(name).to_string_lossy().ends_with(counted.as_str())
        {
            ffi::sqlite3_set_authorizer(db, Some(count_selects), std::ptr::null_mut());
        }
    }
    ffi::SQLITE_OK
}

/// On SQLite, the lookups of every request are compiled once per connection, not at each call
/// (SQLite used to throw them away at every call because of their bound `LIMIT`).
#[test]
fn sqlite_compiles_the_hot_lookups_once_per_connection() {
    // SAFETY: registers a callback with the signature SQLite expects, for connections opened
    // from now on; it only acts on this test's own file.
    assert_eq!(unsafe { ffi::sqlite3_auto_extension(Some(watch_counted_file)) }, ffi::SQLITE_OK);
    let db = TestDb::sqlite();
    let w = world(&db);
    let file = db.url.strip_prefix("sqlite://").expect("a SQLite file").to_owned();
    *COUNTED_FILE.lock().unwrap() = file;
    // A connection opened now, so that the authorizer watches it.
    let store = Store::open(&db.url, 1).unwrap();
    let mut conn = store.conn().unwrap();
    let all_lookups = |c: &mut DbConnection| {
        aidants::find(c, &w.aidant.id).unwrap();
        clients::find(c, "no-such-client").unwrap();
        sessions::find_live(c, "no-such-session", now()).unwrap();
        grants::find_live_token(c, "no-such-token", TokenKind::Access, now()).unwrap();
        organisations::find(c, &w.organisation.id).unwrap();
        mandates::may_act(c, &w.aidant.id, &w.organisation.id, &w.usager.id, Demarche::Argent, now()).unwrap();
    };
    all_lookups(&mut conn);
    let after_first_round = SELECTS_COMPILED.load(Ordering::SeqCst);
    assert!(after_first_round > 0, "the authorizer saw no compilation: the test does not watch the store");
    for _ in 0..3 {
        all_lookups(&mut conn);
    }
    let compiled_again = SELECTS_COMPILED.load(Ordering::SeqCst) - after_first_round;
    assert_eq!(
        compiled_again, 0,
        "SQLite compiled {compiled_again} SELECTs again in 3 more rounds of the same lookups"
    );
}
