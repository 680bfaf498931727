//! `idp keys …`, as an operator rotates the signing keys.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{stderr, stdout};

/// Runs `idp keys ARGS` on the keys folder `dir`. The database URL points at a file that must
/// not appear: keys commands never open the database.
fn keys(dir: &Path, database: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("keys")
        .args(args)
        .env("IDP__KEYS__DIR", dir)
        .env("IDP__DATABASE__URL", format!("sqlite://{}", database.display()))
        .env_remove("IDP_CONFIG")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap()
}

fn states(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), k["state"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn generate_rotate_list_and_retire() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("keys");
    let database = root.path().join("idp.db");
    let keys = |args: &[&str]| keys(&dir, &database, args);

    let first = json(&keys(&["generate"]));
    assert_eq!((&first["alg"], &first["state"]), (&Value::from("RS256"), &Value::from("active")));
    let first_kid = first["kid"].as_str().unwrap().to_owned();
    assert_eq!(first_kid.len(), 43, "a SHA-256 thumbprint, base64url: {first_kid}");
    assert_eq!(states(&json(&keys(&["list"]))), [(first_kid.clone(), "active".to_owned())]);

    let second = json(&keys(&["rotate"]));
    let second_kid = second["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        states(&json(&keys(&["list"]))),
        [(second_kid.clone(), "active".to_owned()), (first_kid.clone(), "retiring".to_owned())]
    );

    let retired = keys(&["retire", &first_kid]);
    assert!(retired.status.success(), "{}", stderr(&retired));
    assert_eq!(states(&json(&keys(&["list"]))), [(second_kid.clone(), "active".to_owned())]);

    let unknown = keys(&["retire", "no-such-kid"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("unknown key id \"no-such-kid\""), "{}", stderr(&unknown));

    let last = keys(&["retire", &second_kid]);
    assert!(!last.status.success());
    assert!(stderr(&last).contains("only active RS256 key"), "{}", stderr(&last));

    let ec = json(&keys(&["generate", "--alg", "ES256"]));
    assert_eq!(ec["alg"], "ES256");
    let bad_alg = keys(&["rotate", "--alg", "HS256"]);
    assert!(!bad_alg.status.success());
    assert!(stderr(&bad_alg).contains("RS256 or ES256"), "{}", stderr(&bad_alg));

    assert!(!database.exists(), "a keys command opened the database");
}
