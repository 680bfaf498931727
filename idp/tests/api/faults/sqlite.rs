//! The SQLite file the provider cannot write: read-only when `idp serve` starts (a clear error,
//! naming `database.url`, and the file untouched), or its filesystem full while it serves (the
//! write that does not fit is refused with a clean `503`, earlier data intact, writes work again
//! once there is room). `PRAGMA integrity_check` says `ok` afterwards. The full filesystem is a
//! small tmpfs the test mounts: it needs root, which CI has; elsewhere the test is skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use idp::admin::demo::{self, DEMO_CLIENT_ID};
use mandate_store::journal::{self, ChainReport, JournalAction};
use mandate_store::testing::TestDb;

use super::{sso_flow, Refusal};
use crate::helpers::{say_skipped, test_settings, ServerProcess, TestApp};
use crate::robot::{query_params, Robot, CALLBACK};

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).status().is_ok_and(|s| s.success())
}

/// `path` read-only for this process's user until dropped. Root writes whatever the
/// permissions say, so as root the file gets the immutable attribute instead of mode 0400.
struct ReadOnly {
    path: PathBuf,
    immutable: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> ReadOnly {
        let immutable = is_root();
        if immutable {
            assert!(run("chattr", &["+i", path.to_str().unwrap()]), "chattr +i {}", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            let mode = if path.is_dir() { 0o500 } else { 0o400 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        ReadOnly { path: path.to_owned(), immutable }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.immutable {
            run("chattr", &["-i", self.path.to_str().unwrap()]);
        } else {
            use std::os::unix::fs::PermissionsExt;
            let mode = if self.path.is_dir() { 0o700 } else { 0o600 };
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(mode));
        }
    }
}

/// What must survive: the rows of the seeded data and the journal, chained and intact.
#[derive(Debug, PartialEq, Eq)]
struct Contents {
    aidants: i64,
    mandates: i64,
    authorisations: i64,
    /// Access tokens.
    tokens: i64,
    journal: i64,
}

impl Contents {
    fn of(db: &TestDb) -> Contents {
        let journal = match journal::verify(&mut db.store.conn().unwrap()).unwrap() {
            ChainReport::Intact { entries, .. } => entries,
            broken => panic!("the journal is broken: {broken:?}"),
        };
        Contents {
            aidants: db.count("SELECT count(*) AS n FROM aidants"),
            mandates: db.count("SELECT count(*) AS n FROM mandates"),
            authorisations: db.count("SELECT count(*) AS n FROM authorisations"),
            tokens: db.count("SELECT count(*) AS n FROM tokens WHERE kind = 'access'"),
            journal,
        }
    }
}

#[tokio::test]
async fn idp_serve_on_a_read_only_sqlite_file_or_folder_stops_with_a_clear_error_and_the_data_intact() {
    let began = Instant::now();
    for what in ["file", "folder"] {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("data");
        let path = folder.join("idp.db");
        let url = format!("sqlite://{}", path.display());
        let before = {
            let db = TestDb::existing(&url);
            demo::seed(&mut db.store.conn().unwrap(), &db.keys, "http://127.0.0.1:8080").unwrap();
            Contents::of(&db)
            // Dropped: its connections close, and SQLite folds its write-ahead log back in.
        };
        let read_only = ReadOnly::make(if what == "file" { &path } else { &folder });
        let keys = tempfile::tempdir().unwrap();
        let mut settings = test_settings(&url, keys.path());
        settings.issuer = "http://127.0.0.1:8080".into();
        let mut server = ServerProcess::start(&settings, &[]);
        let status = server.wait_exit(Duration::from_secs(30)).expect("idp serve on a read-only database stops");
        let log = server.log();
        assert!(!status.success(), "read-only {what}: idp serve exits with a failure:\n{log}");
        assert!(!log.contains("panicked"), "{log}");
        let last = log.lines().last().unwrap_or_default();
        assert!(last.starts_with("idp: database.url "), "read-only {what}: the message names the setting: {last}");
        assert!(last.contains(&path.display().to_string()) || last.contains(&folder.display().to_string()), "{last}");
        assert!(last.contains("cannot be written") || last.contains("unable to open"), "{last}");
        drop(read_only);
        let db = TestDb::existing(&url);
        assert_eq!(db.integrity_check(), "ok");
        assert_eq!(Contents::of(&db), before, "read-only {what}: the data is intact");
    }
    eprintln!("sqlite read-only at start: {:.1} s", began.elapsed().as_secs_f64());
}

/// A tmpfs of `size` mounted in a temporary folder, unmounted when dropped. `None` (said) when
/// this user may not mount one, outside CI; under CI (run as root) it must work.
struct SmallFilesystem {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallFilesystem {
    fn mount(size: &str) -> Option<SmallFilesystem> {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("fs");
        std::fs::create_dir(&mount).unwrap();
        let options = format!("size={size},mode=0700");
        if !run("mount", &["-t", "tmpfs", "-o", &options, "tmpfs", mount.to_str().unwrap()]) {
            assert!(std::env::var_os("CI").is_none(), "under CI the disk-full test must run: cannot mount a tmpfs");
            say_skipped("SQLite disk-full test: cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(SmallFilesystem { mount, _dir: dir })
    }

    /// Fills what is left with a file; removing it makes the room again.
    fn fill(&self) -> PathBuf {
        let filler = self.mount.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        run("umount", &["-l", self.mount.to_str().unwrap()]);
    }
}

#[tokio::test]
async fn a_full_disk_refuses_sqlite_writes_cleanly_and_they_work_again_once_there_is_room() {
    let began = Instant::now();
    let Some(fs) = SmallFilesystem::mount("16m") else { return };
    let url = format!("sqlite://{}", fs.mount.join("idp.db").display());
    let mut app = TestApp::start_process(TestDb::existing(&url), &[]);
    // Seeded once the server is ready: the helper's secrets are sealed with the server's key.
    app.wait_ready(Duration::from_secs(30)).await;
    let seeded = demo::seed(&mut app.db.store.conn().unwrap(), &app.db.keys, &app.settings.issuer).unwrap();
    let usager = seeded["usagers"][0]["id"].as_str().unwrap().to_owned();

    // A helper signs in and a service gets its tokens, while there is room.
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "st-room"),
            ("nonce", "n-full"),
        ])
        .await;
    let callback = robot.complete(first, &usager, "logement").await;
    assert_eq!(robot.exchange_demo_code(&query_params(&callback)["code"]).await.status(), 200);
    let client = robot.client.clone();
    let base = app.address.clone();
    let before = Contents::of(&app.db);

    // The disk fills up: flows go on until a write does not fit (the write-ahead log reuses
    // its room first, so a few may still succeed).
    let filler = fs.fill();
    let mut completed = Vec::new();
    let mut refusal: Option<Refusal> = None;
    for n in 0..400 {
        match sso_flow(&client, &base, &usager, &format!("st-full-{n}")).await {
            Ok(access) => completed.push(access),
            Err(refused) => {
                refusal = Some(refused);
                break;
            }
        }
    }
    let refusal = refusal.expect("a write refused once the disk is full");
    assert!(refusal.is_clean(), "a full disk is answered with a clean 503: {refusal:?}");
    // The same with a browser's eyes and a client's: each flow refused cleanly, nothing else.
    for n in 0..3 {
        if let Err(refused) = sso_flow(&client, &base, &usager, &format!("st-still-full-{n}")).await {
            assert!(refused.is_clean(), "{refused:?}");
        }
    }
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "reads still work: the server stays in service");

    // Room again: writes work, with no restart.
    std::fs::remove_file(filler).unwrap();
    let mut after_room = None;
    for n in 0..5 {
        if let Ok(access) = sso_flow(&client, &base, &usager, &format!("st-room-again-{n}")).await {
            after_room = Some(access);
            break;
        }
    }
    completed.push(after_room.expect("flows complete again once there is room"));

    // Everything a client received is still there; nothing half-written; the file is sound.
    for access in &completed {
        let userinfo = client.get(format!("{base}/userinfo")).bearer_auth(access).send().await.unwrap();
        assert_eq!(userinfo.status(), 200, "a token a client received was lost");
    }
    let log = app.process.as_ref().unwrap().log();
    assert!(!log.contains("panicked"), "{log}");
    app.process.as_ref().unwrap().terminate();
    assert!(app.process.as_mut().unwrap().wait_exit(Duration::from_secs(15)).is_some());
    let db = &app.db;
    assert_eq!(db.integrity_check(), "ok");
    let after = Contents::of(db);
    assert_eq!(
        (after.aidants, after.mandates, after.authorisations),
        (before.aidants, before.mandates, before.authorisations)
    );
    let mut conn = db.store.conn().unwrap();
    let used = journal::count(&mut conn, JournalAction::AuthorisationUsed).unwrap();
    let access_tokens = after.tokens;
    let used_codes = db.count("SELECT count(*) AS n FROM authorization_codes WHERE used_at IS NOT NULL");
    assert_eq!(used, access_tokens, "one journal entry per token issued, none without the other");
    assert_eq!(used_codes, access_tokens, "a code used for each token issued, none used without its token");
    assert!(access_tokens >= before.tokens + completed.len() as i64);
    eprintln!(
        "sqlite disk full: {} flows completed on the full disk before the first refusal ({} {}), test took {:.1} s",
        completed.len() - 1,
        refusal.status,
        refusal.path,
        began.elapsed().as_secs_f64()
    );
}
