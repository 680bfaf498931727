//! Settings: an optional TOML file, then `IDP__SECTION__KEY` environment variables.
//! Every value is checked at start; a bad one stops start with a message naming its key, and so
//! does a key that names no setting (a typo would otherwise leave the default silently in force).
//! No message ever shows a password (database URLs are redacted).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use config::Source;
use mandate_store::error::redact_credentials;
use serde::Deserialize;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {}", redact_credentials(&.0.to_string()))]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {}", redact_credentials(reason))]
    Invalid { key: &'static str, reason: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Unknown(Vec<UnknownSetting>),
}

/// A key in the file, or an `IDP_` environment variable, that names no setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownSetting {
    FileKey { file: String, key: String, suggestion: Option<String> },
    Variable { name: String, suggestion: Option<String> },
}

impl std::fmt::Display for UnknownSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnknownSetting::FileKey { file, key, suggestion } => {
                write!(f, "configuration file {file}: unknown key `{key}`")?;
                if let Some(known) = suggestion {
                    write!(f, "; did you mean `{known}`?")?;
                }
                Ok(())
            }
            UnknownSetting::Variable { name, suggestion } => {
                write!(f, "environment variable {name} names no setting (settings are IDP__SECTION__KEY)")?;
                if let Some(known) = suggestion {
                    write!(f, "; did you mean {}?", variable_name(known))?;
                }
                Ok(())
            }
        }
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

/// `IDP_` variables that are not settings but are read elsewhere: the configuration file's
/// path, the conformance runner's and load generator's binary, and the test suite's and load
/// generator's own (`IDP_TEST_…`, `IDP_BENCH_…`).
const OTHER_VARIABLES: [&str; 2] = ["IDP_CONFIG", "IDP_BIN"];
const TOOL_VARIABLES_PREFIXES: [&str; 2] = ["IDP_TEST_", "IDP_BENCH_"];

/// The default port, and the issuer's when neither `issuer` nor `http.bind` is set.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The longest `maintenance.purge_interval_minutes`: a year.
pub const MAX_PURGE_INTERVAL_MINUTES: u64 = 365 * 24 * 60;
/// The embedded database, created and migrated on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/idp.db";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// The public URL of this provider. Behind a reverse proxy this is configuration, never
    /// guessed from request headers; every endpoint URL is derived from it. Unset, it follows
    /// `http.bind` (`http://127.0.0.1:PORT`), so moving the port moves both.
    #[serde(default)]
    pub issuer: String,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub keys: KeySettings,
    pub session: SessionSettings,
    pub login: LoginSettings,
    pub log: LogSettings,
    pub upstream: UpstreamSettings,
    pub demo: DemoSettings,
    pub ui: UiSettings,
    pub metrics: MetricsSettings,
    pub journal: JournalSettings,
    pub retention: RetentionSettings,
    pub maintenance: MaintenanceSettings,
    pub outgoing: OutgoingSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub bind: String,
    /// The reverse proxies in front of this server (addresses or CIDR ranges). Only a request
    /// whose connection comes from one of them has its client's address read from
    /// `client_address_header`; anyone else could write any address there. Empty (the
    /// default): every client is the connection's peer.
    pub trusted_proxies: TrustedProxies,
    /// The header those proxies write the chain of addresses in: `X-Forwarded-For` (the
    /// default) or `Forwarded` (RFC 7239). Only this one is read: a proxy that sets one header
    /// passes the other on as the client sent it.
    pub client_address_header: ClientAddressHeader,
}

/// `http.trusted_proxies`: addresses and CIDR ranges, each parsed at start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// From `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`, `::1`…; empty entries are left out (an
    /// empty `IDP__HTTP__TRUSTED_PROXIES` is an empty list).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let mut ranges = Vec::new();
        for entry in entries.iter().map(|e| e.as_ref().trim()).filter(|e| !e.is_empty()) {
            let range = match IpAddr::from_str(entry) {
                Ok(address) => ipnet::IpNet::from(address),
                Err(_) => ipnet::IpNet::from_str(entry)
                    .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8"))?,
            };
            ranges.push(range.trunc());
        }
        Ok(TrustedProxies(ranges))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is one of the proxies (an IPv4 address seen as IPv6, `::ffff:a.b.c.d`,
    /// is its IPv4 self).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|range| range.contains(&address))
    }
}

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = String;

    fn try_from(entries: Vec<String>) -> Result<TrustedProxies, String> {
        TrustedProxies::parse(&entries)
    }
}

/// `http.client_address_header`: where trusted proxies write the client's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ClientAddressHeader {
    XForwardedFor,
    Forwarded,
}

impl TryFrom<String> for ClientAddressHeader {
    type Error = String;

