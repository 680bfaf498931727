//! The `idp` command line: serve, migrate and administer.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use mandate_store::aidants::{self, NewAidant};
use mandate_store::journal::{self, ChainReport};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::{now, Email, Role, Siret, Store};
use serde_json::json;

use crate::configuration::Settings;
use crate::{passwords, totp};

#[derive(Debug, Parser)]
#[command(name = "idp", version, about = "Aidants IdP: OpenID Connect provider for delegated online formalities")]
pub struct Cli {
    /// TOML configuration file (default: ./idp.toml when present). Environment variables
    /// IDP__SECTION__KEY override it.
    #[arg(long, global = true, env = "IDP_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (creates and migrates the database on first start).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Aidants (helpers).
    #[command(subcommand)]
    Aidant(AidantCommand),
    /// The journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(crate::keys::cli::KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Register an organisation; prints it as JSON.
    Add(OrgAdd),
    /// List organisations as JSON.
    List,
}

#[derive(Debug, Args)]
pub struct OrgAdd {
    #[arg(long)]
    pub name: String,
    /// 14 digits; the checksum is verified.
    #[arg(long)]
    pub siret: String,
    #[arg(long)]
    pub address: String,
    #[arg(long)]
    pub postcode: String,
    #[arg(long)]
    pub city: String,
    #[arg(long)]
    pub region: String,
}

#[derive(Debug, Subcommand)]
pub enum AidantCommand {
    /// Create a helper account; prints its id, and the TOTP enrolment URI to scan.
    Add(AidantAdd),
}

#[derive(Debug, Args)]
pub struct AidantAdd {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub given_name: String,
    #[arg(long)]
    pub family_name: String,
    #[arg(long, default_value = "Aidant numérique")]
    pub profession: String,
    #[arg(long)]
    pub phone: Option<String>,
    /// Organisation id; repeat for several (the first is the current one).
    #[arg(long = "organisation", required = true)]
    pub organisations: Vec<String>,
    #[arg(long, default_value = "aidant", value_parser = ["aidant", "manager"])]
    pub role: String,
    /// Read the password from standard input (otherwise one is generated and printed once).
    #[arg(long)]
    pub password_stdin: bool,
    /// TOTP step: 30 for phone apps, 60 for hardware cards.
    #[arg(long, default_value_t = 30, value_parser = parse_totp_step)]
    pub totp_step: u64,
}

fn parse_totp_step(raw: &str) -> Result<u64, String> {
    match raw {
        "30" => Ok(30),
        "60" => Ok(60),
        _ => Err("30 (phone apps) or 60 (hardware cards)".into()),
    }
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Walk the hash chain; exit 3 and name the first bad entry if it is broken.
    Verify,
}

/// What a command ended with, for the process exit code.
pub enum Outcome {
    Success,
    JournalBroken,
}

fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::open_and_migrate(&settings.database.url, settings.database.max_connections)
        .with_context(|| format!("database {}", redact_url(&settings.database.url)))
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

pub fn run_admin(command: Command, settings: &Settings) -> anyhow::Result<Outcome> {
    match command {
        Command::Serve => unreachable!("serve is handled by main"),
        Command::Migrate => {
            let store = Store::open(&settings.database.url, 1)
                .with_context(|| format!("database {}", redact_url(&settings.database.url)))?;
            let applied = store.migrate()?;
            eprintln!("{applied} migration(s) applied ({} database)", store.backend());
        }
        Command::Org(OrgCommand::Add(args)) => {
            let siret = Siret::parse(&args.siret)?;
            let store = open_store(settings)?;
            let org = organisations::create(
                &mut *store.conn()?,
                NewOrganisation {
                    name: args.name,
                    siret,
                    address: args.address,
                    postcode: args.postcode,
                    city: args.city,
                    region: args.region,
                },
                now(),
            )?;
            print_json(&serde_json::to_value(org)?);
        }
        Command::Org(OrgCommand::List) => {
            let store = open_store(settings)?;
            print_json(&serde_json::to_value(organisations::list(&mut *store.conn()?)?)?);
        }
        Command::Aidant(AidantCommand::Add(args)) => add_aidant(args, settings)?,
        Command::Keys(cmd) => crate::keys::cli::run(cmd, settings)?,
        Command::Journal(JournalCommand::Verify) => {
            let store = open_store(settings)?;
            match journal::verify(&mut *store.conn()?)? {
                ChainReport::Intact { entries, head_hash } => {
                    println!("journal intact: {entries} entries, head {head_hash}");
                }
                ChainReport::Broken { seq, reason } => {
                    eprintln!("journal BROKEN at entry {seq}: {reason}");
                    return Ok(Outcome::JournalBroken);
                }
            }
        }
    }
    Ok(Outcome::Success)
}

fn add_aidant(args: AidantAdd, settings: &Settings) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?;
    let role: Role = args.role.parse()?;
    let (password, generated) = if args.password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input).context("reading the password from standard input")?;
        let password = input.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("no password on standard input");
        }
        (password, false)
    } else {
        (passwords::generate(), true)
    };
    let password_hash = passwords::hash(&password)?;
    let secret = totp::generate_secret();
    let store = open_store(settings)?;
    let aidant = aidants::create(
        &mut *store.conn()?,
        NewAidant {
            email: email.clone(),
            given_name: args.given_name,
            family_name: args.family_name,
            profession: args.profession,
            phone: args.phone,
            organisation_ids: args.organisations,
            role,
            password_hash,
            totp_secret: secret.clone(),
            totp_step_seconds: args.totp_step as i32,
            charter_signed_at: None,
        },
        now(),
    )?;
    let mut out = json!({
        "id": aidant.id,
        "email": aidant.email,
        "organisation_id": aidant.current_organisation_id,
        "totp_enrolment_uri": totp::enrolment_uri(&secret, args.totp_step, email.as_str())?,
    });
    if generated {
        out["password"] = json!(password);
    }
    print_json(&out);
    Ok(())
}
