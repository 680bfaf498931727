//! Secrets at rest: what the database holds is sealed, opens for its own row only, survives a
//! rotation of the key, and a database from before sealing is sealed without losing a factor.

use diesel::prelude::*;
use mandate_store::schema::{second_factors as factors_table, server_secrets as secrets_table, totp_cards};
use mandate_store::sealing::{self, Keyring, Reseal, ResealReport, SealError, SealingKey, SealingKeys};
use mandate_store::testing::TestDb;
use mandate_store::{cards, now, resealing, second_factors, server_secrets, StoreError};

use crate::fixtures::{aidant, world};

mandate_store::tests_on_both_backends!(
    the_database_holds_no_secret_in_clear,
    a_sealed_secret_moved_to_another_helper_or_altered_does_not_open,
    a_rotation_reseals_every_secret_and_older_keys_open_meanwhile,
    secrets_from_before_sealing_are_refused_until_sealed_then_open,
);

/// The fixtures' helpers are made with this secret.
const APP_SECRET: &str = "JBSWY3DPEHPK3PXP";
const CARD_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const CSRF_KEY: &str = "00112233445566778899aabbccddeeff";

/// Every stored secret as the database holds it: (where, value).
fn raw_values(db: &TestDb) -> Vec<(String, String)> {
    let mut conn = db.store.conn().unwrap();
    let mut all: Vec<(String, String)> = Vec::new();
    let factors: Vec<(String, String)> =
        factors_table::table.select((factors_table::id, factors_table::secret)).load(&mut conn).unwrap();
    all.extend(factors.into_iter().map(|(id, v)| (format!("factor {id}"), v)));
    let cards: Vec<(String, String)> =
        totp_cards::table.select((totp_cards::serial, totp_cards::secret)).load(&mut conn).unwrap();
    all.extend(cards.into_iter().map(|(id, v)| (format!("card {id}"), v)));
    let secrets: Vec<(String, String)> =
        secrets_table::table.select((secrets_table::name, secrets_table::value)).load(&mut conn).unwrap();
    all.extend(secrets.into_iter().map(|(id, v)| (format!("server secret {id}"), v)));
    all
}

/// A helper with an app, another with a card, and a server secret: one secret of each kind.
fn one_of_each(db: &TestDb) -> crate::fixtures::World {
    let w = world(db);
    let mut conn = db.store.conn().unwrap();
    cards::import(
        &mut conn,
        &db.keys,
        &[("C-1".into(), CARD_SECRET.into()), ("C-2".into(), CARD_SECRET.into())],
        now(),
    )
    .unwrap();
    let other = aidant(db, "sacha@example.fr", &[&w.organisation.id]).unwrap();
    cards::assign(&mut conn, &db.keys, "C-1", &other.id, None, None, now()).unwrap();
    server_secrets::get_or_create(&mut conn, &db.keys, "csrf-hmac-key", || CSRF_KEY.into(), now()).unwrap();
    w
}

fn the_database_holds_no_secret_in_clear(db: &TestDb) {
    one_of_each(db);
    let values = raw_values(db);
    assert_eq!(values.len(), 3 + 2 + 1, "two apps and a card as factors, two cards, a server secret");
    for (row, value) in &values {
        assert_eq!(sealing::sealed_by(value), Some(db.keys.current().id()), "{row}: {value}");
        for clear in [APP_SECRET, CARD_SECRET, CSRF_KEY] {
            assert!(!value.contains(clear), "{row} holds a secret in clear");
        }
    }
    // The helpers' codes still come from the same secrets.
    let mut conn = db.store.conn().unwrap();
    let card = cards::find(&mut conn, &db.keys, "C-2").unwrap().unwrap();
    assert_eq!(card.secret, CARD_SECRET);
    let w = world_helper_id(db);
    let factors = second_factors::confirmed(&mut conn, &db.keys, &w).unwrap();
    assert_eq!(factors[0].secret, APP_SECRET);
}

fn world_helper_id(db: &TestDb) -> String {
    let mut conn = db.store.conn().unwrap();
    mandate_store::aidants::find_by_email(
        &mut conn,
        &mandate_store::Email::parse("camille.martin@france-services.example.fr").unwrap(),
    )
    .unwrap()
    .unwrap()
    .id
}