    fn try_from(name: String) -> Result<ClientAddressHeader, String> {
        match name.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ClientAddressHeader::XForwardedFor),
            "forwarded" => Ok(ClientAddressHeader::Forwarded),
            _ => Err(format!("{name:?} is not a header this server reads: X-Forwarded-For or Forwarded")),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (embedded, the default) or `postgres://…`. Replaced by the contents of
    /// `url_file` when that is set.
    pub url: String,
    /// A file holding the whole URL, read once at start: a PostgreSQL URL carries the database
    /// password, which then stays out of the configuration file and the process environment.
    pub url_file: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeySettings {
    pub dir: PathBuf,
    /// Generate a signing key at start when the folder holds none (the embedded default).
    pub generate_if_missing: bool,
    /// How often the folder is looked at again for keys rotated by another process.
    pub recheck_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    /// After this long without activity the helper must give a TOTP code again.
    pub idle_minutes: i64,
    /// After this long without activity the helper must sign in again (password, then code).
    /// At least `idle_minutes`.
    pub sign_in_after_idle_minutes: i64,
    /// After this long the helper must log in again, whatever the activity.
    pub absolute_hours: i64,
}

/// Limits on sign-in attempts (docs/decisions/0016-sign-in-abuse.md).
#[derive(Debug, Clone, Deserialize)]
pub struct LoginSettings {
    /// Failures at a step for one account from one address before each further attempt from
    /// there waits.
    pub max_failed_attempts: i32,
    /// The longest of those waits.
    pub lockout_minutes: i64,
    /// The first wait; each further failure doubles it, up to `lockout_minutes`.
    pub first_delay_seconds: i64,
    /// Failures at a step for one account from every address together before each further
    /// attempt, from anywhere, waits (looser, so that a stranger elsewhere does not keep the
    /// helper out).
    pub max_failed_attempts_per_account: i32,
    /// Attempts per minute at each step from one address, whatever the accounts; also the
    /// failed client authentications an address may make per minute before it is held back.
    pub attempts_per_address_per_minute: u32,
    /// Password hashes computed at once; 0: one per core.
    pub concurrent_password_checks: usize,
    /// How long a sign-in waits for a hashing slot before it is answered 503.
    pub password_check_wait_ms: u64,
}

impl LoginSettings {
    pub fn delay_rules(&self) -> mandate_store::sign_in_delays::DelayRules {
        use mandate_store::sign_in_delays::{DelayRule, DelayRules};
        let first_delay = chrono::Duration::seconds(self.first_delay_seconds);
        let longest_delay = chrono::Duration::minutes(self.lockout_minutes);
        DelayRules {
            per_source: DelayRule { free_failures: self.max_failed_attempts, first_delay, longest_delay },
            per_account: DelayRule { free_failures: self.max_failed_attempts_per_account, first_delay, longest_delay },
            // A helper's mistypes of last week do not shorten today's free attempts.
            forget_after: chrono::Duration::hours(24),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `json` (default, for log collectors) or `pretty` (for a terminal).
    pub format: String,
    /// A tracing filter such as `info` or `idp=debug,info`.
    pub filter: String,
}

/// The upstream identity provider the usager proves who they are with (FranceConnect in
/// production): this server is its relying party.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamSettings {
    /// The provider's issuer URL (its discovery document is read from
    /// `{issuer}/.well-known/openid-configuration`). Empty: none configured (in demo mode, the
    /// demo upstream provider served by this very server stands in).
    pub issuer: String,
    pub client_id: String,
    /// A file holding the client secret, read once at start (kept out of the configuration
    /// file so that the file can be shared and the secret cannot be logged with it).
    pub client_secret_file: String,
    /// Where the provider sends the usager back. Empty: `{issuer}/espace-aidant/franceconnect/retour`.
    pub redirect_uri: String,
    /// Where the provider sends back a usager signing in to their own space (a redirect URI of
    /// its own, registered beside the other). Empty: `{issuer}/espace-usager/retour`.
    pub usager_space_redirect_uri: String,
    /// Connect and total timeout of each call to the provider.
    pub timeout_seconds: u64,
    /// The eIDAS level asked for (`acr_values`) and required of the ID token's `acr`.
    pub acr_values: String,
    /// FranceConnect's claim-named scopes.
    pub scopes: String,
    /// Read from `client_secret_file` by [`Settings::load`].
    #[serde(skip)]
    pub client_secret: Option<ClientSecret>,
}

/// How long this server waits on the servers it calls, so that one that never answers costs a
/// bounded wait and a clear error, never a request hanging.
#[derive(Debug, Clone, Deserialize)]
pub struct OutgoingSettings {
    /// Connecting to any server this one calls: the upstream provider, the relying parties, this
    /// server itself for the practice service.
    pub connect_timeout_seconds: u64,
    /// A whole call to a relying party (its `jwks_uri`, its back-channel logout URI) and each
    /// call of the practice service. The upstream provider's is `upstream.timeout_seconds`.
    pub timeout_seconds: u64,
}

impl OutgoingSettings {
    pub fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.connect_timeout_seconds)
    }

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds)
    }
}

/// Demo mode: the demo upstream provider under `/demo-upstream`, with fictitious citizens.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    pub enabled: bool,
}

/// Who may read `/metrics`: the scraper holding the bearer token in `token_file`. Empty: nobody
/// (`/metrics` answers 404), since counters of logins and exchanges are not for the public.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    pub token_file: String,
}

/// How the pages look and who answers for them.
#[derive(Debug, Clone, Deserialize)]
pub struct JournalSettings {
    /// How often `idp serve` signs a checkpoint of the journal (when something was appended
    /// since the last one); 0: never (exports still sign one).
    pub checkpoint_interval_seconds: u64,
    /// How often `idp serve` chains the entries that requests queued (decision 0020), in
    /// milliseconds; 0: never (readers of the journal and other servers still chain them).
    pub sequence_interval_ms: u64,
}

/// How long what is no longer needed is kept (docs/decisions/0022-retention-and-purge.md).
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// A usager whose mandates all ended (expired or revoked) this many days ago, with none
    /// live, is erased by the purge.
    pub usager_days: u32,
}

/// What `idp serve` does by itself beside serving requests.
#[derive(Debug, Clone, Deserialize)]
pub struct MaintenanceSettings {
    /// How often `idp serve` runs the purge (`idp maintenance purge`); 0: never (a timer runs
    /// the command instead).
    pub purge_interval_minutes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UiSettings {
    /// `dsfr`: the State design system with the Marianne identity, for State services only (its
    /// terms reserve that identity to them); `neutral`: the same components with system fonts, a
    /// neutral palette and no Marianne, for any other operator.
    pub theme: Theme,
    /// The design system's `dist` folder (`npm ci` installs it), served under
    /// `/static/dsfr/{version}/`. A relative path is read from the working directory.
    pub assets_dir: PathBuf,
    /// Who operates this service, as the legal notice and the personal-data page name it.
    pub operator_name: String,
    /// The host of the service (name and address), for the legal notice.
    pub hosting: String,
    /// The publication director (a person's name or role), for the legal notice.
    pub publication_director: String,
    /// Where people write about accessibility or their personal data.
    pub contact_email: String,
}

/// The look of the pages (`ui.theme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Theme {
    Dsfr,
    Neutral,
}

impl TryFrom<String> for Theme {
    type Error = String;

    fn try_from(name: String) -> Result<Theme, String> {
        match name.as_str() {
            "dsfr" => Ok(Theme::Dsfr),
            "neutral" => Ok(Theme::Neutral),
            other => Err(format!(
                "{other:?} is not a theme: dsfr (the State design system, for State services only) or neutral"
            )),
        }
    }
}

/// The default of `ui.assets_dir`, where `npm ci` puts the design system.
pub const DEFAULT_DSFR_ASSETS_DIR: &str = "node_modules/@gouvfr/dsfr/dist";

/// A client secret: shown as `***` by `Debug`, so that printing the settings never leaks it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> ClientSecret {
        ClientSecret(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// The demo upstream provider's only client: this server, in demo mode. Fixed and public like
/// the other demo values (`idp demo seed`); the provider answers only in demo mode.
pub const DEMO_UPSTREAM_CLIENT_ID: &str = "aidants-idp-demo";
pub const DEMO_UPSTREAM_CLIENT_SECRET: &str = "demo-upstream-secret-for-local-use-only-0123456789";
/// Where the demo upstream provider lives, under the issuer.
pub const DEMO_UPSTREAM_PATH: &str = "/demo-upstream";
/// The upstream login's redirect URI, under the issuer, unless `upstream.redirect_uri` says otherwise.
pub const UPSTREAM_CALLBACK_PATH: &str = "/espace-aidant/franceconnect/retour";
/// The usager space's sign-in redirect URI, under the issuer, unless
/// `upstream.usager_space_redirect_uri` says otherwise.
pub const USAGER_SPACE_CALLBACK_PATH: &str = "/espace-usager/retour";

/// The upstream provider as this server uses it: configured, or the demo one in demo mode.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub redirect_uri: String,
    /// The usager space's own redirect URI.
    pub usager_space_redirect_uri: String,
    pub scopes: String,
    pub acr_values: String,
    /// Of each call, whole (`upstream.timeout_seconds`).
    pub timeout: std::time::Duration,
    /// Of each connection (`outgoing.connect_timeout_seconds`, at most `timeout`).
    pub connect_timeout: std::time::Duration,
    /// The demo upstream provider of this server stands in for FranceConnect.
    pub is_demo: bool,
}

