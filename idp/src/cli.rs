//! The `idp` command line: serve, migrate and administer.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, Parser, Subcommand};
use mandate_store::aidants::{self, NewAidant};
use mandate_store::attestation::{self, Verification};
use mandate_store::journal::{self, ChainReport};
use mandate_store::mandates::{self, NewMandate, Revocation};
use mandate_store::organisations::{NewOrganisation, OrganisationUpdate};
use mandate_store::{now, Demarche, Department, DurationKind, Email, OrganisationType, Role, Siret, Store, StoreError};
use serde_json::json;

use crate::admin::organisations as admin_organisations;
use crate::admin::records::{self, Format};
use crate::configuration::Settings;
use crate::{passwords, totp};

/// What the process exit status means, for scripts (also in `idp --help` and the README).
pub mod exit {
    /// Something failed; the reason is on standard error.
    pub const FAILURE: u8 = 1;
    /// The command line itself is wrong (clap's own status for usage errors).
    pub const USAGE: u8 = 2;
    /// `idp journal verify` found the chain broken, or `idp journal verify-bundle` the bundle.
    pub const JOURNAL_BROKEN: u8 = 3;
    /// `idp attestation verify` found the stored mandate no longer matching its attestation.
    pub const ATTESTATION_DIFFERS: u8 = 3;
    /// The configuration (file or `IDP__` variables) is wrong: EX_CONFIG from sysexits.h.
    pub const CONFIGURATION: u8 = 78;
}

const EXIT_CODES: &str = "\
Exit codes:
  0   success
  1   failure (the reason is on standard error)
  2   usage error: unknown command or option, bad argument, unknown mandate
      (idp attestation verify) or usager (idp usager erase), a bundle unreadable or
      not a bundle (idp journal verify-bundle)
  3   journal broken (idp journal verify), a bundle tampered with (idp journal
      verify-bundle), or a mandate that no longer matches its attestation
      (idp attestation verify)
  78  configuration error: idp.toml or an IDP_ variable (unknown key, bad value)";

/// The démarches, as `--demarche` takes them, each with what it covers.
fn demarche_values() -> PossibleValuesParser {
    PossibleValuesParser::new(Demarche::ALL.map(|d| PossibleValue::new(d.key()).help(d.label_en())))
}

/// The standard mandate durations, each with its length (read from the store's own rule).
fn duration_values() -> PossibleValuesParser {
    PossibleValuesParser::new(
        [DurationKind::Short, DurationKind::Month, DurationKind::Semester, DurationKind::Long].map(|kind| {
            let days = kind.length().map(|d| d.num_days()).unwrap_or_default();
            PossibleValue::new(kind.key()).help(if days == 1 { "1 day".to_owned() } else { format!("{days} days") })
        }),
    )
}

