//! The `idp` command, as an operator runs it.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use mandate_store::testing::TestDb;
use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::{demo_seed, idp, stderr, stdout};

crate::on_both_backends!(
    org_add_refuses_a_bad_siret_and_stores_nothing,
    org_show_and_update_say_type_department_region_and_demarches,
    aidant_habilitation_is_recorded_and_shown,
    aidant_add_prints_the_totp_enrolment_uri_and_refuses_duplicates,
    journal_verify_names_the_first_altered_entry,
    demo_seed_is_idempotent_and_clients_are_administered,
    demo_seed_is_refused_outside_demo_mode_or_on_a_public_issuer,
    usagers_and_mandates_are_added_listed_shown_and_renewed,
);

fn org(url: &str) -> Value {
    let out = idp(
        url,
        &[
            "org",
            "add",
            "--name",
            "France Services Paris 13",
            "--siret",
            "21750001600019",
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
    );
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

async fn org_add_refuses_a_bad_siret_and_stores_nothing(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let out = idp(
        &db.url,
        &[
            "org",
            "add",
            "--name",
            "X",
            "--siret",
            "21750001600018",
            "--address",
            "a",
            "--postcode",
            "75013",
            "--city",
            "Paris",
            "--type",
            "mairie",
            "--department",
            "75",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid SIRET"), "{}", stderr(&out));
    let list = idp(&db.url, &["org", "list", "--format", "json"], None);
    assert_eq!(serde_json::from_str::<Value>(&stdout(&list)).unwrap(), serde_json::json!([]));
    assert_eq!(org(&db.url)["siret"], "21750001600019");
}

async fn aidant_add_prints_the_totp_enrolment_uri_and_refuses_duplicates(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let org_id = org(&db.url)["id"].as_str().unwrap().to_owned();
    let args = [
        "aidant",
        "add",
        "--email",
        "Camille.Martin@example.fr",
        "--given-name",
        "Camille",
        "--family-name",
        "Martin",
        "--organisation",
        &org_id,
        "--password-stdin",
        "--totp-step",
        "60",
    ];
    let out = idp(&db.url, &args, Some("a long enough password\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(created["email"], "camille.martin@example.fr");
    let uri = created["totp_enrolment_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains("period=60"), "{uri}");
    assert!(created.get("password").is_none(), "a password given on stdin is never echoed");

    let again = idp(&db.url, &args, Some("another long password\n"));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));

    let unknown_org = idp(
        &db.url,
        &[
            "aidant",
            "add",
            "--email",
            "x@example.fr",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--organisation",
            "no-such-org",
        ],
        None,
    );
    assert!(!unknown_org.status.success());
    assert!(stderr(&unknown_org).contains("organisation not found"), "{}", stderr(&unknown_org));
}

async fn journal_verify_names_the_first_altered_entry(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    {
        let mut conn = db.store.conn().unwrap();
        for i in 0..3 {
            mandate_store::journal::append(
                &mut conn,
                mandate_store::journal::NewEntry::new(mandate_store::journal::JournalAction::AuthorisationUsed)
                    .client(&format!("client-{i}")),
                mandate_store::now(),
            )
            .unwrap();
        }
    }
    let ok = idp(&db.url, &["journal", "verify"], None);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("intact: 3 entries"), "{}", stdout(&ok));

    db.tamper_with_journal("UPDATE journal_entries SET client_id = 'forged' WHERE seq = 2");
    let broken = idp(&db.url, &["journal", "verify"], None);
    assert_eq!(broken.status.code(), Some(3));
    assert!(stderr(&broken).contains("BROKEN at entry 2"), "{}", stderr(&broken));
}

#[test]
fn a_bad_configuration_value_stops_start_naming_the_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("serve")
        .env("IDP__HTTP__BIND", "not-an-address")
        .output()
        .unwrap();
    // 78 (EX_CONFIG): a configuration error, told apart from a usage error (2).
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("`http.bind`"), "{}", stderr(&out));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("migrate")
        .env("IDP__DATABASE__URL", "idp.db")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("`database.url`"), "{}", stderr(&out));
}

/// The README's first command on a fresh directory: the SQLite file is created and migrated,
/// and `/readyz` answers ready.
#[test]
fn serve_on_a_fresh_directory_creates_the_database_and_becomes_ready() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("serve")
        .current_dir(dir.path())
        .env("IDP__HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("IDP__ISSUER", format!("http://127.0.0.1:{port}"))
        .env("IDP__UI__ASSETS_DIR", crate::helpers::dsfr_dist())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        match reqwest::blocking_get(&format!("http://127.0.0.1:{port}/readyz")) {
            Some(body) => break body,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            None => {
                let _ = server.kill();
                panic!("the server did not become ready within 30 s");
            }
        }
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(body.contains("\"ready\""), "{body}");
    assert!(dir.path().join("data/idp.db").exists());
}

mod reqwest {
    /// A minimal blocking GET over a std socket (the test runs outside any async runtime).
    pub fn blocking_get(url: &str) -> Option<String> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}")))?;
        let mut stream = std::net::TcpStream::connect(host).ok()?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/1.1 200").then_some(response)
    }
}