/// Every setting but `issuer` with its default. The list of known keys, against which the file
/// and the environment are checked, is read from here.
fn builder_with_defaults() -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
    config::Config::builder()
        .set_default("http.bind", DEFAULT_BIND)?
        .set_default("http.trusted_proxies", Vec::<String>::new())?
        .set_default("http.client_address_header", "X-Forwarded-For")?
        .set_default("database.url", DEFAULT_DATABASE_URL)?
        .set_default("database.url_file", "")?
        .set_default("database.max_connections", 8)?
        .set_default("keys.dir", "keys")?
        .set_default("keys.generate_if_missing", true)?
        .set_default("keys.recheck_interval_ms", 1000)?
        .set_default("session.idle_minutes", 30)?
        .set_default("session.sign_in_after_idle_minutes", 120)?
        .set_default("session.absolute_hours", 12)?
        .set_default("login.max_failed_attempts", 5)?
        .set_default("login.lockout_minutes", 15)?
        .set_default("login.first_delay_seconds", 30)?
        .set_default("login.max_failed_attempts_per_account", 20)?
        .set_default("login.attempts_per_address_per_minute", 30)?
        .set_default("login.concurrent_password_checks", 0)?
        .set_default("login.password_check_wait_ms", 3000)?
        .set_default("log.format", "json")?
        .set_default("log.filter", "info")?
        .set_default("upstream.issuer", "")?
        .set_default("upstream.client_id", "")?
        .set_default("upstream.client_secret_file", "")?
        .set_default("upstream.redirect_uri", "")?
        .set_default("upstream.usager_space_redirect_uri", "")?
        .set_default("upstream.timeout_seconds", 5)?
        .set_default("upstream.acr_values", "eidas1")?
        .set_default(
            "upstream.scopes",
            "openid given_name family_name birthdate gender birthplace birthcountry email preferred_username",
        )?
        .set_default("demo.enabled", false)?
        .set_default("metrics.token_file", "")?
        .set_default("ui.theme", "dsfr")?
        .set_default("ui.assets_dir", DEFAULT_DSFR_ASSETS_DIR)?
        .set_default("ui.operator_name", "")?
        .set_default("ui.hosting", "")?
        .set_default("ui.publication_director", "")?
        .set_default("ui.contact_email", "")?
        .set_default("journal.checkpoint_interval_seconds", 3600)?
        .set_default("retention.usager_days", 365)?
        .set_default("maintenance.purge_interval_minutes", 24 * 60)?
        .set_default("outgoing.connect_timeout_seconds", 2)?
        .set_default("outgoing.timeout_seconds", 5)?
        .set_default("journal.sequence_interval_ms", 100)
}

/// Every setting's key, dotted (`database.url`).
pub fn known_keys() -> Vec<String> {
    let mut keys = vec!["issuer".to_owned()];
    keys.extend(default_values().into_keys());
    keys.sort();
    keys
}

/// Every setting that has a default, with that default as text (`8`, `true`, `json`, `` for
/// an empty one): what `docs/configuration.md` must show. `issuer` has none of its own: it
/// follows `http.bind` (see [`issuer_for_bind`]).
pub fn default_values() -> std::collections::BTreeMap<String, String> {
    let mut defaults = std::collections::BTreeMap::new();
    if let Ok(map) = builder_with_defaults().and_then(|d| d.build()).and_then(|c| c.collect()) {
        flatten_values("", map, &mut defaults);
    }
    defaults
}

fn flatten_values(
    prefix: &str,
    map: config::Map<String, config::Value>,
    out: &mut std::collections::BTreeMap<String, String>,
) {
    for (name, value) in map {
        let path = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
        match value.kind {
            config::ValueKind::Table(table) => flatten_values(&path, table, out),
            other => {
                out.insert(path, default_text(&other));
            }
        }
    }
}