#[derive(Debug, Parser)]
#[command(
    name = "idp",
    version,
    about = "Aidants IdP: OpenID Connect provider for delegated online formalities",
    after_help = EXIT_CODES
)]
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
    /// Physical TOTP cards.
    #[command(subcommand)]
    Card(CardCommand),
    /// The journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Relying parties (clients).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Usagers (the people helped).
    #[command(subcommand)]
    Usager(UsagerCommand),
    /// Mandates.
    #[command(subcommand)]
    Mandate(MandateCommand),
    /// A mandate's authorisations, one per démarche.
    #[command(subcommand)]
    Authorisation(AuthorisationCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Mandate attestations.
    #[command(subcommand)]
    Attestation(AttestationCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(crate::keys::cli::KeysCommand),
    /// The keys that seal secrets at rest (TOTP secrets, the server's own keys).
    #[command(subcommand)]
    Secrets(crate::admin::secrets::SecretsCommand),
    /// Daily upkeep: deactivate helper accounts with no sign-in for six months; `purge`:
    /// remove what is no longer needed and erase usagers at the end of retention.
    Maintenance(crate::admin::maintenance::MaintenanceArgs),
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a relying party; prints it as JSON, with its secret (shown once).
    Add(Box<ClientAdd>),
    /// List relying parties as JSON (no secrets).
    List,
    /// Remove a relying party and everything issued to it.
    Remove { client_id: String },
}

#[derive(Debug, Args)]
pub struct ClientAdd {
    #[arg(long)]
    pub name: String,
    /// Exact redirect URI; repeat for several.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    #[arg(long, default_value = "client_secret_basic", value_parser = crate::admin::clients::AUTH_METHODS)]
    pub auth_method: String,
    /// A JSON Web Key Set file (private_key_jwt).
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    /// Where the client publishes its keys (private_key_jwt).
    #[arg(long)]
    pub jwks_uri: Option<String>,
    #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256"])]
    pub id_token_alg: String,
    /// Sign userinfo responses (application/jwt) with this algorithm.
    #[arg(long, value_parser = ["RS256", "ES256"])]
    pub userinfo_alg: Option<String>,
    #[arg(long, default_value = "pairwise", value_parser = ["pairwise", "public"])]
    pub subject_type: String,
    /// Host that groups clients for pairwise subjects (default: the first redirect URI's host).
    #[arg(long)]
    pub sector_identifier: Option<String>,
    /// The démarches this service may receive: `--demarches logement,papiers` or `--demarche`
    /// repeated (default: all). A request narrows them further (`rep_scope`, `demarche:` scopes).
    #[arg(long = "demarches", visible_alias = "demarche", value_delimiter = ',', value_parser = demarche_values())]
    pub demarches: Vec<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// The client_id (default: a new UUID).
    #[arg(long)]
    pub client_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MandateCommand {
    /// Record a mandate (signed outside this tool); prints it as JSON, with the authorisations
    /// of older mandates it replaced (same organisation, usager and démarche).
    Add(MandateAdd),
    /// Revoke a mandate and all its authorisations (says so if it was already revoked).
    Revoke {
        mandate_id: String,
        /// The aidant who revokes (must belong to the mandate's organisation).
        #[arg(long)]
        aidant: String,
    },
    /// List mandates, newest first, with their démarches and state.
    List {
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long)]
        usager: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one mandate: parties, démarches, dates, attestation hash.
    Show {
        mandate_id: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Renew a mandate with the same or fewer démarches and a new duration; the old one ends.
    /// Prints the new mandate as JSON.
    Renew {
        mandate_id: String,
        /// The aidant who renews (must belong to the mandate's organisation).
        #[arg(long)]
        aidant: String,
        /// A démarche to keep; repeat (default: all those still in force).
        #[arg(long = "demarche", value_parser = demarche_values())]
        demarches: Vec<String>,
        #[arg(long, default_value = "long", value_parser = duration_values())]
        duration: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsagerCommand {
    /// Record a usager whose identity was checked outside this tool; prints it as JSON.
    Add(UsagerAdd),
    /// List usagers, by family name.
    List {
        /// Only usagers whose names contain every word of this.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one usager's identity and mandates.
    Show {
        usager_id: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Erase a usager's personal data everywhere (their live mandates are revoked first); the
    /// rows that name them by id, and the journal, stay and still verify.
    Erase { usager_id: String },
}

#[derive(Debug, Args)]
pub struct UsagerAdd {
    #[arg(long)]
    pub given_name: String,
    #[arg(long)]
    pub family_name: String,
    /// YYYY-MM-DD, with 00 for an unknown month or day (FranceConnect's format).
    #[arg(long)]
    pub birthdate: String,
    #[arg(long, value_parser = ["female", "male"])]
    pub gender: String,
    /// INSEE commune code of the birthplace (empty when born abroad).
    #[arg(long, default_value = "")]
    pub birthplace: String,
    /// INSEE country code of birth (99100 for France).
    #[arg(long, default_value = "99100")]
    pub birthcountry: String,
    #[arg(long)]
    pub email: String,
    /// The provider that verified the identity and the person's subject there (default: this
    /// operator, with a new subject).
    #[arg(long)]
    pub upstream_issuer: Option<String>,
    #[arg(long, requires = "upstream_issuer")]
    pub upstream_subject: Option<String>,
}

#[derive(Debug, Args)]
pub struct MandateAdd {
    #[arg(long)]
    pub organisation: String,
    #[arg(long)]
    pub usager: String,
    #[arg(long)]
    pub aidant: String,
    /// A démarche the mandate covers; repeat for several.
    #[arg(long = "demarche", required = true, value_parser = demarche_values())]
    pub demarches: Vec<String>,
    /// How long the mandate lasts from now.
    #[arg(long, default_value = "long", value_parser = duration_values(), conflicts_with = "expires_at")]
    pub duration: String,
    /// A fixed expiry (RFC 3339), instead of a standard duration.
    #[arg(long)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuthorisationCommand {
    /// Revoke one démarche of a mandate, leaving the others (says so if it was already revoked).
    Revoke {
        authorisation_id: String,
        #[arg(long)]
        aidant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// Recompute a mandate's attestation hash from the stored data and compare it with the one
    /// the journal recorded at its creation: exit 0 when they match, 3 naming each field that
    /// differs, 2 when the mandate is unknown.
    Verify { mandate_id: String },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Create (once) the demo organisation, helper, usagers, mandates and client; print them
    /// as JSON, with the ids the other commands take. Only in demo mode (`demo.enabled`) with an
    /// issuer on this machine (127.0.0.1, localhost): the demo secrets are published.
    Seed,
    /// Print the demo helper's current one-time code (from the fixed demo TOTP secret), as an
    /// authenticator app enrolled with it would show.
    Code {
        /// The demo manager's code instead of the demo helper's.
        #[arg(long)]
        manager: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Register an organisation; prints it as JSON. A SIRET already registered is refused,
    /// naming the organisation that has it. The region follows from the department.
    Add(OrgAdd),
    /// List organisations, by name.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one organisation (by id or SIRET): type, address, department and region, démarches.
    Show {
        organisation: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Change an organisation (by id or SIRET); only the options given change. Prints it as
    /// JSON; the journal records which fields changed.
    Update(OrgUpdate),
}

/// The organisation types, as `--type` takes them.
fn organisation_type_values() -> PossibleValuesParser {
    PossibleValuesParser::new(OrganisationType::ALL.iter().map(|t| PossibleValue::new(t.key()).help(t.label_en())))
}

fn parse_siret(raw: &str) -> Result<Siret, String> {
    Siret::parse(raw).map_err(|e| e.to_string())
}

fn parse_department(raw: &str) -> Result<Department, String> {
    Department::parse(raw).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct OrgAdd {
    #[arg(long)]
    pub name: String,
    /// 14 digits; the checksum is verified.
    #[arg(long, value_parser = parse_siret)]
    pub siret: Siret,
    #[arg(long)]
    pub address: String,
    #[arg(long)]
    pub postcode: String,
    #[arg(long)]
    pub city: String,
    #[arg(long = "type", value_parser = organisation_type_values())]
    pub organisation_type: String,
    /// INSEE department code: 01 to 19, 21 to 95, 2A, 2B, 971 to 976.
    #[arg(long, value_parser = parse_department)]
    pub department: Department,
    /// The démarches its helpers may offer: `--demarches social,logement` or `--demarche`
    /// repeated (default: all).
    #[arg(long = "demarches", visible_alias = "demarche", value_delimiter = ',', value_parser = demarche_values())]
    pub demarches: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OrgUpdate {
    /// The organisation's id or SIRET (the SIRET itself does not change).
    pub organisation: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub postcode: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long = "type", value_parser = organisation_type_values())]
    pub organisation_type: Option<String>,
    #[arg(long, value_parser = parse_department)]
    pub department: Option<Department>,
    /// The démarches offered from now on (the whole list).
    #[arg(long = "demarches", visible_alias = "demarche", value_delimiter = ',', value_parser = demarche_values())]
    pub demarches: Option<Vec<String>>,
}

#[derive(Debug, Subcommand)]
pub enum AidantCommand {
    /// Create a helper account; prints its id, and the TOTP enrolment URI to scan (or, with
    /// --pending, the one-time enrolment link where the helper chooses both). The helper acts
    /// for usagers once habilitated (`idp aidant habilitation`, then the charter at their first
    /// sign-in).
    Add(AidantAdd),
    /// Record a helper's training day and/or PIX certification (by e-mail or id); prints
    /// whether they are habilitated or what is missing.
    #[command(group = clap::ArgGroup::new("steps").required(true).multiple(true).args(["training", "pix"]))]
    Habilitation {
        aidant: String,
        /// The day the training was attended (YYYY-MM-DD).
        #[arg(long)]
        training: Option<chrono::NaiveDate>,
        /// The day the PIX certification was passed (YYYY-MM-DD).
        #[arg(long)]
        pix: Option<chrono::NaiveDate>,
    },
    /// Show a helper (by e-mail or id): organisations and habilitation ("habilitated", or what
    /// is missing).
    Show {
        aidant: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Import cards from a CSV file of `serial,secret` lines (header optional); nothing is
    /// imported if a line is bad.
    Import { file: std::path::PathBuf },
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
    /// No password nor second factor: print a one-time enrolment link (72 hours) where the
    /// helper chooses a password and enrols an authenticator app.
    #[arg(long, conflicts_with_all = ["password_stdin", "role", "phone"])]
    pub pending: bool,
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
    /// List entries, newest first: filtered by organisation, helper, usager, action and dates,
    /// a page at a time, as text, JSON or CSV.
    List(crate::admin::journal::JournalList),
    /// Sign a checkpoint of the journal now (none when nothing was appended since the last).
    Checkpoint,
    /// Write a bundle anyone can check offline (JSON Lines on standard output), after signing
    /// a checkpoint.
    Export(crate::admin::journal_bundle::JournalExport),
    /// Check a bundle with no database: exit 0 intact, 3 naming the first bad line, 2 unreadable.
    VerifyBundle(crate::admin::journal_bundle::VerifyBundle),
}

/// What a command ended with, for the process exit code (see [`exit`]).
pub enum Outcome {
    Success,
    JournalBroken,
    /// The stored mandate no longer hashes to its recorded attestation.
    AttestationDiffers,
    /// The command named something that does not exist (said on standard error).
    UsageError,
}

fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::open_and_migrate(&settings.database.url, settings.database.max_connections)
        .with_context(|| format!("database {}", redact_url(&settings.database.url)))
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    mandate_store::error::redact_credentials(url)
}

fn parse_demarches(keys: &[String]) -> Result<Vec<Demarche>, StoreError> {
    keys.iter().map(|d| d.parse::<Demarche>()).collect()
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
            let new = NewOrganisation {
                name: args.name,
                siret: args.siret,
                address: args.address,
                postcode: args.postcode,
                city: args.city,
                organisation_type: args.organisation_type.parse()?,
                department: args.department,
                demarches: if args.demarches.is_empty() {
                    Demarche::ALL.to_vec()
                } else {
                    parse_demarches(&args.demarches)?
                },
            };
            admin_organisations::add(&open_store(settings)?, new)?;
        }
        Command::Org(OrgCommand::List { format }) => admin_organisations::list(&open_store(settings)?, format)?,
        Command::Org(OrgCommand::Show { organisation, format }) => {
            admin_organisations::show(&open_store(settings)?, &organisation, format)?
        }
        Command::Org(OrgCommand::Update(args)) => {
            let update = OrganisationUpdate {
                name: args.name,
                address: args.address,
                postcode: args.postcode,
                city: args.city,
                organisation_type: args.organisation_type.map(|t| t.parse()).transpose()?,
                department: args.department,
                demarches: args.demarches.map(|d| parse_demarches(&d)).transpose()?,
            };
            admin_organisations::update(&open_store(settings)?, &args.organisation, update)?;
        }
        Command::Aidant(AidantCommand::Habilitation { aidant, training, pix }) => {
            crate::admin::habilitation::record(&open_store(settings)?, &aidant, training, pix)?
        }
        Command::Aidant(AidantCommand::Show { aidant, format }) => {
            crate::admin::habilitation::show(&open_store(settings)?, &aidant, format)?
        }
        Command::Aidant(AidantCommand::Add(args)) if args.pending => add_pending_aidant(args, settings)?,
        Command::Aidant(AidantCommand::Add(args)) => add_aidant(args, settings)?,
        Command::Card(CardCommand::Import { file }) => {
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let store = open_store(settings)?;
            let keys = crate::sealing_keys::prepare(settings, &store)?;
            let imported = crate::admin::cards::import(&mut *store.conn()?, &*keys, std::io::BufReader::new(input))?;
            print_json(&json!({ "imported": imported }));
        }
        Command::Journal(JournalCommand::List(args)) => crate::admin::journal::list(&open_store(settings)?, args)?,
        Command::Journal(JournalCommand::Checkpoint) => crate::admin::journal_bundle::checkpoint(settings)?,
        Command::Journal(JournalCommand::Export(args)) => crate::admin::journal_bundle::export(settings, args)?,
        Command::Journal(JournalCommand::VerifyBundle(args)) => return Ok(verify_bundle(&args)),
        Command::Maintenance(args) => crate::admin::maintenance::run(&open_store(settings)?, settings, args)?,
        Command::Client(command) => client_command(command, settings)?,
        Command::Mandate(MandateCommand::Add(args)) => {
            let demarches = args.demarches.iter().map(|d| d.parse::<Demarche>()).collect::<Result<Vec<_>, _>>()?;
            let (duration, custom_expires_at) = match &args.expires_at {
                Some(raw) => {
                    let at =
                        chrono::DateTime::parse_from_rfc3339(raw).with_context(|| format!("--expires-at {raw:?}"))?;
                    (DurationKind::Custom, Some(at.naive_utc()))
                }
                None => (args.duration.parse()?, None),
            };
            let store = open_store(settings)?;
            let created = mandates::create(
                &mut *store.conn()?,
                NewMandate {
                    organisation_id: args.organisation,
                    usager_id: args.usager,
                    aidant_id: args.aidant,
                    demarches,
                    duration,
                    custom_expires_at,
                    is_remote: false,
                    consent_proof: None,
                },
                now(),
            )?;
            for replaced in &created.replaced {
                eprintln!(
                    "replaced authorisation {} ({}) of mandate {}: revoked",
                    replaced.id, replaced.demarche, replaced.mandate_id
                );
            }
            print_json(&serde_json::to_value(created)?);
        }
        Command::Usager(UsagerCommand::Add(args)) => records::add_usager(
            &open_store(settings)?,
            mandate_store::usagers::NewUsager {
                given_name: args.given_name,
                family_name: args.family_name,
                birthdate: args.birthdate,
                gender: args.gender,
                birthplace: args.birthplace,
                birthcountry: args.birthcountry,
                email: args.email,
                upstream_issuer: args.upstream_issuer.unwrap_or_default(),
                upstream_subject: args.upstream_subject.unwrap_or_default(),
                ..Default::default()
            },
        )?,
        Command::Usager(UsagerCommand::List { search, format }) => {
            records::list_usagers(&open_store(settings)?, search.as_deref(), format)?
        }
        Command::Usager(UsagerCommand::Show { usager_id, format }) => {
            records::show_usager(&open_store(settings)?, &usager_id, format)?
        }
        Command::Usager(UsagerCommand::Erase { usager_id }) => return erase_usager(&usager_id, settings),
        Command::Mandate(MandateCommand::List { organisation, usager, format }) => {
            let store = open_store(settings)?;
            records::list_mandates(&store, organisation.as_deref(), usager.as_deref(), format)?;
        }
        Command::Mandate(MandateCommand::Show { mandate_id, format }) => {
            records::show_mandate(&open_store(settings)?, &mandate_id, format)?;
        }
        Command::Mandate(MandateCommand::Renew { mandate_id, aidant, demarches, duration }) => {
            let demarches = demarches.iter().map(|d| d.parse::<Demarche>()).collect::<Result<Vec<_>, _>>()?;
            let store = open_store(settings)?;
            let mut conn = store.conn()?;
            let demarches = if demarches.is_empty() {
                mandates::find(&mut conn, &mandate_id)?.renewable_demarches()
            } else {
                demarches
            };
            let renewed = mandates::renew(&mut conn, &mandate_id, &aidant, demarches, duration.parse()?, now())?;
            eprintln!("mandate {mandate_id} renewed by mandate {}", renewed.mandate.id);
            print_json(&serde_json::to_value(renewed)?);
        }
        Command::Mandate(MandateCommand::Revoke { mandate_id, aidant }) => {
            let store = open_store(settings)?;
            match mandates::revoke(&mut *store.conn()?, &mandate_id, &aidant, now())? {
                Revocation::Revoked => eprintln!("mandate {mandate_id} revoked"),
                Revocation::AlreadyRevoked => eprintln!("mandate {mandate_id} already revoked: nothing changed"),
            }
        }
        Command::Authorisation(AuthorisationCommand::Revoke { authorisation_id, aidant }) => {
            let store = open_store(settings)?;
            match mandates::revoke_authorisation(&mut *store.conn()?, &authorisation_id, &aidant, now())? {
                Revocation::Revoked => eprintln!("authorisation {authorisation_id} revoked"),
                Revocation::AlreadyRevoked => {
                    eprintln!("authorisation {authorisation_id} already revoked: nothing changed")
                }
            }
        }
        Command::Demo(DemoCommand::Seed) => {
            if let Some(refusal) = crate::admin::demo::seed_refusal(settings.demo.enabled, &settings.issuer) {
                anyhow::bail!(refusal);
            }
            let store = open_store(settings)?;
            let keys = crate::sealing_keys::prepare(settings, &store)?;
            print_json(&crate::admin::demo::seed(&mut *store.conn()?, &*keys, &settings.issuer)?);
        }
        Command::Demo(DemoCommand::Code { manager: false }) => println!("{}", crate::admin::demo::current_code()?),
        Command::Demo(DemoCommand::Code { manager: true }) => {
            println!("{}", crate::admin::demo::current_manager_code()?)
        }
        Command::Keys(command) => crate::keys::cli::run(command, settings)?,
        Command::Secrets(command) => crate::admin::secrets::run(command, settings, &open_store(settings)?)?,
        Command::Attestation(AttestationCommand::Verify { mandate_id }) => {
            return verify_attestation(&mandate_id, settings);
        }
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

/// `idp journal verify-bundle`, which reads no configuration: `main` runs it before loading any.
pub fn verify_bundle(args: &crate::admin::journal_bundle::VerifyBundle) -> Outcome {
    use crate::admin::journal_bundle::Verdict;
    match crate::admin::journal_bundle::verify_bundle(args) {
        Verdict::Intact => Outcome::Success,
        Verdict::Broken => Outcome::JournalBroken,
        Verdict::Unreadable => Outcome::UsageError,
    }
}

/// `idp usager erase`: the personal data goes, the ids and the journal stay.
fn erase_usager(usager_id: &str, settings: &Settings) -> anyhow::Result<Outcome> {
    use mandate_store::erasure::{self, Erasure};
    let store = open_store(settings)?;
    match erasure::erase_usager(&mut *store.conn()?, usager_id, now()) {
        Err(StoreError::NotFound("usager")) => {
            eprintln!("idp: usager not found: no usager has the id {usager_id:?} (idp usager list prints the ids)");
            Ok(Outcome::UsageError)
        }
        Err(e) => Err(e.into()),
        Ok(Erasure::Erased { mandates_revoked }) => {
            eprintln!("usager {usager_id} erased; {} live mandate(s) revoked", mandates_revoked.len());
            for mandate_id in mandates_revoked {
                println!("{mandate_id}");
            }
            Ok(Outcome::Success)
        }
        Ok(Erasure::AlreadyErased { erased_at }) => {
            eprintln!(
                "usager {usager_id} already erased on {}: nothing changed",
                erased_at.format("%Y-%m-%d %H:%M UTC")
            );
            Ok(Outcome::Success)
        }
    }
}

/// `idp attestation verify`: the stored data against the hash journalled at creation.
fn verify_attestation(mandate_id: &str, settings: &Settings) -> anyhow::Result<Outcome> {
    let store = open_store(settings)?;
    let verification = match attestation::verify(&mut *store.conn()?, mandate_id) {
        // Only the mandate itself missing is the caller's mistake; a missing party is a failure.
        Err(StoreError::NotFound("mandate")) => {
            eprintln!("idp: mandate not found: no mandate has the id {mandate_id:?} (idp mandate add prints the ids)");
            return Ok(Outcome::UsageError);
        }
        other => other?,
    };
    match verification {
        Verification::Matches { attestation_sha256, journal_seq } => {
            println!("attestation intact: sha256 {attestation_sha256} (journal entry {journal_seq})");
            Ok(Outcome::Success)
        }
        Verification::Differs { recorded, recomputed, fields } => {
            eprintln!("attestation DIFFERS for mandate {mandate_id}: journal sha256 {recorded}, stored data sha256 {recomputed}");
            if fields.is_empty() {
                eprintln!("no single field differs: the salt, the template version or the journal entry changed");
            }
            for field in &fields {
                eprintln!("changed since the mandate was signed: {field}");
            }
            Ok(Outcome::AttestationDiffers)
        }
        Verification::NotRecorded => {
            bail!("mandate {mandate_id} has no attestation recorded in the journal: nothing to compare")
        }
    }
}

fn client_command(command: ClientCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings)?;
    let mut conn = store.conn()?;
    match command {
        ClientCommand::Add(args) => {
            let args = *args;
            let jwks = match &args.jwks_file {
                Some(path) => {
                    Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
                }
                None => None,
            };
            let demarches = args.demarches.iter().map(|d| d.parse::<Demarche>()).collect::<Result<Vec<_>, _>>()?;
            let (client, secret) = crate::admin::clients::register(
                &mut conn,
                crate::admin::clients::ClientRegistration {
                    client_id: args.client_id,
                    name: args.name,
                    redirect_uris: args.redirect_uris,
                    post_logout_redirect_uris: args.post_logout_redirect_uris,
                    auth_method: args.auth_method,
                    jwks,
                    jwks_uri: args.jwks_uri,
                    id_token_alg: args.id_token_alg,
                    userinfo_alg: args.userinfo_alg,
                    subject_type: args.subject_type,
                    sector_identifier: args.sector_identifier,
                    demarches,
                    backchannel_logout_uri: args.backchannel_logout_uri,
                    secret: None,
                },
            )?;
            print_json(&crate::admin::clients::describe(&client, secret.as_deref()));
        }
        ClientCommand::List => {
            let all = mandate_store::clients::list(&mut conn)?;
            print_json(&serde_json::Value::Array(
                all.iter().map(|c| crate::admin::clients::describe(c, None)).collect(),
            ));
        }
        ClientCommand::Remove { client_id } => {
            mandate_store::clients::remove(&mut conn, &client_id)?;
            eprintln!("client {client_id} removed");
        }
    }
    Ok(())
}

fn add_pending_aidant(args: AidantAdd, settings: &Settings) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?;
    let [organisation_id] = <[String; 1]>::try_from(args.organisations)
        .map_err(|_| anyhow::anyhow!("a pending helper joins one organisation"))?;
    let store = open_store(settings)?;
    let mut conn = store.conn()?;
    let aidant = aidants::create_pending(
        &mut conn,
        aidants::NewPendingAidant {
            email,
            given_name: args.given_name,
            family_name: args.family_name,
            profession: args.profession,
            organisation_id: organisation_id.clone(),
        },
        None,
        now(),
    )?;
    let link = mandate_store::enrolment::issue(&mut conn, &aidant.id, None, Some(&organisation_id), now())?;
    print_json(&json!({
        "id": aidant.id,
        "email": aidant.email,
        "organisation_id": organisation_id,
        "enrolment_link": format!("{}/inscription/{}", settings.issuer.trim_end_matches('/'), link.token),
        "expires_at": link.expires_at.and_utc().to_rfc3339(),
    }));
    Ok(())
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
    let keys = crate::sealing_keys::prepare(settings, &store)?;
    let aidant = aidants::create(
        &mut *store.conn()?,
        &*keys,
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
