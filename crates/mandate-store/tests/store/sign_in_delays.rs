//! Progressive delays after failed sign-ins: claims counted one by one however many arrive at
//! once (threads on their own connections), the delay growing, a success clearing its own
//! counts only, and forgetting.

use chrono::Duration;
use mandate_store::now;
use mandate_store::sign_in_delays::{
    self, account_key, claim, Attempt, DelayRule, DelayRules, SignInStep, EVERY_SOURCE,
};
use mandate_store::testing::TestDb;

mandate_store::tests_on_both_backends!(
    claims_at_once_count_one_by_one_and_stop_at_the_free_failures,
    the_delay_doubles_and_a_success_clears_its_own_counts,
    the_account_bound_holds_back_every_source,
    old_failures_are_forgotten,
);

fn rules() -> DelayRules {
    let rule = |free| DelayRule {
        free_failures: free,
        first_delay: Duration::seconds(30),
        longest_delay: Duration::minutes(15),
    };
    DelayRules { per_source: rule(5), per_account: rule(20), forget_after: Duration::hours(24) }
}

fn failures(db: &TestDb, account: &str, source: &str) -> i32 {
    let mut conn = db.store.conn().unwrap();
    let rows = sign_in_delays::of_account(&mut conn, SignInStep::Password, account).unwrap();
    rows.iter().find(|r| r.source == source).map_or(0, |r| r.failures)
}

fn claims_at_once_count_one_by_one_and_stop_at_the_free_failures(db: &TestDb) {
    let account = account_key("aidant@example.fr");
    let at = now();
    let outcomes: Vec<Attempt> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let account = account.clone();
                scope.spawn(move || {
                    let mut conn = db.store.conn().unwrap();
                    claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at).unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let counted: Vec<&Attempt> = outcomes.iter().filter(|o| matches!(o, Attempt::Counted { .. })).collect();
    assert_eq!(counted.len(), 5, "{outcomes:?}");
    // Exactly one of them, the fifth, started the wait.
    let holds: Vec<&Attempt> =
        counted.iter().copied().filter(|o| matches!(o, Attempt::Counted { hold: Some(_) })).collect();
    assert_eq!(holds, [&Attempt::Counted { hold: Some(at + Duration::seconds(30)) }]);
    assert!(outcomes
        .iter()
        .filter(|o| matches!(o, Attempt::HeldBack { .. }))
        .all(|o| *o == Attempt::HeldBack { until: at + Duration::seconds(30) }));
    assert_eq!(failures(db, &account, "192.0.2.1"), 5);
    assert_eq!(failures(db, &account, EVERY_SOURCE), 5);
}

fn the_delay_doubles_and_a_success_clears_its_own_counts(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let account = account_key("aidant@example.fr");
    let mut at = now();
    for _ in 0..5 {
        claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at).unwrap();
    }
    // Another address and the other step are not held back.
    let other = claim(&mut conn, SignInStep::Password, &account, "198.51.100.7", &rules(), at).unwrap();
    assert_eq!(other, Attempt::Counted { hold: None });
    let code = claim(&mut conn, SignInStep::OneTimeCode, &account, "192.0.2.1", &rules(), at).unwrap();
    assert_eq!(code, Attempt::Counted { hold: None });
    // The wait over, one more failure waits twice as long.
    at += Duration::seconds(30);
    let sixth = claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at).unwrap();
    assert_eq!(sixth, Attempt::Counted { hold: Some(at + Duration::seconds(60)) });
    let held =
        claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at + Duration::seconds(59)).unwrap();
    assert_eq!(held, Attempt::HeldBack { until: at + Duration::seconds(60) });
    // A success from the other address clears its own count and the account's, not this one's.
    sign_in_delays::succeeded(&mut conn, SignInStep::Password, &account, "198.51.100.7").unwrap();
    assert_eq!(failures(db, &account, "198.51.100.7"), 0);
    assert_eq!(failures(db, &account, EVERY_SOURCE), 0);
    assert_eq!(failures(db, &account, "192.0.2.1"), 6);
    // The manager lifts everything.
    assert!(sign_in_delays::account_held_until(&mut conn, &account, at).unwrap().is_some());
    sign_in_delays::lift(&mut conn, &account).unwrap();
    assert_eq!(sign_in_delays::account_held_until(&mut conn, &account, at).unwrap(), None);
    assert_eq!(
        claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at).unwrap(),
        Attempt::Counted { hold: None }
    );
}

fn the_account_bound_holds_back_every_source(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let account = account_key("aidant@example.fr");
    let at = now();
    // Four failures from each of five addresses: the twentieth holds back every source.
    for n in 1..=5 {
        let source = format!("203.0.113.{n}");
        for _ in 0..4 {
            claim(&mut conn, SignInStep::Password, &account, &source, &rules(), at).unwrap();
        }
    }
    let fresh = claim(&mut conn, SignInStep::Password, &account, "192.0.2.99", &rules(), at).unwrap();
    assert_eq!(fresh, Attempt::HeldBack { until: at + Duration::seconds(30) });
    assert_eq!(failures(db, &account, "192.0.2.99"), 0, "a refused claim counts nothing");
    assert_eq!(failures(db, &account, EVERY_SOURCE), 20);
}

fn old_failures_are_forgotten(db: &TestDb) {
    let mut conn = db.store.conn().unwrap();
    let account = account_key("aidant@example.fr");
    let at = now();
    for _ in 0..4 {
        claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), at).unwrap();
    }
    // A day later the fifth failure is a first one.
    let later = at + Duration::hours(25);
    assert_eq!(
        claim(&mut conn, SignInStep::Password, &account, "192.0.2.1", &rules(), later).unwrap(),
        Attempt::Counted { hold: None }
    );
    assert_eq!(failures(db, &account, "192.0.2.1"), 1);
    // Daily upkeep deletes the rows of failures older than a day.
    assert_eq!(sign_in_delays::forget_old(&mut conn, later - Duration::days(1), later).unwrap(), 0);
    assert_eq!(sign_in_delays::forget_old(&mut conn, later + Duration::days(2), later + Duration::days(2)).unwrap(), 2);
}