/// A default as an operator writes it: `8`, `true`, `json`, and a list as TOML writes one
/// (`[]`, `["10.0.0.1"]`).
fn default_text(value: &config::ValueKind) -> String {
    match value {
        config::ValueKind::Nil => String::new(),
        config::ValueKind::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| match &item.kind {
                    config::ValueKind::String(text) => format!("{text:?}"),
                    other => default_text(other),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

fn flatten_keys(prefix: &str, map: config::Map<String, config::Value>, out: &mut Vec<String>) {
    for (name, value) in map {
        let path = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
        match value.kind {
            config::ValueKind::Table(table) => flatten_keys(&path, table, out),
            _ => out.push(path),
        }
    }
}

/// `database.url` -> `IDP__DATABASE__URL`.
pub fn variable_name(key: &str) -> String {
    format!("IDP__{}", key.replace('.', "__").to_uppercase())
}

/// The known key closest to `key`, if one is close enough to be a likely typo.
fn closest<'a>(key: &str, known: &'a [String]) -> Option<&'a String> {
    known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(key, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// The keys in a configuration file that name no setting.
pub fn unknown_file_keys(file: &str, keys_in_file: Vec<String>, known: &[String]) -> Vec<UnknownSetting> {
    keys_in_file
        .into_iter()
        .filter(|key| !known.contains(key))
        .map(|key| UnknownSetting::FileKey { file: file.to_owned(), suggestion: closest(&key, known).cloned(), key })
        .collect()
}

/// The environment variables that look meant for this program but name no setting:
/// `IDP__X__Y` for an unknown `x.y`, and `IDP_…` with one underscore (which is never read as a
/// setting) unless it is one of the variables read elsewhere.
pub fn unknown_variables(names: impl IntoIterator<Item = String>, known: &[String]) -> Vec<UnknownSetting> {
    let mut unknown = Vec::new();
    for name in names {
        let upper = name.to_uppercase();
        let rest = if let Some(rest) = upper.strip_prefix("IDP__") {
            let key = rest.to_lowercase().replace("__", ".");
            if known.contains(&key) {
                continue;
            }
            rest
        } else if let Some(rest) = upper.strip_prefix("IDP_") {
            if OTHER_VARIABLES.contains(&upper.as_str()) || TOOL_VARIABLES_PREFIXES.iter().any(|p| upper.starts_with(p))
            {
                continue;
            }
            rest
        } else {
            continue;
        };
        // `IDP_DATABASE__URL` and `IDP__DATABASE_URL` both mean `database.url`.
        let key = rest.trim_start_matches('_').to_lowercase().replace("__", ".");
        let suggestion = if known.contains(&key) { Some(key.clone()) } else { closest(&key, known).cloned() };
        unknown.push(UnknownSetting::Variable { name, suggestion });
    }
    unknown
}

/// The `IDP__SECTION__KEY` variables as settings.
fn environment() -> config::Environment {
    config::Environment::with_prefix("IDP")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        // `IDP__HTTP__TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`; every other value stays one string.
        .list_separator(",")
        .with_list_parse_key("http.trusted_proxies")
}

/// The issuer when none is set: this machine, on the port the server listens on.
pub fn issuer_for_bind(bind: &str) -> String {
    let address: SocketAddr = bind.parse().unwrap_or_else(|_| DEFAULT_BIND.parse().expect("a valid default"));
    let ip = if address.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { address.ip() };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// A warning when the issuer names this machine but another port than the one the server
/// listens on: discovery and every token would then send clients where nothing answers.
/// (An issuer on another host is a reverse proxy's public URL, whose port is its own.)
pub fn issuer_port_warning(issuer: &Url, listening: SocketAddr) -> Option<String> {
    let names_this_machine = match issuer.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback() || IpAddr::V4(ip) == listening.ip(),
        url::Host::Ipv6(ip) => ip.is_loopback() || IpAddr::V6(ip) == listening.ip(),
    };
    let issuer_port = issuer.port_or_known_default()?;
    (names_this_machine && issuer_port != listening.port()).then(|| {
        format!(
            "the issuer {issuer} names port {issuer_port} but the server listens on {listening}: clients following \
             discovery will find nothing there (leave `issuer` unset to follow `http.bind`, or set both)"
        )
    })
}

/// The secret in the file `path` that the setting `key` names (one line; surrounding
/// whitespace, a trailing newline included, is not part of it), `None` when no file is named.
/// Errors name the setting and the file, never the contents.
fn read_secret_file(key: &'static str, path: &str) -> Result<Option<String>, ConfigError> {
    if path.is_empty() {
        return Ok(None);
    }
    let contents = std::fs::read_to_string(path).map_err(|e| invalid(key, format!("cannot read {path}: {e}")))?;
    let secret = contents.trim();
    if secret.is_empty() {
        return Err(invalid(key, format!("{path} is empty")));
    }
    Ok(Some(secret.to_owned()))
}

/// A warning when the secret file `path` that the setting `key` names may be read or changed by
/// users other than its owner, as SSH says of a private key. Not a refusal: a container's secret
/// mount (Docker's 0444, Kubernetes' default 0644) is shared with no other user, and refusing it
/// would stop a sound deployment (`docs/decisions/0025-secrets-at-rest.md`).
pub fn secret_file_warning(key: &str, path: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    if path.is_empty() {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.mode() & 0o7777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "{key}: {path} (mode {mode:04o}) may be read by users other than its owner: make it readable by the \
             server's user only (chmod 600), unless a container's secret mount isolates it"
        )
    })
}

/// Checked values derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub issuer: Url,
    pub bind: SocketAddr,
}

