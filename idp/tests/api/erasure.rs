//! `idp usager erase` on a usager a helper acted for through a service: the person is gone from
//! every table, what was done for them stays provable, and nothing acts for them any more.
//! Also the server's own periodic checkpoints.

use idp::admin::demo::DEMO_CLIENT_ID;
use mandate_store::journal::{self, JournalAction};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{now, Backend, Demarche, DurationKind};
use serde_json::Value;

use crate::helpers::{idp, stderr, stdout, TestApp};
use crate::robot::{query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    an_erased_usager_is_gone_everywhere_and_the_proof_stays,
    the_server_signs_checkpoints_when_the_journal_grows
);

const GIVEN_NAME: &str = "Zéphyrine Aldegonde";
const FAMILY_NAME: &str = "QUILLEBEUF";
const BIRTHDATE: &str = "1931-02-17";

async fn an_erased_usager_is_gone_everywhere_and_the_proof_stays(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let organisation_id = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    let usager = {
        let mut conn = app.db.store.conn().unwrap();
        let usager = usagers::add_by_operator(
            &mut conn,
            NewUsager {
                given_name: GIVEN_NAME.into(),
                family_name: FAMILY_NAME.into(),
                birthdate: BIRTHDATE.into(),
                gender: "female".into(),
                birthplace: "29019".into(),
                birthcountry: "99100".into(),
                email: "z.quillebeuf@example.fr".into(),
                upstream_issuer: "https://fcp.integ01.dev-franceconnect.fr".into(),
                upstream_subject: "fc-sub-quillebeuf".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        mandates::create(
            &mut conn,
            NewMandate {
                organisation_id: organisation_id.clone(),
                usager_id: usager.id.clone(),
                aidant_id: demo.aidant_id(),
                demarches: vec![Demarche::Argent, Demarche::Logement],
                duration: DurationKind::Long,
                custom_expires_at: None,
                is_remote: false,
                consent_proof: None,
            },
            now(),
        )
        .unwrap();
        usager
    };
    // A helper acts for the usager through the token endpoint: tokens, and a code not yet used.
    let mut robot = Robot::new(&app);
    let params = |state: &'static str| {
        vec![
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile offline_access"),
            ("state", state),
            ("nonce", "n"),
        ]
    };
    let first = robot.authorize(&params("s1")).await;
    let callback = robot.complete(first, &usager.id, "argent").await;
    let tokens: Value = robot.exchange_demo_code(&query_params(&callback)["code"]).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo: Value =
        robot.client.get(app.url("/userinfo")).bearer_auth(&access).send().await.unwrap().json().await.unwrap();
    assert_eq!(userinfo["family_name"], FAMILY_NAME);
    assert_eq!(userinfo["birthdate"], BIRTHDATE);
    let second = robot.authorize(&params("s2")).await;
    let pending_code = query_params(&robot.complete(second, &usager.id, "logement").await)["code"].clone();
    for needle in [GIVEN_NAME, FAMILY_NAME, BIRTHDATE] {
        assert!(!app.db.columns_containing(needle).is_empty(), "{needle} stored before");
    }

    let erased = idp(&app.db.url, &["usager", "erase", &usager.id], None);
    assert!(erased.status.success(), "{}", stderr(&erased));
    assert!(stderr(&erased).contains("erased; 1 live mandate(s) revoked"), "{}", stderr(&erased));

    // Nowhere in the database, whatever the table or column.
    for needle in [GIVEN_NAME, "Zéphyrine", FAMILY_NAME, "Quillebeuf", "QUILLEBEUF", BIRTHDATE, "fc-sub-quillebeuf"] {
        assert_eq!(app.db.columns_containing(needle), Vec::<String>::new(), "{needle} still stored");
    }
    // Nothing acts for them: the code, the access token and the refresh token all fail.
    let refused = robot.exchange_demo_code(&pending_code).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let userinfo = robot.client.get(app.url("/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    if let Some(refresh) = tokens["refresh_token"].as_str() {
        let refreshed = robot
            .token(
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
                Some((DEMO_CLIENT_ID, idp::admin::demo::DEMO_CLIENT_SECRET)),
            )
            .await;
        assert_eq!(refreshed.status(), 400);
    }

    // The journal still proves what was done, by ids: in the database, and in a fresh bundle.
    let mut conn = app.db.store.conn().unwrap();
    let about: Vec<JournalAction> =
        journal::entries_for_usager(&mut conn, &usager.id).unwrap().into_iter().map(|e| e.action).collect();
    assert!(about.contains(&JournalAction::AuthorisationUsed) && about.ends_with(&[JournalAction::UsagerErased]));
    drop(conn);
    let verify = idp(&app.db.url, &["journal", "verify"], None);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let keys = app.settings.keys.dir.to_str().unwrap();
    let export = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .args(["journal", "export"])
        .env("IDP__DATABASE__URL", &app.db.url)
        .env("IDP__KEYS__DIR", keys)
        .env_remove("IDP_CONFIG")
        .output()
        .unwrap();
    assert!(export.status.success(), "{}", stderr(&export));
    let bundle = stdout(&export);
    for needle in [GIVEN_NAME, FAMILY_NAME, BIRTHDATE] {
        assert!(!bundle.contains(needle), "{needle} in the bundle");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.jsonl");
    std::fs::write(&file, bundle).unwrap();
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .args(["journal", "verify-bundle"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(checked.status.success(), "{}", stderr(&checked));
}

async fn the_server_signs_checkpoints_when_the_journal_grows(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.journal.checkpoint_interval_seconds = 1).await else { return };
    let count =
        |app: &TestApp| journal::count(&mut app.db.store.conn().unwrap(), JournalAction::CheckpointSigned).unwrap();
    seed(&app);
    let head = |app: &TestApp| journal::recent(&mut app.db.store.conn().unwrap(), None, 1).unwrap().remove(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while head(&app).action != JournalAction::CheckpointSigned {
        assert!(std::time::Instant::now() < deadline, "no checkpoint of the head signed within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Nothing appended since: none more, however many intervals pass.
    let signed = count(&app);
    let checkpoint = head(&app);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(count(&app), signed);
    assert_eq!(head(&app), checkpoint);
    let jws = checkpoint.details.as_ref().unwrap().value()["jws"].as_str().unwrap().to_owned();
    let payload = idp::keys::KeySet::load(&app.settings.keys.dir).unwrap().verify(&jws).unwrap();
    assert_eq!(payload["size"], checkpoint.seq - 1);
    assert_eq!(payload["iss"], app.settings.issuer.as_str());
}
