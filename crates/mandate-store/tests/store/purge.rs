//! The purge: rows past their use go, live ones stay; usagers whose mandates all ended more than
//! the retention period ago are erased, with the journal whole.

use chrono::{Duration, Months, NaiveDateTime};
use diesel::prelude::*;
use mandate_store::authorization_requests::{self, PendingAuthorization};
use mandate_store::exchange;
use mandate_store::grants::{self, NewCode, NewGrant};
use mandate_store::journal::{self, ChainReport, JournalAction};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::purge::{self, Purged};
use mandate_store::schema;
use mandate_store::sign_in_delays::{self, DelayRule, DelayRules, SignInStep};
use mandate_store::testing::TestDb;
use mandate_store::upstream_logins::{self, NewUpstreamLogin};
use mandate_store::usagers::{self, NewUsager, Usager};
use mandate_store::{mandate_drafts, now, secret_hash, sessions, usager_sessions, Demarche, DurationKind};

use crate::exchange::{add_client, exchange_of, CLIENT};
use crate::fixtures::{world, World};

mandate_store::tests_on_both_backends!(
    rows_past_their_use_go_and_live_ones_stay,
    usagers_whose_mandates_all_ended_a_year_ago_are_erased_and_no_one_else,
);

const REDIRECT: &str = "https://rp.example.fr/cb";

