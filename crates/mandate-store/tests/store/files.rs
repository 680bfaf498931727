//! What the embedded database leaves on disk: files nobody but the server's user can read.

use std::os::unix::fs::PermissionsExt;

use mandate_store::server_secrets::get_or_create;
use mandate_store::{now, Store};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Before: `idp.db`, `idp.db-wal` and `idp.db-shm` were created 0644 (the process umask), and
/// any local account read the sessions and one-time code secrets in them.
#[test]
fn a_new_sqlite_database_and_its_wal_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data");
    let path = folder.join("idp.db");
    let store = Store::open_and_migrate(&format!("sqlite://{}", path.display()), 2).unwrap();
    let mut conn = store.conn().unwrap();
    get_or_create(&mut conn, &mandate_store::sealing::Keyring::random(), "csrf", || "a secret".into(), now()).unwrap();
    for file in ["idp.db", "idp.db-wal", "idp.db-shm"] {
        assert_eq!(mode(&folder.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&folder), 0o700, "the folder made for it too");
}

#[test]
fn an_existing_database_keeps_the_permissions_its_operator_chose() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idp.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    Store::open_and_migrate(&format!("sqlite://{}", path.display()), 1).unwrap();
    assert_eq!(mode(&path), 0o640);
}
