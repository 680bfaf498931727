//! Starting the provider (`idp serve`) on a fresh database, seeding it through its command
//! line, and describing it as a [`Target`]. Only the binary is used, never the server's code.
//!
//! The provider runs as it is deployed: on plain http on a loopback port, behind a
//! TLS-terminating front ([`TlsFront`]) whose https URL is the issuer.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use url::Url;

use crate::backchannel::LogoutReceiver;
use crate::browser::{Aidant, Aidants, Choices};
use crate::jose::RsaSigner;
use crate::target::{Admin, AuthMethod, BackchannelClient, ClientConfig, Delegation, Target};
use crate::tls_front::TlsFront;
use crate::totp::Authenticator;

/// The relying party's redirect URI (nothing listens there: the robot stops before it).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
pub const POST_LOGOUT_REDIRECT_URI: &str = "http://127.0.0.1:8765/logged-out";
/// Helpers the robot may log in as (one-time codes are single use, so several keep runs fast).
const EXTRA_AIDANTS: usize = 3;

/// The `idp` binary and the environment every command of one run shares.
#[derive(Clone)]
pub struct Idp {
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    /// The certificate of the TLS front the issuer is served through.
    pub tls_root: reqwest::Certificate,
}

impl Idp {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs a command and parses its standard output as JSON.
    pub fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running idp {}", args.join(" ")))?;
        if !out.status.success() {
            bail!("idp {} failed ({}): {}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr).trim());
        }
        serde_json::from_slice(&out.stdout).with_context(|| {
            format!("idp {}: output is not JSON: {}", args.join(" "), String::from_utf8_lossy(&out.stdout))
        })
    }
}