/// A helper's choice for `CLIENT` made at `at` in the session `sid`; returns the code's hash.
fn grant_at(
    db: &TestDb,
    w: &World,
    mandate: &mandates::MandateWithAuthorisations,
    sid: &str,
    at: NaiveDateTime,
) -> String {
    let code_hash = secret_hash(&uuid::Uuid::new_v4().to_string());
    grants::create_with_code(
        &mut db.store.conn().unwrap(),
        NewGrant {
            client_id: CLIENT.into(),
            session_sid: sid.into(),
            aidant_id: w.aidant.id.clone(),
            organisation_id: w.organisation.id.clone(),
            usager_id: w.usager.id.clone(),
            demarche: Demarche::Argent,
            authorisation_id: mandate.authorisations[0].id.clone(),
            mandate_id: mandate.mandate.id.clone(),
            scope: "openid offline_access".into(),
            claims: None,
            nonce: None,
            auth_time: at,
            acr: "eidas1".into(),
            amr: vec!["pwd".into(), "otp".into()],
        },
        NewCode {
            code_hash: code_hash.clone(),
            redirect_uri: REDIRECT.into(),
            code_challenge: None,
            code_challenge_method: None,
            lifetime: Duration::seconds(60),
        },
        at,
    )
    .unwrap();
    code_hash
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn rows(conn: &mut mandate_store::DbConnection, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(conn).unwrap().n
}

fn erased_at(conn: &mut mandate_store::DbConnection, usager_id: &str) -> Option<NaiveDateTime> {
    schema::usagers::table.find(usager_id).select(schema::usagers::erased_at).first(conn).unwrap()
}

fn login<'a>(state: &'a str, draft_id: Option<&'a str>) -> NewUpstreamLogin<'a> {
    NewUpstreamLogin { state, session_sid: "sid-a", draft_id, nonce: "n", code_verifier: "v" }
}

fn pending_request(sid: &str, at: NaiveDateTime, lifetime: Duration) -> PendingAuthorization {
    PendingAuthorization {
        id: uuid::Uuid::new_v4().to_string(),
        session_sid: sid.into(),
        client_id: CLIENT.into(),
        params: "{}".into(),
        usager_id: None,
        demarche: None,
        created_at: at,
        expires_at: at + lifetime,
    }
}

fn rows_past_their_use_go_and_live_ones_stay(db: &TestDb) {
    let w = world(db);
    add_client(db, CLIENT);
    let at = now();
    let two_days_ago = at - Duration::days(2);
    let mut conn = db.store.conn().unwrap();
    let mandate = mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: w.organisation.id.clone(),
            usager_id: w.usager.id.clone(),
            aidant_id: w.aidant.id.clone(),
            demarches: vec![Demarche::Argent],
            duration: DurationKind::Month,
            custom_expires_at: None,
            is_remote: false,
            consent_proof: None,
        },
        at - Duration::days(3),
    )
    .unwrap();

    // Helper sessions: one that outlived its 12 hours, one live.
    sessions::create(&mut conn, "expired-session", at - Duration::hours(13), Duration::hours(12)).unwrap();
    let live_session = sessions::create(&mut conn, "live-session", at, Duration::hours(12)).unwrap();
    // An exchanged grant of two days ago, its tokens expired, its session gone: nothing uses it.
    let old_code = grant_at(db, &w, &mandate, "sid-of-a-session-long-gone", two_days_ago);
    exchange::redeem_code(&mut conn, &exchange_of(&old_code, "access-old", "refresh-old"), two_days_ago)
        .unwrap()
        .unwrap();
    // A code of two days ago never exchanged, in a session still live (which may reuse its grant).
    let unused_code = grant_at(db, &w, &mandate, &live_session.sid, two_days_ago);
    // Today's: exchanged, its tokens live.
    let live_code = grant_at(db, &w, &mandate, "sid-of-today", at);
    exchange::redeem_code(&mut conn, &exchange_of(&live_code, "access-live", "refresh-live"), at).unwrap().unwrap();

    usager_sessions::begin(&mut conn, "usager-expired", at - Duration::hours(1)).unwrap();
    usager_sessions::begin(&mut conn, "usager-live", at).unwrap();
    authorization_requests::create(&mut conn, &pending_request("sid-a", two_days_ago, Duration::minutes(30))).unwrap();
    let live_request = pending_request("sid-b", at, Duration::minutes(30));
    authorization_requests::create(&mut conn, &live_request).unwrap();
    let old_draft = mandate_drafts::create(
        &mut conn,
        "sid-a",
        &w.aidant.id,
        &w.organisation.id,
        vec![Demarche::Argent],
        two_days_ago,
    )
    .unwrap();
    let live_draft =
        mandate_drafts::create(&mut conn, "sid-b", &w.aidant.id, &w.organisation.id, vec![Demarche::Argent], at)
            .unwrap();
    upstream_logins::begin(&mut conn, login("state-of-the-old-draft", Some(&old_draft.id)), two_days_ago).unwrap();
    upstream_logins::begin(&mut conn, login("state-old", None), two_days_ago).unwrap();
    upstream_logins::begin(&mut conn, login("state-live", Some(&live_draft.id)), at).unwrap();
    // (Recording one forgets those expired at that moment: the live one first.)
    grants::record_assertion_jti(&mut conn, CLIENT, "jti-live", at + Duration::minutes(5), at - Duration::hours(3))
        .unwrap();
    grants::record_assertion_jti(&mut conn, CLIENT, "jti-old", at - Duration::hours(1), at - Duration::hours(2))
        .unwrap();
    let rule = DelayRule { free_failures: 5, first_delay: Duration::seconds(30), longest_delay: Duration::minutes(15) };
    let rules = DelayRules { per_source: rule, per_account: rule, forget_after: Duration::hours(24) };
    sign_in_delays::claim(&mut conn, SignInStep::Password, "account", "192.0.2.1", &rules, two_days_ago).unwrap();
    sign_in_delays::claim(&mut conn, SignInStep::Password, "account", "192.0.2.2", &rules, at).unwrap();

    let expected = Purged {
        authorization_codes: 1,
        tokens: 2,
        grants: 1,
        sessions: 1,
        usager_sessions: 1,
        authorization_requests: 1,
        upstream_logins: 2,
        mandate_drafts: 1,
        client_assertion_jtis: 1,
        // The old address's row; the account's row of every source has a failure of today.
        sign_in_delays: 1,
        usagers_erased: 0,
    };
    assert_eq!(purge::count(&mut conn, at, 365).unwrap(), expected, "the dry run counts");
    assert_eq!(rows(&mut conn, "sessions"), 2, "the dry run changes nothing");
    assert_eq!(purge::purge(&mut conn, at, 365).unwrap(), expected);

    assert!(sessions::find(&mut conn, "expired-session").unwrap().is_none());
    assert!(sessions::find_live(&mut conn, "live-session", at).unwrap().is_some());
    assert!(usager_sessions::find_live(&mut conn, "usager-live", at).unwrap().is_some());
    assert_eq!(rows(&mut conn, "usager_sessions"), 1);
    assert!(grants::find_live_token(&mut conn, "access-live", grants::TokenKind::Access, at).unwrap().is_some());
    assert!(grants::find_token(&mut conn, "access-old").unwrap().is_none());
    assert_eq!(rows(&mut conn, "tokens"), 2, "today's access and refresh tokens");
    let codes: Vec<String> =
        schema::authorization_codes::table.select(schema::authorization_codes::code_hash).load(&mut conn).unwrap();
    assert_eq!(codes, [live_code], "the old grant's exchanged code went with it, the unused one alone");
    assert_eq!(rows(&mut conn, "grants"), 2, "today's grant and the live session's stay");
    assert!(!codes.contains(&unused_code));
    let requests: Vec<String> =
        schema::authorization_requests::table.select(schema::authorization_requests::id).load(&mut conn).unwrap();
    assert_eq!(requests, [live_request.id]);
    let drafts: Vec<String> = schema::mandate_drafts::table.select(schema::mandate_drafts::id).load(&mut conn).unwrap();
    assert_eq!(drafts, std::slice::from_ref(&live_draft.id));
    let logins: Vec<Option<String>> =
        schema::upstream_logins::table.select(schema::upstream_logins::draft_id).load(&mut conn).unwrap();
    assert_eq!(logins, [Some(live_draft.id)]);
    assert_eq!(rows(&mut conn, "client_assertion_jtis"), 1);
    assert_eq!(rows(&mut conn, "sign_in_delays"), 2, "today's failure, from its address and from all");

    assert_eq!(purge::purge(&mut conn, at, 365).unwrap(), Purged::default(), "nothing left to do");
}