impl Settings {
    /// Loads from `file` (required if given explicitly, else `idp.toml` if present) and the
    /// environment, refusing keys and `IDP_` variables that name no setting.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let (file_source, file_name) = match file {
            Some(path) => (config::File::from(path).required(true), path.display().to_string()),
            None => (config::File::with_name("idp.toml").required(false), "idp.toml".to_owned()),
        };
        let known = known_keys();
        let mut in_file = Vec::new();
        flatten_keys("", file_source.collect()?, &mut in_file);
        let mut unknown = unknown_file_keys(&file_name, in_file, &known);
        let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
        unknown.extend(unknown_variables(names, &known));
        if !unknown.is_empty() {
            return Err(ConfigError::Unknown(unknown));
        }
        let environment = environment();
        // What the operator set, defaults aside: some settings follow others unless set.
        let explicit =
            config::Config::builder().add_source(file_source.clone()).add_source(environment.clone()).build()?;
        let config = builder_with_defaults()?.add_source(file_source).add_source(environment).build()?;
        let mut settings: Settings = config.try_deserialize()?;
        if explicit.get_string("issuer").is_err() {
            settings.issuer = issuer_for_bind(&settings.http.bind);
        }
        settings.read_secret_files(explicit.get_string("database.url").is_ok())?;
        settings.check()?;
        Ok(settings)
    }

    /// Reads the secrets kept in files (`…_file` settings). `database.url` may be given either
    /// way, not both: `url_set` says whether it was set in the file or the environment.
    fn read_secret_files(&mut self, url_set: bool) -> Result<(), ConfigError> {
        if let Some(url) = read_secret_file("database.url_file", &self.database.url_file)? {
            if url_set {
                return Err(invalid(
                    "database.url_file",
                    "database.url is set too: give the database URL one way only (the file, for a URL with a password)",
                ));
            }
            self.database.url = url;
        }
        self.upstream.client_secret =
            read_secret_file("upstream.client_secret_file", &self.upstream.client_secret_file)?.map(ClientSecret::new);
        Ok(())
    }

    /// The secret files (`…_file` settings) others may read: warned about at start.
    pub fn secret_file_warnings(&self) -> Vec<String> {
        [
            ("database.url_file", &self.database.url_file),
            ("upstream.client_secret_file", &self.upstream.client_secret_file),
            ("metrics.token_file", &self.metrics.token_file),
        ]
        .into_iter()
        .filter_map(|(key, path)| secret_file_warning(key, path))
        .collect()
    }

    /// Validates every value and returns the parsed ones.
    pub fn check(&self) -> Result<Checked, ConfigError> {
        let issuer =
            Url::parse(&self.issuer).map_err(|e| invalid("issuer", format!("{:?} is not a URL: {e}", self.issuer)))?;
        if issuer.scheme() != "https" && issuer.scheme() != "http" {
            return Err(invalid("issuer", "must be an http(s) URL"));
        }
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(invalid("issuer", "must have no query and no fragment (OpenID Connect Discovery §3)"));
        }
        if self.issuer.ends_with('/') {
            return Err(invalid("issuer", "must not end with '/' (tokens carry it verbatim)"));
        }
        let bind: SocketAddr = self.http.bind.parse().map_err(|_| {
            invalid("http.bind", format!("{:?} is not an address such as 127.0.0.1:8080", self.http.bind))
        })?;
        mandate_store::db::DatabaseTarget::parse(&self.database.url)
            .map_err(|e| invalid("database.url", e.to_string()))?;
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if self.session.idle_minutes <= 0 {
            return Err(invalid("session.idle_minutes", "must be positive"));
        }
        if self.session.sign_in_after_idle_minutes < self.session.idle_minutes {
            return Err(invalid(
                "session.sign_in_after_idle_minutes",
                format!(
                    "must be at least session.idle_minutes ({}): the one-time code is asked again before a full sign-in",
                    self.session.idle_minutes
                ),
            ));
        }
        if self.session.absolute_hours <= 0 {
            return Err(invalid("session.absolute_hours", "must be positive"));
        }
        if self.login.max_failed_attempts <= 0 {
            return Err(invalid("login.max_failed_attempts", "must be positive"));
        }
        if self.login.lockout_minutes <= 0 {
            return Err(invalid("login.lockout_minutes", "must be positive"));
        }
        if self.login.first_delay_seconds <= 0 {
            return Err(invalid("login.first_delay_seconds", "must be positive"));
        }
        if self.login.first_delay_seconds > self.login.lockout_minutes * 60 {
            return Err(invalid(
                "login.first_delay_seconds",
                "must be at most login.lockout_minutes, the longest wait",
            ));
        }
        if self.login.max_failed_attempts_per_account < self.login.max_failed_attempts {
            return Err(invalid(
                "login.max_failed_attempts_per_account",
                format!("must be at least login.max_failed_attempts ({})", self.login.max_failed_attempts),
            ));
        }
        if self.login.attempts_per_address_per_minute == 0 {
            return Err(invalid("login.attempts_per_address_per_minute", "must be at least 1"));
        }
        if self.retention.usager_days == 0 {
            return Err(invalid(
                "retention.usager_days",
                "must be at least 1: a usager is erased that many days after their last mandate ended",
            ));
        }
        if self.maintenance.purge_interval_minutes > MAX_PURGE_INTERVAL_MINUTES {
            return Err(invalid(
                "maintenance.purge_interval_minutes",
                format!("at most {MAX_PURGE_INTERVAL_MINUTES} (one year); 0 turns the purge off"),
            ));
        }
        if self.keys.recheck_interval_ms < 100 {
            return Err(invalid(
                "keys.recheck_interval_ms",
                "must be at least 100 (the folder is read again at most this often)",
            ));
        }
        if self.log.format != "json" && self.log.format != "pretty" {
            return Err(invalid("log.format", "json or pretty"));
        }
        self.check_upstream()?;
        if self.outgoing.connect_timeout_seconds == 0 {
            return Err(invalid("outgoing.connect_timeout_seconds", "must be at least 1"));
        }
        if self.outgoing.timeout_seconds < self.outgoing.connect_timeout_seconds {
            return Err(invalid(
                "outgoing.timeout_seconds",
                format!(
                    "must be at least outgoing.connect_timeout_seconds ({}): the whole call includes connecting",
                    self.outgoing.connect_timeout_seconds
                ),
            ));
        }
        if !self.ui.contact_email.is_empty() && mandate_store::Email::parse(&self.ui.contact_email).is_err() {
            return Err(invalid("ui.contact_email", format!("{:?} is not an email address", self.ui.contact_email)));
        }
        Ok(Checked { issuer, bind })
    }

    fn check_upstream(&self) -> Result<(), ConfigError> {
        let u = &self.upstream;
        if u.timeout_seconds == 0 {
            return Err(invalid("upstream.timeout_seconds", "must be at least 1"));
        }
        if !u.scopes.split_whitespace().any(|s| s == "openid") {
            return Err(invalid("upstream.scopes", "must contain openid (OpenID Connect Core §3.1.2.1)"));
        }
        if !u.redirect_uri.is_empty() {
            let uri = Url::parse(&u.redirect_uri)
                .map_err(|e| invalid("upstream.redirect_uri", format!("{:?} is not a URL: {e}", u.redirect_uri)))?;
            if uri.fragment().is_some() {
                return Err(invalid("upstream.redirect_uri", "must have no fragment (RFC 6749 §3.1.2)"));
            }
        }
        if !u.usager_space_redirect_uri.is_empty() {
            let key = "upstream.usager_space_redirect_uri";
            let uri = Url::parse(&u.usager_space_redirect_uri)
                .map_err(|e| invalid(key, format!("{:?} is not a URL: {e}", u.usager_space_redirect_uri)))?;
            if uri.fragment().is_some() {
                return Err(invalid(key, "must have no fragment (RFC 6749 §3.1.2)"));
            }
        }
        if u.issuer.is_empty() {
            return Ok(());
        }
        let issuer = Url::parse(&u.issuer)
            .map_err(|e| invalid("upstream.issuer", format!("{:?} is not a URL: {e}", u.issuer)))?;
        if issuer.scheme() != "https" && issuer.scheme() != "http" {
            return Err(invalid("upstream.issuer", "must be an http(s) URL"));
        }
        if issuer.query().is_some() || issuer.fragment().is_some() || u.issuer.ends_with('/') {
            return Err(invalid(
                "upstream.issuer",
                "must have no query, no fragment and no trailing '/' (it is compared verbatim with the tokens' iss)",
            ));
        }
        if u.client_id.trim().is_empty() {
            return Err(invalid("upstream.client_id", "required when upstream.issuer is set"));
        }
        if u.client_secret.is_none() {
            return Err(invalid("upstream.client_secret_file", "required when upstream.issuer is set"));
        }
        Ok(())
    }

    /// The upstream provider to send usagers to: `[upstream]` when its issuer is set, else the
    /// demo upstream provider of this server in demo mode, else none.
    pub fn upstream_client(&self) -> Option<UpstreamClient> {
        let u = &self.upstream;
        let redirect_uri =
            if u.redirect_uri.is_empty() { self.url(UPSTREAM_CALLBACK_PATH) } else { u.redirect_uri.clone() };
        let usager_space_redirect_uri = if u.usager_space_redirect_uri.is_empty() {
            self.url(USAGER_SPACE_CALLBACK_PATH)
        } else {
            u.usager_space_redirect_uri.clone()
        };
        let timeout = std::time::Duration::from_secs(u.timeout_seconds);
        let connect_timeout = self.outgoing.connect_timeout().min(timeout);
        let (issuer, client_id, client_secret, is_demo) = if !u.issuer.is_empty() {
            (u.issuer.clone(), u.client_id.clone(), u.client_secret.clone()?, false)
        } else if self.demo.enabled {
            (
                self.url(DEMO_UPSTREAM_PATH),
                DEMO_UPSTREAM_CLIENT_ID.to_owned(),
                ClientSecret::new(DEMO_UPSTREAM_CLIENT_SECRET),
                true,
            )
        } else {
            return None;
        };
        Some(UpstreamClient {
            issuer,
            client_id,
            client_secret,
            redirect_uri,
            usager_space_redirect_uri,
            scopes: u.scopes.clone(),
            acr_values: u.acr_values.clone(),
            timeout,
            connect_timeout,
            is_demo,
        })
    }

    /// Whether cookies must be `Secure`: whenever the public URL is https.
    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// `issuer` + `path`, for every endpoint URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings::load(Some(Path::new("/dev/null/none"))).err();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idp.toml");
        std::fs::write(&file, "").unwrap();
        Settings::load(Some(&file)).unwrap()
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = defaults();
        assert_eq!(s.database.url, "sqlite://data/idp.db");
        assert_eq!(s.check().unwrap().bind.port(), 8080);
        assert!(!s.issuer_is_https());
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut s = defaults();
        s.http.bind = "nonsense".into();
        assert!(s.check().unwrap_err().to_string().contains("`http.bind`"));
        let mut s = defaults();
        s.issuer = "https://idp.example.fr/?x=1".into();
        assert!(s.check().unwrap_err().to_string().contains("`issuer`"));
        let mut s = defaults();
        s.database.url = "idp.db".into();
        assert!(s.check().unwrap_err().to_string().contains("`database.url`"));
    }

    fn load_file(contents: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idp.toml");
        std::fs::write(&file, contents).unwrap();
        Settings::load(Some(&file))
    }

    #[test]
    fn signing_in_again_after_idling_comes_no_sooner_than_the_code() {
        let s = defaults();
        assert_eq!((s.session.idle_minutes, s.session.sign_in_after_idle_minutes), (30, 120));
        let error = load_file("[session]\nidle_minutes = 45\nsign_in_after_idle_minutes = 40\n").unwrap_err();
        let error = error.to_string();
        assert!(error.contains("`session.sign_in_after_idle_minutes`") && error.contains("(45)"), "{error}");
        let s = load_file("[session]\nidle_minutes = 45\nsign_in_after_idle_minutes = 45\n").unwrap();
        assert_eq!(s.session.sign_in_after_idle_minutes, 45);
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_refused_with_the_closest_one_and_no_secret() {
        let error = load_file("[databse]\nurl = \"postgres://idp:s3cret@db/idp\"\n").unwrap_err().to_string();
        assert!(error.contains("unknown key `databse.url`; did you mean `database.url`?"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        let error = load_file("[database]\nulr = \"sqlite://x.db\"\n").unwrap_err().to_string();
        assert!(error.contains("`database.ulr`; did you mean `database.url`?"), "{error}");
        let error = load_file("[database]\nurl = \"postgress://idp:s3cret@db/idp\"\n").unwrap_err().to_string();
        assert!(error.contains("`database.url`") && error.contains("postgress://idp:***@db/idp"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn unknown_and_single_underscore_variables_are_named_with_the_meant_one() {
        let known = known_keys();
        let names = [
            "IDP__DATABASE__ULR",
            "IDP_DATABASE__URL",
            "IDP__LOG__FORMAT",
            "IDP_CONFIG",
            "IDP_BIN",
            "IDP_TEST_POSTGRES_URL",
            "IDP_BENCH_POSTGRES_URL",
            "PATH",
            "IDPX",
        ];
        let unknown = unknown_variables(names.map(String::from), &known);
        let messages: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("environment variable IDP__DATABASE__ULR names no setting"), "{messages:?}");
        assert!(messages[0].ends_with("did you mean IDP__DATABASE__URL?"), "{messages:?}");
        assert!(messages[1].starts_with("environment variable IDP_DATABASE__URL "), "{messages:?}");
        assert!(messages[1].ends_with("did you mean IDP__DATABASE__URL?"), "{messages:?}");
    }

    #[test]
    fn the_issuer_follows_the_listening_port_unless_set() {
        let s = load_file("[http]\nbind = \"127.0.0.1:8090\"\n").unwrap();
        assert_eq!(s.issuer, "http://127.0.0.1:8090");
        let s = load_file("[http]\nbind = \"0.0.0.0:9000\"\n").unwrap();
        assert_eq!(s.issuer, "http://127.0.0.1:9000", "a wildcard address is reached on loopback");
        assert_eq!(issuer_for_bind("[::1]:8090"), "http://[::1]:8090");
        let s = load_file("issuer = \"https://idp.example.fr\"\n[http]\nbind = \"127.0.0.1:8090\"\n").unwrap();
        assert_eq!(s.issuer, "https://idp.example.fr");
        assert_eq!(defaults().issuer, "http://127.0.0.1:8080");
    }

    #[test]
    fn the_upstream_is_configured_or_the_demo_one_or_none() {
        let s = defaults();
        assert!(s.upstream_client().is_none(), "no upstream and no demo mode");
        let demo = load_file("[demo]\nenabled = true\n").unwrap();
        let upstream = demo.upstream_client().expect("the demo upstream");
        assert_eq!(upstream.issuer, "http://127.0.0.1:8080/demo-upstream");
        assert_eq!(upstream.redirect_uri, "http://127.0.0.1:8080/espace-aidant/franceconnect/retour");
        assert_eq!(upstream.usager_space_redirect_uri, "http://127.0.0.1:8080/espace-usager/retour");
        assert_eq!(upstream.client_id, DEMO_UPSTREAM_CLIENT_ID);
        assert_eq!(upstream.acr_values, "eidas1");
        assert!(upstream.scopes.starts_with("openid given_name family_name birthdate"));
        assert!(upstream.is_demo);

        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret-value\n").unwrap();
        let configured = load_file(&format!(
            "[upstream]\nissuer = \"https://fc.example.fr/api/v2\"\nclient_id = \"abc\"\nclient_secret_file = \"{}\"\n\
             timeout_seconds = 2\n[demo]\nenabled = true\n",
            secret.display()
        ))
        .unwrap();
        let upstream = configured.upstream_client().unwrap();
        assert_eq!(upstream.issuer, "https://fc.example.fr/api/v2", "a configured upstream wins over the demo");
        assert_eq!(upstream.client_secret.expose(), "s3cret-value");
        assert_eq!(upstream.timeout, std::time::Duration::from_secs(2));
        assert!(!upstream.is_demo);
        assert!(!format!("{configured:?}").contains("s3cret"), "the secret is never printed");
    }

    #[test]
    fn upstream_settings_are_checked() {
        let error =
            load_file("[upstream]\nissuer = \"https://fc.example.fr\"\nclient_id = \"abc\"\n").unwrap_err().to_string();
        assert!(error.contains("`upstream.client_secret_file`"), "{error}");
        let error = load_file("[upstream]\nclient_secret_file = \"/nonexistent/secret\"\n").unwrap_err().to_string();
        assert!(error.contains("`upstream.client_secret_file`") && error.contains("cannot read"), "{error}");
        let error = load_file("[upstream]\nscopes = \"given_name\"\n").unwrap_err().to_string();
        assert!(error.contains("`upstream.scopes`"), "{error}");
        let error = load_file("[upstream]\ntimeout_seconds = 0\n").unwrap_err().to_string();
        assert!(error.contains("`upstream.timeout_seconds`"), "{error}");
        let error = load_file("[upstream]\nissuer = \"https://fc.example.fr/\"\n").unwrap_err().to_string();
        assert!(error.contains("`upstream.issuer`"), "{error}");
        let error = load_file("[upstream]\nissuer_url = \"https://fc.example.fr\"\n").unwrap_err().to_string();
        assert!(error.contains("did you mean `upstream.issuer`?"), "{error}");
        let error = load_file("[demo]\nenable = true\n").unwrap_err().to_string();
        assert!(error.contains("did you mean `demo.enabled`?"), "{error}");
    }

    #[test]
    fn the_theme_and_the_contact_address_are_checked() {
        assert_eq!(defaults().ui.theme, Theme::Dsfr, "the State design system by default");
        assert_eq!(load_file("[ui]\ntheme = \"neutral\"\n").unwrap().ui.theme, Theme::Neutral);
        let error = load_file("[ui]\ntheme = \"marianne\"\n").unwrap_err().to_string();
        assert!(error.contains("ui.theme") && error.contains("dsfr") && error.contains("neutral"), "{error}");
        let error = load_file("[ui]\ncontact_email = \"nobody\"\n").unwrap_err().to_string();
        assert!(error.contains("`ui.contact_email`"), "{error}");
        assert_eq!(defaults().ui.assets_dir, Path::new(DEFAULT_DSFR_ASSETS_DIR));
    }

    /// A row of a settings table in `docs/configuration.md`: the section whose heading it is
    /// under, then its cells (key, default, variable) without the description.
    struct DocumentedSetting {
        heading: String,
        key: String,
        default: String,
        variable: String,
    }

    /// The settings tables: those under `## Top level` and `## `[section]``.
    fn documented_settings(markdown: &str) -> Vec<DocumentedSetting> {
        let mut heading = None;
        let mut rows = Vec::new();
        for line in markdown.lines() {
            if let Some(title) = line.strip_prefix("## ") {
                heading = match title.trim() {
                    "Top level" => Some(String::new()),
                    other => other.strip_prefix("`[").and_then(|t| t.strip_suffix("]`")).map(str::to_owned),
                };
                continue;
            }
            let Some(heading) = &heading else { continue };
            if !line.starts_with("| `") {
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let unquote = |cell: &str| cell.trim_matches('`').to_owned();
            rows.push(DocumentedSetting {
                heading: heading.clone(),
                key: unquote(cells[0]),
                default: cells.get(1).copied().unwrap_or_default().to_owned(),
                variable: cells.get(2).map(|c| unquote(c)).unwrap_or_default(),
            });
        }
        rows
    }

    /// What an operator reads must be what the server does: every setting documented once,
    /// under its section, with its variable and (when it has one of its own) its default.
    #[test]
    fn the_reference_documents_every_setting_and_its_default() {
        let markdown = include_str!("../../docs/configuration.md");
        let documented = documented_settings(markdown);
        let known = known_keys();
        let defaults = default_values();
        let section = |key: &str| key.split_once('.').map_or("", |(section, _)| section).to_owned();
        let mut problems = Vec::new();
        for key in &known {
            let rows: Vec<&DocumentedSetting> = documented.iter().filter(|d| &d.key == key).collect();
            let default = defaults.get(key);
            match rows.as_slice() {
                [] => problems.push(format!(
                    "`{key}` is not documented: add its row (default {}, variable {}) to the table of {} in \
                     docs/configuration.md",
                    default.map_or("computed".to_owned(), |d| if d.is_empty() {
                        "empty".into()
                    } else {
                        format!("`{d}`")
                    }),
                    variable_name(key),
                    match section(key).as_str() {
                        "" => "\"Top level\"".to_owned(),
                        s => format!("`[{s}]`"),
                    }
                )),
                [row] => {
                    if row.heading != section(key) {
                        problems.push(format!("`{key}` is documented under the section `[{}]`", row.heading));
                    }
                    if row.variable != variable_name(key) {
                        problems.push(format!("`{key}`: its variable is {}, not {}", variable_name(key), row.variable));
                    }
                    let shown_as = match default {
                        Some(d) if d.is_empty() => Some("empty".to_owned()),
                        Some(d) => Some(format!("`{d}`")),
                        None => None,
                    };
                    if let Some(expected) = shown_as {
                        if !row.default.starts_with(&expected) {
                            problems.push(format!("`{key}`: its default is {expected}, documented as {}", row.default));
                        }
                    }
                }
                _ => problems.push(format!("`{key}` is documented {} times", rows.len())),
            }
        }
        for row in &documented {
            if !known.contains(&row.key) {
                problems.push(format!("docs/configuration.md documents `{}`, which names no setting", row.key));
            }
        }
        assert!(problems.is_empty(), "docs/configuration.md and the settings differ:\n{}", problems.join("\n"));
    }

    #[test]
    fn the_reference_is_read_from_the_settings_sections_only() {
        let documented = documented_settings(
            "## `[http]`\n\n| key | default | variable | what |\n|---|---|---|---|\n\
             | `http.bind` | `127.0.0.1:8080` | `IDP__HTTP__BIND` | listens |\n\
             | `http.trusted_proxies` | `[]` | `IDP__HTTP__TRUSTED_PROXIES` | proxies |\n## Other\n| `x.y` | a | b | c |\n",
        );
        let keys: Vec<(&str, &str, &str, &str)> = documented
            .iter()
            .map(|d| (d.heading.as_str(), d.key.as_str(), d.default.as_str(), d.variable.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("http", "http.bind", "`127.0.0.1:8080`", "IDP__HTTP__BIND"),
                ("http", "http.trusted_proxies", "`[]`", "IDP__HTTP__TRUSTED_PROXIES")
            ],
            "rows outside the settings' sections are not read"
        );
    }

    #[test]
    fn defaults_are_shown_as_an_operator_writes_them() {
        let defaults = default_values();
        assert_eq!(defaults["database.max_connections"], "8");
        assert_eq!(defaults["keys.generate_if_missing"], "true");
        assert_eq!(defaults["upstream.issuer"], "");
        assert_eq!(defaults["retention.usager_days"], "365");
        let list = config::ValueKind::Array(vec![config::Value::new(None, "10.0.0.1"), config::Value::new(None, 3)]);
        assert_eq!(default_text(&list), "[\"10.0.0.1\", 3]");
        assert_eq!(default_text(&config::ValueKind::Array(Vec::new())), "[]");
    }

    #[test]
    fn the_database_url_may_come_from_a_file_but_not_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("database-url");
        std::fs::write(&file, "postgres://idp:s3cret@db.internal/idp\n").unwrap();
        let from_file = load_file(&format!("[database]\nurl_file = \"{}\"\n", file.display())).unwrap();
        assert_eq!(
            from_file.database.url, "postgres://idp:s3cret@db.internal/idp",
            "the final newline is not part of it"
        );

        let both = load_file(&format!("[database]\nurl = \"sqlite://x.db\"\nurl_file = \"{}\"\n", file.display()))
            .unwrap_err();
        let both = both.to_string();
        assert!(both.contains("`database.url_file`") && both.contains("database.url is set too"), "{both}");

        let missing = dir.path().join("no-such-file");
        let error = load_file(&format!("[database]\nurl_file = \"{}\"\n", missing.display())).unwrap_err().to_string();
        assert!(
            error.contains("`database.url_file`") && error.contains("cannot read") && error.contains("no-such-file"),
            "{error}"
        );

        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let error = load_file(&format!("[database]\nurl_file = \"{}\"\n", empty.display())).unwrap_err().to_string();
        assert!(error.contains("`database.url_file`") && error.contains("is empty"), "{error}");

        let folder =
            load_file(&format!("[database]\nurl_file = \"{}\"\n", dir.path().display())).unwrap_err().to_string();
        assert!(folder.contains("`database.url_file`") && folder.contains("cannot read"), "{folder}");

        // A bad URL from the file is refused like one set directly, its password hidden.
        std::fs::write(&file, "postgress://idp:s3cret@db/idp").unwrap();
        let error = load_file(&format!("[database]\nurl_file = \"{}\"\n", file.display())).unwrap_err().to_string();
        assert!(error.contains("`database.url`") && !error.contains("s3cret"), "{error}");
    }

    #[test]
    fn retention_and_the_purge_interval_have_defaults_and_are_checked() {
        let s = defaults();
        assert_eq!(s.retention.usager_days, 365);
        assert_eq!(s.maintenance.purge_interval_minutes, 1440);
        let error = load_file("[retention]\nusager_days = 0\n").unwrap_err().to_string();
        assert!(error.contains("`retention.usager_days`"), "{error}");
        assert_eq!(
            load_file("[maintenance]\npurge_interval_minutes = 0\n").unwrap().maintenance.purge_interval_minutes,
            0
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_and_ranges_none_by_default() {
        let s = defaults();
        assert!(s.http.trusted_proxies.is_empty(), "no header is believed unless proxies are named");
        assert_eq!(s.http.client_address_header, ClientAddressHeader::XForwardedFor);
        let s = load_file(
            "[http]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"2001:db8::/32\"]\nclient_address_header = \"Forwarded\"\n",
        )
        .unwrap();
        let trusted = &s.http.trusted_proxies;
        for inside in ["127.0.0.1", "10.200.3.4", "2001:db8:1::9", "::ffff:10.0.0.1"] {
            assert!(trusted.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["127.0.0.2", "11.0.0.1", "2001:db9::1"] {
            assert!(!trusted.contains(outside.parse().unwrap()), "{outside}");
        }
        assert_eq!(s.http.client_address_header, ClientAddressHeader::Forwarded);
        let error = load_file("[http]\ntrusted_proxies = [\"10.0.0.0/33\"]\n").unwrap_err().to_string();
        assert!(error.contains("http.trusted_proxies") && error.contains("10.0.0.0/33"), "{error}");
        let error = load_file("[http]\nclient_address_header = \"X-Real-IP\"\n").unwrap_err().to_string();
        assert!(error.contains("http.client_address_header") && error.contains("X-Forwarded-For"), "{error}");
    }

    #[test]
    fn trusted_proxies_come_from_the_environment_as_a_comma_list() {
        let from = |value: &str| -> HttpSettings {
            let variables = [("IDP__HTTP__TRUSTED_PROXIES", value), ("IDP__HTTP__BIND", "127.0.0.1:9000")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()));
            let config = builder_with_defaults()
                .unwrap()
                .add_source(environment().source(Some(variables.into_iter().collect())))
                .build()
                .unwrap();
            config.get::<HttpSettings>("http").unwrap()
        };
        let http = from("10.0.0.0/8, 192.0.2.7");
        assert!(http.trusted_proxies.contains("10.1.1.1".parse().unwrap()));
        assert!(http.trusted_proxies.contains("192.0.2.7".parse().unwrap()));
        assert_eq!(http.bind, "127.0.0.1:9000", "other values stay strings");
        assert_eq!(from("127.0.0.1").trusted_proxies, TrustedProxies::parse(&["127.0.0.1"]).unwrap());
        assert!(from("").trusted_proxies.is_empty());
    }

    #[test]
    fn outgoing_timeouts_are_checked() {
        let s = defaults();
        assert_eq!((s.outgoing.connect_timeout_seconds, s.outgoing.timeout_seconds), (2, 5));
        let error = load_file("[outgoing]\nconnect_timeout_seconds = 0\n").unwrap_err().to_string();
        assert!(error.contains("`outgoing.connect_timeout_seconds`"), "{error}");
        let error =
            load_file("[outgoing]\nconnect_timeout_seconds = 4\ntimeout_seconds = 3\n").unwrap_err().to_string();
        assert!(error.contains("`outgoing.timeout_seconds`"), "{error}");
        // The upstream provider's connection waits no longer than its whole call.
        let demo = load_file("[demo]\nenabled = true\n[upstream]\ntimeout_seconds = 1\n").unwrap();
        let upstream = demo.upstream_client().unwrap();
        assert_eq!((upstream.connect_timeout.as_secs(), upstream.timeout.as_secs()), (1, 1));
    }

    #[test]
    fn a_secret_file_others_may_read_is_warned_about_naming_the_setting() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fc-secret");
        std::fs::write(&file, "s3cret\n").unwrap();
        let path = file.display().to_string();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warning = secret_file_warning("upstream.client_secret_file", &path).expect("a warning");
        assert!(warning.contains("upstream.client_secret_file") && warning.contains("0644"), "{warning}");
        assert!(!warning.contains("s3cret"), "{warning}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(secret_file_warning("upstream.client_secret_file", &path), None);
        assert_eq!(secret_file_warning("upstream.client_secret_file", ""), None);
    }

    #[test]
    fn an_issuer_on_this_machine_but_another_port_is_warned_about() {
        let at = |u: &str| Url::parse(u).unwrap();
        let listening: SocketAddr = "127.0.0.1:8090".parse().unwrap();
        let warning = issuer_port_warning(&at("http://127.0.0.1:8080"), listening).expect("a warning");
        assert!(warning.contains("port 8080") && warning.contains("127.0.0.1:8090"), "{warning}");
        assert!(issuer_port_warning(&at("http://localhost:8080"), listening).is_some());
        assert_eq!(issuer_port_warning(&at("http://127.0.0.1:8090"), listening), None);
        // Behind a reverse proxy the public URL's port is the proxy's.
        assert_eq!(issuer_port_warning(&at("https://idp.example.fr"), "0.0.0.0:8080".parse().unwrap()), None);
    }
}
