//! What a new operator meets first: the configuration refuses what it would otherwise ignore
//! and never shows a secret, the port moves the issuer too, the command line says what it
//! changed, lists its choices and exits with codes a script can tell apart.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mandate_store::testing::TestDb;
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::{demo_seed, idp, stderr, stdout};

crate::on_both_backends!(
    org_add_refuses_a_siret_already_registered,
    mandate_commands_say_what_they_changed,
    demo_seed_prints_the_ids_the_revoke_commands_take,
);

/// The `idp` binary in an empty folder, with only the given variables of ours set.
fn idp_with(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp"));
    command.args(args).current_dir(dir.path()).env_remove("IDP_CONFIG");
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn org_add(url: &str, name: &str, siret: &str) -> Output {
    idp(
        url,
        &[
            "org",
            "add",
            "--name",
            name,
            "--siret",
            siret,
            "--address",
            "1 place d'Italie",
            "--postcode",
            "75013",
            "--city",
            "Paris",
            "--type",
            "france_services",
            "--department",
            "75",
        ],
        None,
    )
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn journal_entries(url: &str) -> String {
    let out = idp(url, &["journal", "verify"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).split(" entries").next().unwrap().to_owned()
}

async fn org_add_refuses_a_siret_already_registered(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let first = json(&org_add(&db.url, "France Services Paris 13", "21750001600019"));
    let again = org_add(&db.url, "France Services Paris 13 (annexe)", "21750001600019");
    assert_eq!(again.status.code(), Some(1));
    let message = stderr(&again);
    assert!(message.contains("SIRET 21750001600019 already exists"), "{message}");
    assert!(message.contains(first["id"].as_str().unwrap()), "the message names the organisation: {message}");
    let listed = json(&idp(&db.url, &["org", "list", "--format", "json"], None));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    json(&org_add(&db.url, "CCAS de Lyon", "21690123100011"));
}

async fn mandate_commands_say_what_they_changed(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let seeded = json(&demo_seed(&db.url));
    let (org, aidant) = (seeded["organisation"]["id"].as_str().unwrap(), seeded["aidant"]["id"].as_str().unwrap());
    let angela = &seeded["usagers"][0];
    let old_argent = angela["authorisations"].as_array().unwrap().iter().find(|a| a["demarche"] == "argent").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let add = idp(
        &db.url,
        &[
            "mandate",
            "add",
            "--organisation",
            org,
            "--usager",
            angela["id"].as_str().unwrap(),
            "--aidant",
            aidant,
            "--demarche",
            "argent",
            "--demarche",
            "famille",
            "--duration",
            "month",
        ],
        None,
    );
    let created = json(&add);
    let replaced = created["replaced"].as_array().unwrap();
    assert_eq!(replaced.len(), 1, "{created}");
    assert_eq!(replaced[0]["id"], old_argent.as_str());
    assert!(
        stderr(&add).contains(&format!(
            "replaced authorisation {old_argent} (argent) of mandate {}",
            angela["mandate_id"].as_str().unwrap()
        )),
        "{}",
        stderr(&add)
    );

    let famille = created["authorisations"].as_array().unwrap().iter().find(|a| a["demarche"] == "famille").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = idp(&db.url, &["authorisation", "revoke", &famille, "--aidant", aidant], None);
    assert!(revoke.status.success(), "{}", stderr(&revoke));
    assert_eq!(stderr(&revoke).trim(), format!("authorisation {famille} revoked"));
    let entries = journal_entries(&db.url);
    let again = idp(&db.url, &["authorisation", "revoke", &famille, "--aidant", aidant], None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("already revoked"), "{}", stderr(&again));
    assert_eq!(journal_entries(&db.url), entries, "nothing written for a revocation that changed nothing");

    let mandate = created["mandate"]["id"].as_str().unwrap();
    let revoke = idp(&db.url, &["mandate", "revoke", mandate, "--aidant", aidant], None);
    assert_eq!(stderr(&revoke).trim(), format!("mandate {mandate} revoked"));
    let entries = journal_entries(&db.url);
    let again = idp(&db.url, &["mandate", "revoke", mandate, "--aidant", aidant], None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stderr(&again).trim(), format!("mandate {mandate} already revoked: nothing changed"));
    assert_eq!(journal_entries(&db.url), entries);
}

async fn demo_seed_prints_the_ids_the_revoke_commands_take(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let seeded = json(&demo_seed(&db.url));
    let joao = &seeded["usagers"][1];
    let authorisation = joao["authorisations"][0]["id"].as_str().expect("authorisation ids are printed");
    assert_eq!(joao["authorisations"][0]["demarche"], "papiers");
    let aidant = seeded["aidant"]["id"].as_str().unwrap();
    let out = idp(&db.url, &["authorisation", "revoke", authorisation, "--aidant", aidant], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let mandate = seeded["usagers"][0]["mandate_id"].as_str().expect("mandate ids are printed");
    let out = idp(&db.url, &["mandate", "revoke", mandate, "--aidant", aidant], None);
    assert_eq!(stderr(&out).trim(), format!("mandate {mandate} revoked"));
}

/// The help line of one possible value (`- key:   what it means`), without the alignment.
fn possible_value(help: &str, key: &str) -> Option<String> {
    help.lines()
        .find_map(|line| line.trim().strip_prefix(&format!("- {key}:")))
        .map(|meaning| meaning.trim().to_owned())
}

#[test]
fn help_lists_the_demarches_the_durations_and_the_exit_codes() {
    for command in [["mandate", "add"], ["client", "add"]] {
        let out = idp_with(&[command[0], command[1], "--help"], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let help = stdout(&out);
        for key in ["papiers", "famille", "social", "travail", "logement", "transports", "argent", "justice"] {
            assert!(possible_value(&help, key).is_some(), "{key} in {help}");
        }
        assert_eq!(possible_value(&help, "argent").as_deref(), Some("Money - Taxes - Consumer affairs"), "{help}");
    }
    let help = stdout(&idp_with(&["mandate", "add", "--help"], &[]));
    for (duration, length) in [("short", "1 day"), ("month", "31 days"), ("semester", "182 days"), ("long", "365 days")]
    {
        assert_eq!(possible_value(&help, duration).as_deref(), Some(length), "{duration} in {help}");
    }
    let help = stdout(&idp_with(&["--help"], &[]));
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("2   usage error") && help.contains("78  configuration error"), "{help}");
}

#[test]
fn usage_and_configuration_errors_exit_with_different_codes() {
    let usage = idp_with(&["mandate", "add", "--no-such-option"], &[]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let configuration = idp_with(&["org", "list"], &[("IDP__DATABASE__URL", "idp.db")]);
    assert_eq!(configuration.status.code(), Some(78), "{}", stderr(&configuration));
}

#[test]
fn unknown_settings_are_refused_naming_the_meant_one() {
    let out = idp_with(&["migrate"], &[("IDP_DATABASE__URL", "sqlite://elsewhere.db")]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("IDP_DATABASE__URL names no setting"), "{}", stderr(&out));
    assert!(stderr(&out).contains("did you mean IDP__DATABASE__URL?"), "{}", stderr(&out));

    let out = idp_with(&["migrate"], &[("IDP__DATABASE__ULR", "sqlite://elsewhere.db")]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("did you mean IDP__DATABASE__URL?"), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.toml");
    std::fs::write(&file, "[databse]\nurl = \"sqlite://elsewhere.db\"\n").unwrap();
    let out = idp_with(&["--config", file.to_str().unwrap(), "migrate"], &[]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("unknown key `databse.url`; did you mean `database.url`?"), "{}", stderr(&out));
    assert!(!dir.path().join("elsewhere.db").exists() && !dir.path().join("data").exists());
}

#[test]
fn a_misspelt_database_scheme_is_reported_without_the_password() {
    let out = idp_with(&["migrate"], &[("IDP__DATABASE__URL", "postgress://idp:s3cret-pw@db.example.fr/idp")]);
    assert_eq!(out.status.code(), Some(78));
    let message = stderr(&out);
    assert!(
        message.contains("`database.url`") && message.contains("postgress://idp:***@db.example.fr/idp"),
        "{message}"
    );
    assert!(!message.contains("s3cret-pw"), "{message}");
}

#[test]
fn demo_code_prints_the_demo_helpers_current_code() {
    let before = chrono::Utc::now().timestamp() as u64;
    let out = idp_with(&["demo", "code"], &[]);
    let after = chrono::Utc::now().timestamp() as u64;
    assert!(out.status.success(), "{}", stderr(&out));
    let code = stdout(&out).trim().to_owned();
    let secret = idp::admin::demo::DEMO_TOTP_SECRET;
    let expected = [before, after].map(|t| idp::totp::code_at(secret, 30, t).unwrap());
    assert!(expected.contains(&code), "{code} is not the demo helper's code now ({expected:?})");
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.starts_with("HTTP/1.1 200").then(|| response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

/// Starts `idp serve` in `dir` on `port` with `vars`; waits until it is ready.
fn serve(dir: &std::path::Path, port: u16, vars: &[(&str, String)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idp"));
    command
        .arg("serve")
        .current_dir(dir)
        .env_remove("IDP_CONFIG")
        .env("IDP__HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("IDP__UI__ASSETS_DIR", crate::helpers::dsfr_dist())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log")).unwrap());
    for (name, value) in vars {
        command.env(name, value);
    }
    let server = Server(command.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/readyz").is_none() {
        assert!(Instant::now() < deadline, "not ready: {}", std::fs::read_to_string(dir.join("server.log")).unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

#[test]
fn the_port_alone_moves_the_issuer_and_a_mismatched_issuer_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve(dir.path(), port, &[]);
    let discovery: Value = serde_json::from_str(&http_get(port, "/.well-known/openid-configuration").unwrap()).unwrap();
    drop(server);
    assert_eq!(discovery["issuer"], format!("http://127.0.0.1:{port}"));
    assert_eq!(discovery["token_endpoint"], format!("http://127.0.0.1:{port}/token"));
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(!log.contains("WARN"), "{log}");

    let elsewhere = if port == 8080 { 8081 } else { 8080 };
    let server = serve(dir.path(), port, &[("IDP__ISSUER", format!("http://127.0.0.1:{elsewhere}"))]);
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains(&format!("names port {elsewhere} but the server listens on 127.0.0.1:{port}")), "{log}");
}