fn usager_created(db: &TestDb, subject: &str, at: NaiveDateTime) -> Usager {
    usagers::create(
        &mut db.store.conn().unwrap(),
        NewUsager {
            given_name: "Marcelline".into(),
            family_name: format!("RETENTION-{subject}"),
            birthdate: "1950-03-12".into(),
            gender: "female".into(),
            birthplace: "75107".into(),
            birthcountry: "99100".into(),
            email: format!("{subject}@example.fr"),
            upstream_issuer: "https://fcp.integ01.dev-franceconnect.fr".into(),
            upstream_subject: subject.into(),
            ..Default::default()
        },
        at,
    )
    .unwrap()
}

/// A mandate for `usager` from `created` until `expires_at`.
fn mandate_between(
    db: &TestDb,
    w: &World,
    usager: &Usager,
    created: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> mandates::MandateWithAuthorisations {
    mandates::create(
        &mut db.store.conn().unwrap(),
        NewMandate {
            organisation_id: w.organisation.id.clone(),
            usager_id: usager.id.clone(),
            aidant_id: w.aidant.id.clone(),
            demarches: vec![Demarche::Logement],
            duration: DurationKind::Custom,
            custom_expires_at: Some(expires_at),
            is_remote: false,
            consent_proof: None,
        },
        created,
    )
    .unwrap()
}

fn months_ago(at: NaiveDateTime, months: u32) -> NaiveDateTime {
    at.checked_sub_months(Months::new(months)).unwrap()
}

fn usagers_whose_mandates_all_ended_a_year_ago_are_erased_and_no_one_else(db: &TestDb) {
    let w = world(db);
    let at = now();
    let long_ago = months_ago(at, 30);

    let ended_13_months_ago = usager_created(db, "ended-13", long_ago);
    mandate_between(db, &w, &ended_13_months_ago, months_ago(at, 16), months_ago(at, 13));
    let ended_11_months_ago = usager_created(db, "ended-11", long_ago);
    mandate_between(db, &w, &ended_11_months_ago, months_ago(at, 14), months_ago(at, 11));
    // A mandate ended long ago, and a live one.
    let live = usager_created(db, "live", long_ago);
    mandate_between(db, &w, &live, months_ago(at, 26), months_ago(at, 20));
    mandate_between(db, &w, &live, months_ago(at, 2), at + Duration::days(30));
    let mut conn = db.store.conn().unwrap();
    // Revoked 13 months ago, although it would have run until next month: ended at the revocation.
    let revoked = usager_created(db, "revoked", long_ago);
    let revoked_mandate = mandate_between(db, &w, &revoked, months_ago(at, 14), at + Duration::days(30));
    mandates::revoke(&mut conn, &revoked_mandate.mandate.id, &w.aidant.id, months_ago(at, 13)).unwrap();
    // Revoked 11 months ago: kept.
    let revoked_lately = usager_created(db, "revoked-lately", long_ago);
    let lately = mandate_between(db, &w, &revoked_lately, months_ago(at, 14), at + Duration::days(30));
    mandates::revoke(&mut conn, &lately.mandate.id, &w.aidant.id, months_ago(at, 11)).unwrap();
    // Recorded two years ago and never given a mandate; recorded last month, none yet.
    let never = usager_created(db, "never", months_ago(at, 24));
    let recent = usager_created(db, "recent", months_ago(at, 1));

    let to_erase = purge::usagers_past_retention(&mut conn, at, 365).unwrap();
    let mut expected = vec![ended_13_months_ago.id.clone(), revoked.id.clone(), never.id.clone()];
    let mut found = to_erase.clone();
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(purge::count(&mut conn, at, 365).unwrap().usagers_erased, 3, "the dry run counts them");
    assert!(erased_at(&mut conn, &never.id).is_none(), "and changes nothing");
    let length = journal::recent(&mut conn, None, 1).unwrap()[0].seq;

    assert_eq!(purge::purge(&mut conn, at, 365).unwrap().usagers_erased, 3);
    for gone in [&ended_13_months_ago, &revoked, &never] {
        let stored = usagers::find(&mut conn, &gone.id).unwrap();
        assert!(erased_at(&mut conn, &gone.id).is_some(), "{} is erased", gone.id);
        assert!(stored.given_name.is_empty() && stored.email.is_empty(), "{stored:?}");
    }
    for kept in [&ended_11_months_ago, &live, &revoked_lately, &recent, &w.usager] {
        let stored = usagers::find(&mut conn, &kept.id).unwrap();
        assert!(erased_at(&mut conn, &kept.id).is_none(), "{} is kept", kept.upstream_subject);
        assert!(!stored.given_name.is_empty());
    }
    assert!(db.columns_containing("RETENTION-ended-13").is_empty(), "the name is nowhere");
    assert!(db.columns_containing("never@example.fr").is_empty());

    // One entry per erasure, saying why, with ids and counts only; the chain is whole.
    let entries = journal::recent(&mut conn, Some(JournalAction::UsagerErased), 10).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.seq > length));
    for entry in &entries {
        let details = entry.details.as_ref().unwrap().value().clone();
        assert_eq!(details["reason"], "retention");
        assert_eq!(details["mandates_revoked"], 0, "nothing live to revoke");
        let keys: Vec<&String> = details.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "reason and counts only: {details}");
        assert!(entry.aidant_id.is_none() && entry.organisation_id.is_none());
    }
    assert!(matches!(journal::verify(&mut conn).unwrap(), ChainReport::Intact { .. }));

    assert_eq!(purge::purge(&mut conn, at, 365).unwrap().usagers_erased, 0, "erased once");
    assert_eq!(journal::recent(&mut conn, Some(JournalAction::UsagerErased), 10).unwrap().len(), 3);
    // A shorter retention reaches the usager whose mandate ended 11 months ago.
    assert_eq!(purge::usagers_past_retention(&mut conn, at, 300).unwrap().len(), 2);
}