/// A running server; killed when dropped.
pub struct Running {
    child: Child,
    pub issuer: Url,
    pub log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The `idp` binary: `IDP_BIN`, else `<workspace>/target/debug/idp`.
pub fn idp_bin() -> PathBuf {
    std::env::var_os("IDP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("debug").join("idp"))
}

/// Prepares the environment of one run in `dir` on `database_url`, and starts the TLS front
/// (`https://127.0.0.1:FRONT`, the issuer) relaying to the port the server will bind
/// (`127.0.0.1:BACKEND`, plain http). The front stops when dropped.
pub fn prepare(dir: &Path, database_url: &str) -> anyhow::Result<(Idp, TlsFront)> {
    let backend = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let front = TlsFront::start(backend)?;
    let issuer = front.url().as_str().trim_end_matches('/').to_owned();
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys)?;
    let env = vec![
        ("IDP__ISSUER".to_owned(), issuer),
        ("IDP__HTTP__BIND".to_owned(), backend.to_string()),
        ("IDP__DATABASE__URL".to_owned(), database_url.to_owned()),
        ("IDP__KEYS__DIR".to_owned(), keys.display().to_string()),
        ("IDP__LOG__FORMAT".to_owned(), "json".to_owned()),
        // `idp demo seed` gives the run its helper and client, and seeds only a server in demo
        // mode on a loopback issuer (the front's 127.0.0.1 is one).
        ("IDP__DEMO__ENABLED".to_owned(), "true".to_owned()),
        // The design system the pages link to, as `npm ci` installs it at the repository's root
        // (whatever folder the runner is started from).
        (
            "IDP__UI__ASSETS_DIR".to_owned(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/@gouvfr/dsfr/dist").display().to_string(),
        ),
    ];
    let bin = idp_bin();
    if !bin.exists() {
        bail!("{} not found (build it with `cargo build -p idp` or set IDP_BIN)", bin.display());
    }
    Ok((Idp { bin, env, tls_root: front.certificate() }, front))
}

/// Starts `idp serve` and waits for `/readyz` through the TLS front.
pub fn start(idp: &Idp, dir: &Path) -> anyhow::Result<Running> {
    let issuer = idp.env.iter().find(|(k, _)| k == "IDP__ISSUER").map(|(_, v)| v.clone()).unwrap_or_default();
    let log = dir.join("idp.log");
    let file = std::fs::File::create(&log)?;
    let child = idp
        .command(&["serve"])
        .stdout(file.try_clone()?)
        .stderr(file)
        .stdin(Stdio::null())
        .spawn()
        .context("starting idp serve")?;
    let mut running = Running { child, issuer: Url::parse(&issuer)?, log };
    let ready = running.issuer.join("/readyz")?;
    let http = crate::tls_front::client_builder(Some(&idp.tls_root)).timeout(Duration::from_secs(2)).build()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = running.child.try_wait()? {
            bail!("idp serve exited ({status}); log: {}", tail(&running.log));
        }
        if http.get(ready.clone()).send().is_ok_and(|r| r.status().is_success()) {
            return Ok(running);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("idp serve not ready after 60 s; log: {}", tail(&running.log))
}

pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> anyhow::Result<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).ok_or_else(|| anyhow!("`{pointer}` missing in {value}"))
}

/// Registers a client through `idp client add`.
fn add_client(idp: &Idp, name: &str, auth: AuthMethod, extra: &[&str]) -> anyhow::Result<ClientConfig> {
    let mut args =
        vec!["client", "add", "--name", name, "--redirect-uri", REDIRECT_URI, "--auth-method", auth.as_str()];
    args.extend_from_slice(extra);
    let out = idp.json(&args)?;
    Ok(ClientConfig {
        client_id: str_at(&out, "/client_id")?.to_owned(),
        client_secret: out.get("client_secret").and_then(Value::as_str).map(str::to_owned),
        auth,
        redirect_uri: REDIRECT_URI.to_owned(),
        post_logout_redirect_uri: None,
        signer: None,
    })
}

/// Seeds the demo data, adds helpers and clients, and describes the result as a [`Target`].
pub fn seed(idp: &Idp, dir: &Path) -> anyhow::Result<Target> {
    let seed = idp.json(&["demo", "seed"])?;
    let issuer = Url::parse(str_at(&seed, "/issuer")?)?;
    let organisation = str_at(&seed, "/organisation/id")?.to_owned();
    let mut aidants = vec![Aidant {
        id: str_at(&seed, "/aidant/id")?.to_owned(),
        email: str_at(&seed, "/aidant/email")?.to_owned(),
        password: str_at(&seed, "/aidant/password")?.to_owned(),
        authenticator: Authenticator::new(
            str_at(&seed, "/aidant/totp_secret")?,
            seed.pointer("/aidant/totp_step").and_then(Value::as_u64).unwrap_or(30),
        )
        .map_err(|e| anyhow!(e))?,
    }];
    for i in 1..=EXTRA_AIDANTS {
        let email = format!("conformance-{i}-{}@aidants.example.fr", crate::module::random(6).to_lowercase());
        let out = idp.json(&[
            "aidant",
            "add",
            "--email",
            &email,
            "--given-name",
            "Dominique",
            "--family-name",
            &format!("Essai{i}"),
            "--organisation",
            &organisation,
        ])?;
        // A new helper acts for usagers once habilitated (training and PIX recorded by the
        // operator; the charter is accepted by the helper at their first sign-in).
        let habilitation = ["aidant", "habilitation", &email, "--training", "2025-01-06", "--pix", "2025-01-20"];
        let recorded =
            idp.command(&habilitation).stdin(Stdio::null()).output().context("running idp aidant habilitation")?;
        if !recorded.status.success() {
            bail!("idp aidant habilitation failed: {}", String::from_utf8_lossy(&recorded.stderr).trim());
        }
        let uri = Url::parse(str_at(&out, "/totp_enrolment_uri")?)?;
        let param = |n: &str| uri.query_pairs().find(|(k, _)| k == n).map(|(_, v)| v.into_owned());
        aidants.push(Aidant {
            id: str_at(&out, "/id")?.to_owned(),
            email,
            password: str_at(&out, "/password")?.to_owned(),
            authenticator: Authenticator::new(
                &param("secret").ok_or_else(|| anyhow!("no secret in {uri}"))?,
                param("period").and_then(|p| p.parse().ok()).unwrap_or(30),
            )
            .map_err(|e| anyhow!(e))?,
        });
    }
    let usagers: Vec<(String, Vec<String>)> = seed
        .get("usagers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|u| {
                    let id = u.get("id")?.as_str()?.to_owned();
                    let demarches =
                        u.get("demarches")?.as_array()?.iter().filter_map(|d| d.as_str().map(str::to_owned)).collect();
                    Some((id, demarches))
                })
                .collect()
        })
        .unwrap_or_default();
    let choices = Choices {
        usager: usagers.first().map(|u| u.0.clone()),
        demarche: usagers.first().and_then(|u| u.1.first().cloned()),
    };
    let client = ClientConfig {
        client_id: str_at(&seed, "/client/client_id")?.to_owned(),
        client_secret: seed.pointer("/client/client_secret").and_then(Value::as_str).map(str::to_owned),
        auth: seed
            .pointer("/client/token_endpoint_auth_method")
            .and_then(Value::as_str)
            .and_then(AuthMethod::parse)
            .unwrap_or(AuthMethod::ClientSecretBasic),
        redirect_uri: REDIRECT_URI.to_owned(),
        post_logout_redirect_uri: None,
        signer: None,
    };
    let client_post = add_client(idp, "conformance-secret-post", AuthMethod::ClientSecretPost, &[])?;
    let client2 = add_client(idp, "conformance-second", AuthMethod::ClientSecretBasic, &[])?;
    let mut logout_client = add_client(
        idp,
        "conformance-logout",
        AuthMethod::ClientSecretBasic,
        &["--post-logout-redirect-uri", POST_LOGOUT_REDIRECT_URI],
    )?;
    logout_client.post_logout_redirect_uri = Some(POST_LOGOUT_REDIRECT_URI.to_owned());
    let receiver = LogoutReceiver::start()?;
    let mut bc_client = add_client(
        idp,
        "conformance-backchannel",
        AuthMethod::ClientSecretBasic,
        &["--post-logout-redirect-uri", POST_LOGOUT_REDIRECT_URI, "--backchannel-logout-uri", &receiver.uri],
    )?;
    bc_client.post_logout_redirect_uri = Some(POST_LOGOUT_REDIRECT_URI.to_owned());
    let signer = Arc::new(RsaSigner::generate("conformance-rp")?);
    let jwks_file = dir.join("rp-jwks.json");
    std::fs::write(&jwks_file, signer.jwks().to_string())?;
    let jwks_arg = jwks_file.display().to_string();
    let mut pkj =
        add_client(idp, "conformance-private-key-jwt", AuthMethod::PrivateKeyJwt, &["--jwks-file", &jwks_arg])?;
    pkj.signer = Some(signer);
    Ok(Target {
        issuer,
        tls_root: Some(idp.tls_root.clone()),
        client,
        client_post: Some(client_post),
        client_private_key_jwt: Some(pkj),
        client2: Some(client2),
        logout_client: Some(logout_client),
        backchannel: Some(BackchannelClient { client: bc_client, receiver }),
        aidants: Arc::new(Aidants { list: aidants }),
        choices,
        admin: Some(Box::new(CliAdmin { idp: idp.clone(), organisation: organisation.clone() })),
        delegation: Some(Delegation { organisation_id: organisation, usagers }),
    })
}

