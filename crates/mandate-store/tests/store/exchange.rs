//! The token endpoint's steps as the store runs them: one transaction each, and single use
//! even when the same code or refresh token arrives many times at once.

use std::sync::{Arc, Barrier, Mutex};

use diesel::connection::{Connection, InstrumentationEvent};
use mandate_store::clients::{self, NewClient};
use mandate_store::exchange::{self, CodeExchange, CodeRefusal, NewTokens, PkceProof, RefreshRefusal};
use mandate_store::grants::{self, NewCode, NewGrant, TokenKind, TokenLifetimes};
use mandate_store::journal::{self, JournalAction};
use mandate_store::testing::TestDb;
use mandate_store::{now, secret_hash, ClientAuthMethod, Demarche, SigningAlg, Store, SubjectType};

use crate::fixtures::{mandate, world};

mandate_store::tests_on_both_backends!(
    a_code_exchange_is_one_transaction,
    a_code_sent_many_times_at_once_is_exchanged_once_and_the_winner_revoked,
    a_refresh_token_sent_many_times_at_once_rotates_once,
    a_refused_binding_spends_the_code_and_revokes_the_grant,
);

pub const CLIENT: &str = "service-impots";
const REDIRECT: &str = "https://rp.example.fr/cb";
const LIFETIMES: TokenLifetimes =
    TokenLifetimes { access: chrono::Duration::seconds(600), refresh: chrono::Duration::seconds(3600) };

pub fn add_client(db: &TestDb, id: &str) {
    clients::create(
        &mut db.store.conn().unwrap(),
        NewClient {
            id: id.into(),
            name: id.into(),
            secret_hash: Some(secret_hash("secret")),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            auth_method: ClientAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            id_token_signed_response_alg: SigningAlg::Rs256,
            userinfo_signed_response_alg: None,
            subject_type: SubjectType::Pairwise,
            sector_identifier: "rp.example.fr".into(),
            demarches: Demarche::ALL.to_vec(),
            backchannel_logout_uri: None,
        },
        now(),
    )
    .unwrap();
}

/// A helper's choice for `CLIENT` under a live mandate; returns the code's hash.
pub fn grant_with_code(db: &TestDb) -> String {
    let w = world(db);
    let created = mandate(db, &w, &[Demarche::Argent], now());
    add_client(db, CLIENT);
    let code_hash = secret_hash(&uuid::Uuid::new_v4().to_string());
    grants::create_with_code(
        &mut db.store.conn().unwrap(),
        NewGrant {
            client_id: CLIENT.into(),
            session_sid: "sid-1".into(),
            aidant_id: w.aidant.id.clone(),
            organisation_id: w.organisation.id.clone(),
            usager_id: w.usager.id.clone(),
            demarche: Demarche::Argent,
            authorisation_id: created.authorisations[0].id.clone(),
            mandate_id: created.mandate.id.clone(),
            scope: "openid offline_access".into(),
            claims: Some(serde_json::json!({"id_token": {"given_name": null}})),
            nonce: Some("n-1".into()),
            auth_time: now(),
            acr: "eidas1".into(),
            amr: vec!["pwd".into(), "otp".into()],
        },
        NewCode {
            code_hash: code_hash.clone(),
            redirect_uri: REDIRECT.into(),
            code_challenge: None,
            code_challenge_method: None,
            lifetime: chrono::Duration::seconds(60),
        },
        now(),
    )
    .unwrap();
    code_hash
}

pub fn exchange_of<'a>(code_hash: &'a str, access: &'a str, refresh: &'a str) -> CodeExchange<'a> {
    CodeExchange {
        client_id: CLIENT,
        code_hash,
        redirect_uri: REDIRECT,
        pkce: PkceProof::Absent,
        tokens: NewTokens { access_hash: access, refresh_hash: refresh, lifetimes: LIFETIMES },
    }
}

/// A pool with a connection for every concurrent request, so that they all wait at the
/// barrier holding one (the test pool has 8).
fn wide_store(db: &TestDb, connections: u32) -> Store {
    Store::open(&db.url, connections).unwrap()
}

fn live_access(db: &TestDb, access_hash: &str) -> bool {
    grants::find_live_token(&mut db.store.conn().unwrap(), access_hash, TokenKind::Access, now()).unwrap().is_some()
}