/// What let anyone sign in with the published demo password on a production server: `idp demo
/// seed` with an https issuer created it. Now refused, with a reason, and nothing created.
async fn demo_seed_is_refused_outside_demo_mode_or_on_a_public_issuer(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let seed_with = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_idp"));
        command
            .args(["demo", "seed"])
            .env("IDP__DATABASE__URL", &db.url)
            .env("IDP__KEYS__DIR", crate::helpers::cli_keys_dir(&db.url))
            .env_remove("IDP_CONFIG");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    let refusals = [
        (vec![("IDP__ISSUER", "https://aidants.example.gouv.fr")], "demo mode"),
        (vec![("IDP__ISSUER", "http://127.0.0.1:8080")], "demo mode"),
        (vec![("IDP__ISSUER", "https://aidants.example.gouv.fr"), ("IDP__DEMO__ENABLED", "true")], "this machine"),
    ];
    for (env, reason) in refusals {
        let out = seed_with(&env);
        assert_eq!(out.status.code(), Some(1), "{env:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(reason), "{env:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{env:?}: nothing printed");
    }
    let clients = idp(&db.url, &["client", "list"], None);
    assert!(!stdout(&clients).contains("demo-service"), "nothing created: {}", stdout(&clients));
    let accepted = seed_with(&[("IDP__ISSUER", "http://127.0.0.1:8080"), ("IDP__DEMO__ENABLED", "true")]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
}

async fn demo_seed_is_idempotent_and_clients_are_administered(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let first = demo_seed(&db.url);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = demo_seed(&db.url);
    assert_eq!(stdout(&first), stdout(&second), "seeding twice changes nothing");
    let seeded: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(seeded["usagers"][0]["demarches"], serde_json::json!(["argent", "logement", "social"]));

    let added = idp(
        &db.url,
        &[
            "client",
            "add",
            "--name",
            "Impôts",
            "--redirect-uri",
            "https://impots.example.fr/cb",
            "--auth-method",
            "client_secret_post",
            "--demarches",
            "argent,justice",
            "--client-id",
            "impots",
        ],
        None,
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let added: Value = serde_json::from_str(&stdout(&added)).unwrap();
    assert!(added["client_secret"].as_str().unwrap().len() >= 32);
    assert_eq!(added["demarches"], serde_json::json!(["argent", "justice"]), "the démarches it may receive");
    let listed = stdout(&idp(&db.url, &["client", "list"], None));
    assert!(listed.contains("\"impots\"") && !listed.contains("\"client_secret\":"), "{listed}");
    let insecure = idp(&db.url, &["client", "add", "--name", "X", "--redirect-uri", "http://rp.example.fr/cb"], None);
    assert!(!insecure.status.success());
    assert!(stderr(&insecure).contains("must be https"), "{}", stderr(&insecure));
    assert!(idp(&db.url, &["client", "remove", "impots"], None).status.success());
    assert!(!stdout(&idp(&db.url, &["client", "list"], None)).contains("\"impots\""));
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

async fn usagers_and_mandates_are_added_listed_shown_and_renewed(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let url = db.url.as_str();
    let org_id = org(url)["id"].as_str().unwrap().to_owned();
    let aidant = json_of(&idp(
        url,
        &[
            "aidant",
            "add",
            "--email",
            "camille@example.fr",
            "--given-name",
            "Camille",
            "--family-name",
            "Martin",
            "--organisation",
            &org_id,
        ],
        None,
    ));
    let aidant_id = aidant["id"].as_str().unwrap();
    let usager = json_of(&idp(
        url,
        &[
            "usager",
            "add",
            "--given-name",
            "João",
            "--family-name",
            "SILVA",
            "--birthdate",
            "1948-00-00",
            "--gender",
            "male",
            "--birthcountry",
            "99139",
            "--email",
            "joao.silva@example.fr",
        ],
        None,
    ));
    let usager_id = usager["id"].as_str().unwrap();
    assert_eq!(usager["upstream_issuer"], "urn:aidants-idp:operator");
    let bad = idp(
        url,
        &[
            "usager",
            "add",
            "--given-name",
            "X",
            "--family-name",
            "Y",
            "--birthdate",
            "12/03/1948",
            "--gender",
            "male",
            "--email",
            "x@example.fr",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("birthdate"), "{}", stderr(&bad));

    let listed = idp(url, &["usager", "list"], None);
    assert!(stdout(&listed).contains("João SILVA") && stdout(&listed).contains(usager_id), "{}", stdout(&listed));
    let as_json = json_of(&idp(url, &["usager", "list", "--search", "silva", "--format", "json"], None));
    assert_eq!(as_json.as_array().unwrap().len(), 1);
    let none = json_of(&idp(url, &["usager", "list", "--search", "dubois", "--format", "json"], None));
    assert_eq!(none, serde_json::json!([]));

    let created = json_of(&idp(
        url,
        &[
            "mandate",
            "add",
            "--organisation",
            &org_id,
            "--usager",
            usager_id,
            "--aidant",
            aidant_id,
            "--demarche",
            "papiers",
            "--demarche",
            "social",
            "--duration",
            "semester",
        ],
        None,
    ));
    let mandate_id = created["mandate"]["id"].as_str().unwrap().to_owned();
    let hash = created["mandate"]["attestation_hash"].as_str().expect("a CLI mandate gets an attestation too");
    assert_eq!(hash.len(), 64);
    let shown = idp(url, &["mandate", "show", &mandate_id], None);
    assert!(stdout(&shown).contains(hash) && stdout(&shown).contains("papiers"), "{}", stdout(&shown));
    let shown = json_of(&idp(url, &["mandate", "show", &mandate_id, "--format", "json"], None));
    assert_eq!(shown["status"], "live");
    let listed = json_of(&idp(url, &["mandate", "list", "--usager", usager_id, "--format", "json"], None));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let usager_shown = idp(url, &["usager", "show", usager_id], None);
    assert!(stdout(&usager_shown).contains("mandates: 1"), "{}", stdout(&usager_shown));

    let renewed = json_of(&idp(
        url,
        &["mandate", "renew", &mandate_id, "--aidant", aidant_id, "--demarche", "social", "--duration", "long"],
        None,
    ));
    assert_eq!(renewed["mandate"]["renewed_from_id"], mandate_id.as_str());
    let old = json_of(&idp(url, &["mandate", "show", &mandate_id, "--format", "json"], None));
    assert_eq!(old["status"], "revoked");
    let again = idp(url, &["mandate", "renew", &mandate_id, "--aidant", aidant_id], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("cannot be renewed"), "{}", stderr(&again));
    let unknown = idp(url, &["mandate", "show", "no-such-mandate"], None);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("mandate not found"), "{}", stderr(&unknown));
}

async fn org_show_and_update_say_type_department_region_and_demarches(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let created = org(&db.url);
    let id = created["id"].as_str().unwrap();
    let shown = idp(&db.url, &["org", "show", "21750001600019", "--format", "json"], None);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let shown: Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(shown["id"], id, "found by its SIRET");
    assert_eq!(shown["organisation_type"], "france_services");
    assert_eq!((shown["department_code"].as_str(), shown["region_code"].as_str()), (Some("75"), Some("11")));
    assert_eq!(shown["region"], "Île-de-France");
    assert_eq!(shown["demarches"].as_array().unwrap().len(), 10, "every démarche unless listed");

    let updated = idp(
        &db.url,
        &["org", "update", id, "--type", "ccas", "--department", "2a", "--demarches", "social,logement"],
        None,
    );
    assert!(updated.status.success(), "{}", stderr(&updated));
    let text = stdout(&idp(&db.url, &["org", "show", id], None));
    assert!(text.contains("department: 2A, region 94 (Corse)"), "{text}");
    assert!(text.contains("démarches offered: social, logement"), "{text}");
    let entries = mandate_store::journal::recent(
        &mut db.store.conn().unwrap(),
        Some(mandate_store::journal::JournalAction::OrganisationUpdated),
        5,
    )
    .unwrap();
    assert_eq!(
        entries[0].details.as_ref().unwrap().value()["fields"],
        serde_json::json!(["organisation_type", "department", "demarches"])
    );

    // Wrong values are usage errors that say what is expected; nothing changes.
    for (args, expected) in [
        (vec!["org", "update", id, "--department", "20"], "unknown department"),
        (vec!["org", "update", id, "--demarches", "impots"], "impots"),
        (vec!["org", "update", id, "--type", "prefecture"], "prefecture"),
    ] {
        let out = idp(&db.url, &args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
    }
    let missing = idp(&db.url, &["org", "show", "no-such-org"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("organisation not found"), "{}", stderr(&missing));
    let shown: Value =
        serde_json::from_str(&stdout(&idp(&db.url, &["org", "show", id, "--format", "json"], None))).unwrap();
    assert_eq!(shown["department_code"], "2A");
}

async fn aidant_habilitation_is_recorded_and_shown(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let org_id = org(&db.url)["id"].as_str().unwrap().to_owned();
    let args = ["aidant", "add", "--email", "lea.roux@example.fr", "--given-name", "Léa", "--family-name", "Roux"];
    let added = idp(&db.url, &[&args[..], &["--organisation", &org_id]].concat(), None);
    assert!(added.status.success(), "{}", stderr(&added));

    let shown = stdout(&idp(&db.url, &["aidant", "show", "lea.roux@example.fr"], None));
    assert!(shown.contains("in habilitation, missing: training, PIX certification, charter acceptance"), "{shown}");

    let recorded = idp(&db.url, &["aidant", "habilitation", "lea.roux@example.fr", "--training", "2026-11-02"], None);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    assert!(stdout(&recorded).contains("missing: PIX certification, charter acceptance"), "{}", stdout(&recorded));
    let recorded = idp(&db.url, &["aidant", "habilitation", "lea.roux@example.fr", "--pix", "2026-11-20"], None);
    assert!(stdout(&recorded).contains("missing: charter acceptance"), "{}", stdout(&recorded));

    let json: Value = serde_json::from_str(&stdout(&idp(
        &db.url,
        &["aidant", "show", "lea.roux@example.fr", "--format", "json"],
        None,
    )))
    .unwrap();
    assert_eq!(json["habilitation"]["training_date"], "2026-11-02");
    assert_eq!(json["habilitation"]["pix_date"], "2026-11-20");
    assert_eq!(json["habilitation"]["missing"], serde_json::json!(["charter"]));
    assert_eq!(json["habilitation"]["habilitated"], false);

    let nothing = idp(&db.url, &["aidant", "habilitation", "lea.roux@example.fr"], None);
    assert_eq!(nothing.status.code(), Some(2), "a step is required: {}", stderr(&nothing));
    let bad_date = idp(&db.url, &["aidant", "habilitation", "lea.roux@example.fr", "--pix", "20/11/2026"], None);
    assert_eq!(bad_date.status.code(), Some(2), "{}", stderr(&bad_date));
    let unknown = idp(&db.url, &["aidant", "habilitation", "nobody@example.fr", "--pix", "2026-11-20"], None);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("aidant not found"), "{}", stderr(&unknown));
}