/// [`Admin`] through the `idp` command line.
pub struct CliAdmin {
    pub idp: Idp,
    pub organisation: String,
}

impl Admin for CliAdmin {
    fn add_mandate(
        &self,
        usager: &str,
        aidant: &str,
        demarches: &[&str],
        expires_at: Option<&str>,
    ) -> Result<(String, Vec<(String, String)>), String> {
        let mut args =
            vec!["mandate", "add", "--organisation", &self.organisation, "--usager", usager, "--aidant", aidant];
        for d in demarches {
            args.extend(["--demarche", d]);
        }
        match expires_at {
            Some(at) => args.extend(["--expires-at", at]),
            None => args.extend(["--duration", "short"]),
        }
        let out = self.idp.json(&args).map_err(|e| format!("{e:#}"))?;
        let id = out.pointer("/mandate/id").and_then(Value::as_str).ok_or("no mandate.id")?.to_owned();
        let auths = out
            .get("authorisations")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|a| Some((a.get("id")?.as_str()?.to_owned(), a.get("demarche")?.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok((id, auths))
    }

    fn revoke_authorisation(&self, authorisation_id: &str, aidant: &str) -> Result<(), String> {
        run_ok(&self.idp, &["authorisation", "revoke", authorisation_id, "--aidant", aidant])
    }

    fn revoke_mandate(&self, mandate_id: &str, aidant: &str) -> Result<(), String> {
        run_ok(&self.idp, &["mandate", "revoke", mandate_id, "--aidant", aidant])
    }

    fn add_client(&self, name: &str, _redirect_uri: &str, demarches: &[&str]) -> Result<ClientConfig, String> {
        let mut extra = Vec::new();
        for d in demarches {
            extra.extend(["--demarche", d]);
        }
        add_client(&self.idp, name, AuthMethod::ClientSecretBasic, &extra).map_err(|e| format!("{e:#}"))
    }

    fn journal(&self, action: Option<&str>) -> Result<Vec<Value>, String> {
        let mut args = vec!["journal", "list", "--format", "json", "--limit", "100000"];
        if let Some(a) = action {
            args.extend(["--action", a]);
        }
        let out = self.idp.json(&args).map_err(|e| format!("{e:#}"))?;
        out.as_array().cloned().ok_or_else(|| format!("journal list did not print an array: {out}"))
    }
}

fn run_ok(idp: &Idp, args: &[&str]) -> Result<(), String> {
    let out = idp.command(args).stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("idp {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// A fresh PostgreSQL database for one run, dropped afterwards.
pub struct PgDatabase {
    pub url: String,
    admin_url: Option<String>,
    name: String,
}

impl PgDatabase {
    /// `CONFORMANCE_POSTGRES_ADMIN_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
    /// is used to create a database; failing that, `IDP_TEST_POSTGRES_URL` with a fresh schema.
    pub fn create() -> anyhow::Result<PgDatabase> {
        let name = format!("conformance_{}", crate::module::random(10).to_lowercase());
        let admin = std::env::var("CONFORMANCE_POSTGRES_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        if psql(&admin, &format!("CREATE DATABASE {name}")).is_ok() {
            let mut url = Url::parse(&admin)?;
            url.set_path(&format!("/{name}"));
            return Ok(PgDatabase { url: url.to_string(), admin_url: Some(admin), name });
        }
        let base = std::env::var("IDP_TEST_POSTGRES_URL")
            .context("no PostgreSQL: cannot create a database and IDP_TEST_POSTGRES_URL is not set")?;
        psql(&base, &format!("CREATE SCHEMA {name}"))?;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(PgDatabase { url: format!("{base}{sep}options=-c%20search_path%3D{name}"), admin_url: None, name })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = match &self.admin_url {
            Some(admin) => psql(admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)),
            None => std::env::var("IDP_TEST_POSTGRES_URL")
                .map_err(|e| anyhow!(e))
                .and_then(|base| psql(&base, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))),
        };
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .stdin(Stdio::null())
        .output()
        .context("running psql")?;
    if out.status.success() {
        Ok(())
    } else {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim())
    }
}