fn a_code_exchange_is_one_transaction(db: &TestDb) {
    let code_hash = grant_with_code(db);
    let mut conn = db.store.conn().unwrap();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&events);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        let line = match event {
            InstrumentationEvent::BeginTransaction { depth, .. } => format!("begin {depth}"),
            InstrumentationEvent::CommitTransaction { depth, .. } => format!("commit {depth}"),
            InstrumentationEvent::RollbackTransaction { depth, .. } => format!("rollback {depth}"),
            InstrumentationEvent::StartQuery { query, .. } => format!("query {query}"),
            _ => return,
        };
        log.lock().unwrap().push(line);
    });
    let issued = exchange::redeem_code(&mut conn, &exchange_of(&code_hash, "access-1", "refresh-1"), now())
        .unwrap()
        .expect("the code is redeemed");
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    drop(conn);
    assert!(issued.refresh_issued, "offline_access was granted");
    assert_eq!(issued.context.client.id, CLIENT);
    assert_eq!(issued.context.authorisation.demarche, Demarche::Argent);

    let events = events.lock().unwrap().clone();
    let outermost = |prefix: &str| events.iter().filter(|e| *e == &format!("{prefix} 1")).count();
    assert_eq!(outermost("begin"), 1, "exactly one transaction: {events:#?}");
    assert_eq!(outermost("commit"), 1, "{events:#?}");
    assert_eq!(outermost("rollback"), 0, "{events:#?}");
    // Every statement runs inside that transaction: nothing before the BEGIN or after the COMMIT.
    let begin = events.iter().position(|e| e == "begin 1").unwrap();
    let commit = events.iter().position(|e| e == "commit 1").unwrap();
    let outside: Vec<_> = events
        .iter()
        .enumerate()
        .filter(|(i, e)| e.starts_with("query") && (*i < begin || *i > commit))
        .filter(|(_, e)| !e.contains("BEGIN") && !e.contains("COMMIT"))
        .collect();
    assert!(outside.is_empty(), "statements outside the transaction: {outside:#?}");

    assert!(live_access(db, "access-1"));
    let mut conn = db.store.conn().unwrap();
    assert_eq!(journal::count(&mut conn, JournalAction::AuthorisationUsed).unwrap(), 1);
}

fn a_code_sent_many_times_at_once_is_exchanged_once_and_the_winner_revoked(db: &TestDb) {
    const ATTEMPTS: usize = 20;
    let code_hash = grant_with_code(db);
    let wide = wide_store(db, ATTEMPTS as u32);
    let barrier = Arc::new(Barrier::new(ATTEMPTS));
    let outcomes: Vec<(String, Result<bool, CodeRefusal>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ATTEMPTS)
            .map(|i| {
                let (store, barrier, code_hash) = (wide.clone(), Arc::clone(&barrier), code_hash.clone());
                scope.spawn(move || {
                    let mut conn = store.conn().unwrap();
                    let access = format!("access-{i}");
                    let refresh = format!("refresh-{i}");
                    barrier.wait();
                    let outcome = exchange::redeem_code(&mut conn, &exchange_of(&code_hash, &access, &refresh), now())
                        .unwrap()
                        .map(|issued| issued.refresh_issued);
                    (access, outcome)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = outcomes.iter().filter(|(_, o)| o.is_ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().filter(|(_, o)| o.is_err()).all(|(_, o)| *o == Err(CodeRefusal::Reused)), "{outcomes:?}");
    assert!(!live_access(db, &winners[0].0), "the reuse revoked what the winner got");
}

fn a_refresh_token_sent_many_times_at_once_rotates_once(db: &TestDb) {
    const ATTEMPTS: usize = 10;
    let code_hash = grant_with_code(db);
    let mut conn = db.store.conn().unwrap();
    exchange::redeem_code(&mut conn, &exchange_of(&code_hash, "access-0", "refresh-0"), now()).unwrap().unwrap();
    drop(conn);
    let wide = wide_store(db, ATTEMPTS as u32);
    let barrier = Arc::new(Barrier::new(ATTEMPTS));
    let outcomes: Vec<(String, Result<(), RefreshRefusal>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ATTEMPTS)
            .map(|i| {
                let (store, barrier) = (wide.clone(), Arc::clone(&barrier));
                scope.spawn(move || {
                    let mut conn = store.conn().unwrap();
                    let (access, refresh) = (format!("access-{}", i + 1), format!("refresh-{}", i + 1));
                    let tokens = NewTokens { access_hash: &access, refresh_hash: &refresh, lifetimes: LIFETIMES };
                    barrier.wait();
                    let outcome =
                        exchange::rotate_refresh(&mut conn, CLIENT, "refresh-0", &tokens, now()).unwrap().map(|_| ());
                    (access, outcome)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = outcomes.iter().filter(|(_, o)| o.is_ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    // A loser that came before the grant was revoked is a reuse; after, the token is just invalid.
    let losers: Vec<_> = outcomes.iter().filter_map(|(_, o)| o.err()).collect();
    assert!(losers.contains(&RefreshRefusal::Reused), "{outcomes:?}");
    assert!(losers.iter().all(|r| matches!(r, RefreshRefusal::Reused | RefreshRefusal::Invalid)), "{outcomes:?}");
    assert!(!live_access(db, &winners[0].0), "the reuse revoked the whole grant (RFC 9700 §4.14.2)");
}

fn a_refused_binding_spends_the_code_and_revokes_the_grant(db: &TestDb) {
    let code_hash = grant_with_code(db);
    add_client(db, "another-service");
    let mut conn = db.store.conn().unwrap();
    let mut wrong = exchange_of(&code_hash, "access-x", "refresh-x");
    wrong.client_id = "another-service";
    let refused = exchange::redeem_code(&mut conn, &wrong, now()).unwrap().unwrap_err();
    assert_eq!(refused, CodeRefusal::OtherClient);
    // The rightful client comes too late: the code is spent, and nothing was issued.
    let late = exchange::redeem_code(&mut conn, &exchange_of(&code_hash, "access-1", "refresh-1"), now()).unwrap();
    assert_eq!(late.unwrap_err(), CodeRefusal::Reused);
    assert!(!live_access(db, "access-1"));
    assert!(!live_access(db, "access-x"));
    assert_eq!(journal::count(&mut conn, JournalAction::AuthorisationUsed).unwrap(), 0);
}
