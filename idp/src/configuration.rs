//! Settings: an optional TOML file, then `IDP__SECTION__KEY` environment variables.
//! Every value is checked at start; a bad one stops start with a message naming its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// The public URL of this provider. Behind a reverse proxy this is configuration, never
    /// guessed from request headers; every endpoint URL is derived from it.
    pub issuer: String,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub keys: KeySettings,
    pub session: SessionSettings,
    pub login: LoginSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub bind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (embedded, the default) or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeySettings {
    pub dir: PathBuf,
    /// Generate a signing key at start when the folder holds none (the embedded default).
    pub generate_if_missing: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    /// After this long without activity the helper must give a TOTP code again.
    pub idle_minutes: i64,
    /// After this long the helper must log in again, whatever the activity.
    pub absolute_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginSettings {
    pub max_failed_attempts: i32,
    pub lockout_minutes: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `json` (default, for log collectors) or `pretty` (for a terminal).
    pub format: String,
    /// A tracing filter such as `info` or `idp=debug,info`.
    pub filter: String,
}

/// Checked values derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub issuer: Url,
    pub bind: SocketAddr,
}

impl Settings {
    /// Loads from `file` (required if given explicitly, else `idp.toml` if present) and the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let builder = config::Config::builder()
            .set_default("issuer", "http://127.0.0.1:8080")?
            .set_default("http.bind", "127.0.0.1:8080")?
            .set_default("database.url", "sqlite://data/idp.db")?
            .set_default("database.max_connections", 8)?
            .set_default("keys.dir", "keys")?
            .set_default("keys.generate_if_missing", true)?
            .set_default("session.idle_minutes", 30)?
            .set_default("session.absolute_hours", 12)?
            .set_default("login.max_failed_attempts", 5)?
            .set_default("login.lockout_minutes", 15)?
            .set_default("log.format", "json")?
            .set_default("log.filter", "info")?;
        let builder = match file {
            Some(path) => builder.add_source(config::File::from(path).required(true)),
            None => builder.add_source(config::File::with_name("idp.toml").required(false)),
        };
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("IDP").prefix_separator("__").separator("__").try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        settings.check()?;
        Ok(settings)
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
        if self.session.absolute_hours <= 0 {
            return Err(invalid("session.absolute_hours", "must be positive"));
        }
        if self.login.max_failed_attempts <= 0 {
            return Err(invalid("login.max_failed_attempts", "must be positive"));
        }
        if self.login.lockout_minutes <= 0 {
            return Err(invalid("login.lockout_minutes", "must be positive"));
        }
        if self.log.format != "json" && self.log.format != "pretty" {
            return Err(invalid("log.format", "json or pretty"));
        }
        Ok(Checked { issuer, bind })
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
}
