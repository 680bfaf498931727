//! Secrets at rest, as operators and helpers meet them: the database holds TOTP secrets and the
//! server's keys sealed, `idp secrets rotate` re-seals them (and seals a database from before
//! sealing) while helpers go on signing in, and a server without the key refuses to start.
//! On SQLite and PostgreSQL.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

use diesel::prelude::*;
use idp::admin::demo::DEMO_TOTP_SECRET;
use idp::sealing_keys;
use mandate_store::schema::{second_factors, server_secrets};
use mandate_store::{sealing, Backend};
use serde_json::Value;

use crate::helpers::{dsfr_dist, idp, stderr, stdout, TestApp};
use crate::robot::{seed, Robot};

crate::on_both_backends!(
    a_helper_signs_in_with_a_code_and_no_secret_is_stored_in_clear,
    a_database_from_before_sealing_is_sealed_by_a_rotation_and_the_helper_still_signs_in,
    a_server_without_the_key_that_sealed_the_database_refuses_to_start,
);

/// Every stored secret, as the database holds it.
fn stored_secrets(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.store.conn().unwrap();
    let mut values: Vec<String> = second_factors::table.select(second_factors::secret).load(&mut conn).unwrap();
    values.extend(server_secrets::table.select(server_secrets::value).load::<String>(&mut conn).unwrap());
    values
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn signs_in(app: &TestApp) {
    let mut robot = Robot::new(app);
    let first = robot.get("/espace-aidant").await;
    let (status, html) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{html}");
}

async fn a_helper_signs_in_with_a_code_and_no_secret_is_stored_in_clear(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    signs_in(&app).await;
    let key_files = sealing_keys::scan(&app.settings.keys.dir).unwrap();
    assert_eq!(key_files.len(), 1, "made at first start");
    assert_eq!(mode(&key_files[0].path), 0o600, "readable by the server's user only");
    let values = stored_secrets(&app);
    assert!(values.len() >= 4, "the two demo factors, the CSRF and pairwise keys: {}", values.len());
    for value in &values {
        assert_eq!(sealing::sealed_by(value), Some(key_files[0].id.as_str()), "{value}");
        assert!(!value.contains(DEMO_TOTP_SECRET));
    }
}

async fn a_database_from_before_sealing_is_sealed_by_a_rotation_and_the_helper_still_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let csrf_key = {
        let mut conn = app.db.store.conn().unwrap();
        let csrf_key = mandate_store::server_secrets::find(&mut conn, &app.db.keys, "csrf-hmac-key").unwrap().unwrap();
        // As the version before sealing left them: the helper's TOTP secret and the CSRF key in clear.
        diesel::update(second_factors::table.filter(second_factors::aidant_id.eq(demo.aidant_id())))
            .set(second_factors::secret.eq(DEMO_TOTP_SECRET))
            .execute(&mut conn)
            .unwrap();
        diesel::update(server_secrets::table.find("csrf-hmac-key"))
            .set(server_secrets::value.eq(&csrf_key))
            .execute(&mut conn)
            .unwrap();
        csrf_key
    };
    let total = stored_secrets(&app).len();

    let out = idp(&app.db.url, &["secrets", "rotate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["sealed_from_plaintext"], 2, "{report}");
    assert_eq!(report["resealed"], total - 2, "{report}");
    assert!(!stdout(&out).contains(DEMO_TOTP_SECRET) && !stderr(&out).contains(DEMO_TOTP_SECRET));
    let new_key = report["key"].as_str().unwrap();
    let files = sealing_keys::scan(&app.settings.keys.dir).unwrap();
    assert_eq!(files.len(), 2, "the old key is kept");
    assert!(files.iter().all(|f| mode(&f.path) == 0o600));
    assert_eq!(files[1].id, new_key, "the new key is the newest");
    assert!(stored_secrets(&app).iter().all(|v| sealing::sealed_by(v) == Some(new_key)));

    let listed: Value = serde_json::from_str(&stdout(&idp(&app.db.url, &["secrets", "list"], None))).unwrap();
    assert_eq!(listed["keys"][0]["seals"], 0, "{listed}");
    assert_eq!(listed["keys"][1]["seals"], total, "{listed}");
    assert_eq!(listed["not_sealed"], 0, "{listed}");
    let keys = sealing_keys::keyring(&app.settings.keys.dir).unwrap();
    let mut conn = app.db.store.conn().unwrap();
    assert_eq!(mandate_store::server_secrets::find(&mut conn, &keys, "csrf-hmac-key").unwrap(), Some(csrf_key));
    drop(conn);

    // The running server has not seen the new key yet: the first value sealed with it makes it
    // read the folder again, and the helper's code works as before.
    signs_in(&app).await;
}

async fn a_server_without_the_key_that_sealed_the_database_refuses_to_start(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let sealed_with = sealing_keys::scan(&app.settings.keys.dir).unwrap().remove(0).id;
    let dir = tempfile::tempdir().unwrap();
    let refused = |keys: &std::path::Path| {
        let log = dir.path().join("serve.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_idp"))
            .arg("serve")
            .env_remove("IDP_CONFIG")
            .env("IDP__DATABASE__URL", &app.db.url)
            .env("IDP__KEYS__DIR", keys)
            .env("IDP__HTTP__BIND", "127.0.0.1:0")
            .env("IDP__UI__ASSETS_DIR", dsfr_dist())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > until {
                child.kill().unwrap();
                panic!("idp serve started without the sealing key");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(!status.success());
        std::fs::read_to_string(&log).unwrap()
    };
    // No key at all: none is made in its place.
    let empty = dir.path().join("empty");
    let message = refused(&empty);
    assert!(message.contains(&sealed_with) && message.contains("holds no sealing key"), "{message}");
    assert!(message.contains("restore"), "{message}");
    assert!(sealing_keys::scan(&empty).unwrap().is_empty(), "no key made in its place");
    // Another key only.
    let other = dir.path().join("other");
    sealing_keys::create(&other).unwrap();
    let message = refused(&other);
    assert!(message.contains(&sealed_with) && message.contains("does not hold"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}
