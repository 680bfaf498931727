//! The README's end-to-end flow, run as written so that it cannot drift from the server: the
//! shell blocks marked `<!-- readme-flow -->` are joined into one bash script and run, with
//! curl and jq, from a folder laid out like the repository (`./target/debug/idp` is this
//! build's binary), against `idp serve` started there as `make run` would. The only change to
//! the text is the port: 8080 becomes a free one.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mandate_store::testing::TestDb;
use mandate_store::Backend;

use crate::helpers::{stderr, stdout};

crate::on_both_backends!(the_readme_flow_works_as_written);

const README: &str = include_str!("../../../README.md");
const MARKER: &str = "<!-- readme-flow -->";

/// The marked blocks, in order, as one script.
fn flow_script() -> (String, usize) {
    let mut script = String::new();
    let mut blocks = 0;
    let mut lines = README.lines();
    while let Some(line) = lines.next() {
        if line.trim() != MARKER {
            continue;
        }
        let fence = lines.next().unwrap_or_default();
        assert_eq!(fence.trim(), "```sh", "{MARKER} must come right before a ```sh block");
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            script.push_str(line);
            script.push('\n');
        }
        blocks += 1;
    }
    (script, blocks)
}

/// Stops the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}

async fn the_readme_flow_works_as_written(backend: Backend) {
    // SQLite: the README's default database, ./data/idp.db in the folder. PostgreSQL: a fresh
    // schema, named to the server and to the script's `idp` commands alike.
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let Some(db) = TestDb::postgres() else { return };
            Some(db)
        }
    };
    let (script, blocks) = flow_script();
    assert!(blocks >= 6, "the README's flow blocks are marked ({blocks} found)");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = script.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));

    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("target/debug")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_idp"), root.path().join("target/debug/idp")).unwrap();
    // `make run` installs the npm packages first (`npm ci`): the design system the pages link to.
    let node_modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules");
    std::os::unix::fs::symlink(node_modules, root.path().join("node_modules")).unwrap();
    let environment = |command: &mut Command| {
        command.current_dir(root.path()).env("TMPDIR", root.path()).env_remove("IDP_CONFIG");
        if let Some(db) = &postgres {
            command.env("IDP__DATABASE__URL", &db.url);
        }
    };

    // `make run`: only the port is set; the issuer follows it.
    let log = std::fs::File::create(root.path().join("server.log")).unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_idp"));
    environment(&mut serve);
    serve.arg("serve").env("IDP__HTTP__BIND", format!("127.0.0.1:{port}")).stdout(Stdio::null()).stderr(log);
    let server = Server(serve.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready(port) {
        assert!(Instant::now() < deadline, "the server did not become ready: {}", server_log(root.path()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut bash = Command::new("bash");
    environment(&mut bash);
    bash.args(["-euo", "pipefail", "-c", &script]).env("IDP__HTTP__BIND", format!("127.0.0.1:{port}"));
    let run = bash.output().unwrap();
    drop(server);
    let (out, err) = (stdout(&run), stderr(&run));
    let context = format!("--- stdout\n{out}\n--- stderr\n{err}\n--- server\n{}", server_log(root.path()));
    assert!(run.status.success(), "the README's flow failed\n{context}");

    assert!(out.contains("http://127.0.0.1:8765/callback?code="), "{context}");
    assert!(out.contains("state=xyz"), "{context}");
    // The userinfo answer: the usager's claims, the helper who acted and the mandate.
    let userinfo: serde_json::Value = {
        let start = out.find("{\n").unwrap_or_else(|| panic!("no userinfo JSON\n{context}"));
        let end = out.find("\n}").unwrap_or_else(|| panic!("no userinfo JSON\n{context}")) + 2;
        serde_json::from_str(&out[start..end]).unwrap_or_else(|e| panic!("{e}\n{context}"))
    };
    assert_eq!(userinfo["given_name"], "Angela Claire Louise", "{context}");
    assert_eq!(userinfo["family_name"], "DUBOIS", "{context}");
    assert_eq!(userinfo["act"]["email"], "aidant.demo@example.fr", "{context}");
    assert_eq!(userinfo["mandate"]["demarche"], "logement", "{context}");
    // After the revocation, the same access token is refused.
    assert_eq!(out.lines().last(), Some("401"), "{context}");
    assert!(err.contains("revoked"), "{context}");
}

fn server_log(root: &Path) -> String {
    std::fs::read_to_string(root.join("server.log")).unwrap_or_default()
}
