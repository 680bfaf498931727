use mandate_store::now;
use mandate_store::server_secrets::get_or_create;
use mandate_store::testing::TestDb;

mandate_store::tests_on_both_backends!(a_server_secret_is_made_once_and_kept,);

fn a_server_secret_is_made_once_and_kept(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let first = get_or_create(&mut conn, &db.keys, "csrf", || "first".into(), now()).unwrap();
    assert_eq!(first, "first");
    // A restart, or another replica, reads the same secret and never makes a second one.
    let mut other = db.store.conn().unwrap();
    let again = get_or_create(&mut other, &db.keys, "csrf", || panic!("must not generate again"), now()).unwrap();
    assert_eq!(again, "first");
    let another_name = get_or_create(&mut conn, &db.keys, "other", || "second".into(), now()).unwrap();
    assert_eq!(another_name, "second");
}