fn a_sealed_secret_moved_to_another_helper_or_altered_does_not_open(db: &TestDb) {
    let w = world(db);
    let other = aidant(db, "sacha@example.fr", &[&w.organisation.id]).unwrap();
    let mut conn = db.store.conn().unwrap();
    let mine = second_factors::confirmed(&mut conn, &db.keys, &w.aidant.id).unwrap().remove(0);
    let theirs = second_factors::confirmed(&mut conn, &db.keys, &other.id).unwrap().remove(0);
    let my_sealed: String = factors_table::table.find(&mine.id).select(factors_table::secret).first(&mut conn).unwrap();

    // Someone with write access to the database gives the other helper my factor.
    diesel::update(factors_table::table.find(&theirs.id))
        .set(factors_table::secret.eq(&my_sealed))
        .execute(&mut conn)
        .unwrap();
    let refused = second_factors::confirmed(&mut conn, &db.keys, &other.id).unwrap_err();
    let StoreError::Unsealable { row, cause } = &refused else { panic!("{refused:?}") };
    assert_eq!(row, &format!("second_factors/{}", theirs.id));
    assert_eq!(cause, &SealError::DoesNotOpen(db.keys.current().id().to_owned()));
    let message = refused.to_string();
    assert!(message.contains("cannot be opened") && message.contains("copied from another row"), "{message}");
    assert!(!message.contains(APP_SECRET) && !message.contains(&my_sealed), "{message}");

    // One character of my own sealed value changed.
    let (head, body) = my_sealed.rsplit_once(':').unwrap();
    let flipped = if body.starts_with('A') { 'B' } else { 'A' };
    let altered = format!("{head}:{flipped}{}", &body[1..]);
    diesel::update(factors_table::table.find(&mine.id))
        .set(factors_table::secret.eq(&altered))
        .execute(&mut conn)
        .unwrap();
    let refused = second_factors::find(&mut conn, &db.keys, &mine.id).unwrap_err();
    assert!(
        matches!(refused, StoreError::Unsealable { cause: SealError::DoesNotOpen(_) | SealError::Malformed, .. }),
        "{refused:?}"
    );
    // A rotation stops at it rather than sealing what it cannot read.
    let rotated = db.keys.with(SealingKey::random());
    assert!(matches!(resealing::reseal(&mut conn, &rotated, Reseal::Everything), Err(StoreError::Unsealable { .. })));
    assert!(raw_values(db).iter().all(|(_, v)| sealing::sealed_by(v) == Some(db.keys.current().id())));
}

fn a_rotation_reseals_every_secret_and_older_keys_open_meanwhile(db: &TestDb) {
    one_of_each(db);
    let before = raw_values(db);
    let rotated = db.keys.with(SealingKey::random());
    let new_id = rotated.current().id().to_owned();
    let mut conn = db.store.conn().unwrap();
    // Before the re-sealing, the old key still opens what it sealed; new values use the new key.
    let helper = world_helper_id(db);
    assert_eq!(second_factors::confirmed(&mut conn, &rotated, &helper).unwrap()[0].secret, APP_SECRET);
    server_secrets::get_or_create(&mut conn, &rotated, "pairwise-subject-key", || "k".into(), now()).unwrap();

    let report = resealing::reseal(&mut conn, &rotated, Reseal::Everything).unwrap();
    assert_eq!(report, ResealReport { resealed: before.len(), sealed_from_plaintext: 0 });
    let after = raw_values(db);
    assert!(after.iter().all(|(_, v)| sealing::sealed_by(v) == Some(new_id.as_str())), "{after:?}");
    let census = resealing::census(&mut conn).unwrap();
    assert_eq!(census.into_iter().collect::<Vec<_>>(), vec![(Some(new_id.clone()), after.len())]);

    // The old key can go: the new one alone opens everything.
    let new_only = Keyring::from_shared(vec![rotated.current()]).unwrap();
    assert_eq!(second_factors::confirmed(&mut conn, &new_only, &helper).unwrap()[0].secret, APP_SECRET);
    assert_eq!(cards::find(&mut conn, &new_only, "C-2").unwrap().unwrap().secret, CARD_SECRET);
    assert_eq!(server_secrets::find(&mut conn, &new_only, "csrf-hmac-key").unwrap().as_deref(), Some(CSRF_KEY));
    // And a second pass has nothing left to do.
    assert_eq!(resealing::reseal(&mut conn, &rotated, Reseal::Everything).unwrap(), ResealReport::default());
}

fn secrets_from_before_sealing_are_refused_until_sealed_then_open(db: &TestDb) {
    let w = one_of_each(db);
    let mut conn = db.store.conn().unwrap();
    // The database as the version before sealing left it: every secret in clear.
    diesel::update(factors_table::table.filter(factors_table::kind.eq("app")))
        .set(factors_table::secret.eq(APP_SECRET))
        .execute(&mut conn)
        .unwrap();
    diesel::update(factors_table::table.filter(factors_table::kind.eq("card")))
        .set(factors_table::secret.eq(CARD_SECRET))
        .execute(&mut conn)
        .unwrap();
    diesel::update(totp_cards::table).set(totp_cards::secret.eq(CARD_SECRET)).execute(&mut conn).unwrap();
    diesel::update(secrets_table::table).set(secrets_table::value.eq(CSRF_KEY)).execute(&mut conn).unwrap();

    // Never read as plaintext.
    let refused = second_factors::confirmed(&mut conn, &db.keys, &w.aidant.id).unwrap_err();
    assert!(matches!(refused, StoreError::Unsealable { cause: SealError::NotSealed, .. }), "{refused:?}");
    assert!(refused.to_string().contains("idp secrets rotate"), "{refused}");
    assert!(matches!(server_secrets::find(&mut conn, &db.keys, "csrf-hmac-key"), Err(StoreError::Unsealable { .. })));

    let report = resealing::reseal(&mut conn, &db.keys, Reseal::Plaintext).unwrap();
    assert_eq!(report, ResealReport { resealed: 0, sealed_from_plaintext: 6 });
    assert!(raw_values(db).iter().all(|(_, v)| sealing::sealed_by(v) == Some(db.keys.current().id())));
    // The helper signs in with the same factor as before.
    assert_eq!(second_factors::confirmed(&mut conn, &db.keys, &w.aidant.id).unwrap()[0].secret, APP_SECRET);
    assert_eq!(cards::find(&mut conn, &db.keys, "C-2").unwrap().unwrap().secret, CARD_SECRET);
    assert_eq!(server_secrets::find(&mut conn, &db.keys, "csrf-hmac-key").unwrap().as_deref(), Some(CSRF_KEY));
}
