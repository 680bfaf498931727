//! The container image (`Dockerfile`): built and started where a Docker engine answers, then
//! asked what an orchestrator and a relying party ask first: `/readyz` and the discovery
//! document, on the published port, with the issuer it was given. The image runs as an
//! unprivileged user and declares its health check on `/readyz`.
//!
//! Where no engine answers (`docker info` fails: a machine with the client only, as CI's) the
//! test says it is skipped, under CI too (docs/decisions/0021-reverse-proxy-limits-container.md).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker client")
}

fn engine_answers() -> bool {
    Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success())
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Removes the container and the image however the test ends.
struct Cleanup {
    container: Option<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(container) = &self.container {
            let _ = docker(&["rm", "-f", container]);
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

#[tokio::test]
async fn the_image_starts_ready_and_serves_discovery() {
    if !engine_answers() {
        crate::helpers::say_skipped("the container test needs a Docker engine (`docker info` fails here)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let image = format!("aidants-idp-test:{}", uuid::Uuid::new_v4().simple());
    let mut cleanup = Cleanup { container: None, image: image.clone() };
    let built = Command::new("docker").args(["build", "-t", &image]).arg(&root).output().unwrap();
    assert!(built.status.success(), "docker build failed:\n{}", text(&built));

    let inspect = docker(&["image", "inspect", "--format", "{{json .Config}}", &image]);
    let config: Value = serde_json::from_slice(&inspect.stdout).unwrap_or_else(|_| panic!("{}", text(&inspect)));
    assert_eq!(config["User"], "idp:idp", "not root");
    let check = config["Healthcheck"]["Test"].to_string();
    assert!(check.contains("/readyz"), "{check}");

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let run =
        docker(&["run", "-d", "-p", &format!("127.0.0.1:{port}:8080"), "-e", &format!("IDP__ISSUER={issuer}"), &image]);
    assert!(run.status.success(), "docker run failed:\n{}", text(&run));
    let container = String::from_utf8_lossy(&run.stdout).trim().to_owned();
    cleanup.container = Some(container.clone());

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let ready = loop {
        if let Ok(response) = client.get(format!("{issuer}/readyz")).send().await {
            if response.status() == 200 {
                break response.json::<Value>().await.unwrap();
            }
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", text(&docker(&["logs", &container])));
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(ready["status"], "ready", "{ready}");
    let discovery: Value =
        client.get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/jwks"));
    // The design system's files were copied in: the pages' stylesheet is served.
    let login = client.get(format!("{issuer}/login")).send().await.unwrap().text().await.unwrap();
    let stylesheet = login
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/static/dsfr/") && href.ends_with(".css"))
        .expect("the design system's stylesheet");
    assert_eq!(client.get(format!("{issuer}{stylesheet}")).send().await.unwrap().status(), 200);
}
