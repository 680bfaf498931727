use thiserror::Error;

/// Everything the store can refuse or fail with. Validation variants carry what a person
/// needs to correct the input; infrastructure variants carry the real cause.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid SIRET {0:?}: expected 14 digits with a valid checksum")]
    InvalidSiret(String),
    #[error("an organisation with SIRET {siret} already exists: {existing_id} ({existing_name})")]
    DuplicateSiret { siret: String, existing_id: String, existing_name: String },
    #[error("unknown démarche {0:?}; known: papiers, famille, social, travail, logement, transports, argent, justice, etranger, loisirs")]
    UnknownDemarche(String),
    #[error("unknown department {0:?}: expected an INSEE department code (01 to 19, 21 to 95, 2A, 2B, 971 to 976)")]
    UnknownDepartment(String),
    #[error("unknown mandate duration {0:?}; known: short, month, semester, long")]
    UnknownDuration(String),
    #[error("unknown role {0:?}; known: aidant, manager")]
    UnknownRole(String),
    #[error("invalid email address {0:?}")]
    InvalidEmail(String),
    #[error("invalid value for {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("the mandate's expiry {0} is not in the future")]
    ExpiryInPast(chrono::NaiveDateTime),
    #[error("an aidant with email {0:?} already exists")]
    DuplicateEmail(String),
    #[error("the aidant does not belong to organisation {organisation_id}")]
    NotMember { organisation_id: String },
    #[error("the aidant is not active")]
    AidantInactive,
    #[error("{0} not found")]
    NotFound(&'static str),
    // The URL may hold a password (`postgress://user:secret@…` with a misspelt scheme): the
    // message shows it redacted.
    #[error("unsupported database URL {:?}: use sqlite://PATH or postgres://…", redact_credentials(.0))]
    UnsupportedDatabaseUrl(String),
    #[error("cannot connect to the database: {}", redact_credentials(.0))]
    Connection(String),
    #[error(
        "the database cannot be written ({0}): check that the user running the server may write the file and \
         its folder, and that the filesystem is neither read-only nor full"
    )]
    NotWritable(String),
    #[error("cannot apply database migrations: {0}")]
    Migration(String),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// A stored value that is not one of its column's values: the row was written behind the
    /// code's back (or by a newer version). Refused, never read as a default.
    #[error("corrupt row: column {column} holds {value:?} ({reason})")]
    CorruptRow { column: &'static str, value: String, reason: String },
    /// A sequencer could not remove from the journal's queue the entries it had just chained;
    /// its batch is rolled back, so that no entry is chained twice.
    #[error("journal sequencing: {0}")]
    JournalSequencing(String),
    /// A sealed secret that does not open (`sealing`): refused, never read as plaintext.
    #[error("the secret of {row} cannot be opened: {cause}")]
    Unsealable { row: String, cause: SealError },
    #[error("database: {0}")]
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::DeserializationError(cause) => {
                // diesel wraps a field's error in `DeserializeFieldError` (naming the field).
                let corrupt = cause
                    .downcast_ref::<diesel::result::DeserializeFieldError>()
                    .and_then(|field| field.error.downcast_ref::<CorruptValue>())
                    .or_else(|| cause.downcast_ref::<CorruptValue>())
                    .cloned();
                match corrupt {
                    Some(CorruptValue { column, value, reason }) => StoreError::CorruptRow { column, value, reason },
                    None => StoreError::Database(diesel::result::Error::DeserializationError(cause)),
                }
            }
            other => StoreError::Database(other),
        }
    }
}

/// Why a stored value did not open. Never treated as plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    #[error("it is not sealed (stored before secrets were sealed; `idp secrets rotate` seals it)")]
    NotSealed,
    #[error("it is sealed with key {0}, which is not in the keys folder (keys.dir)")]
    UnknownKey(String),
    #[error("it is not a well-formed sealed value")]
    Malformed,
    #[error("it does not open with key {0}: altered, or copied from another row")]
    DoesNotOpen(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database cannot serve right now, through no fault of the request: it cannot be
    /// reached (stopped, restarting, the pool found no connection in time), it dropped the
    /// connection in the middle of a statement, or it cannot take writes (a SQLite file that is
    /// read-only, a full disk, a lock held past the busy timeout). Such a request failed
    /// cleanly (its transaction did not commit) and may be tried again once the database is
    /// back: surfaces answer `503` (`temporarily_unavailable`) rather than a server error.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Connection(_) | StoreError::Pool(_) => true,
            StoreError::Database(error) => match error {
                Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )
                | Error::BrokenTransactionManager
                | Error::RollbackErrorOnCommit { .. } => true,
                Error::DatabaseError(_, info) => is_unavailable_message(info.message()),
                _ => false,
            },
            _ => false,
        }
    }
}

/// The messages of the database errors that say it cannot serve now (diesel gives SQLite's and
/// some of PostgreSQL's as `Unknown`, with the database's own words).
fn is_unavailable_message(message: &str) -> bool {
    const UNAVAILABLE: [&str; 9] = [
        // SQLite (sqlite3_errstr): SQLITE_READONLY, SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR, SQLITE_CANTOPEN.
        "attempt to write a readonly database",
        "database or disk is full",
        "database is locked",
        "disk I/O error",
        "unable to open database file",
        // PostgreSQL: 57P01 admin_shutdown, 57P03 cannot_connect_now, 53100 disk_full and the
        // connection lost between two statements.
        "terminating connection due to administrator command",
        "the database system is",
        "No space left on device",
        "server closed the connection unexpectedly",
    ];
    UNAVAILABLE.iter().any(|words| message.contains(words))
}

/// `text` with the credentials of any URL in it replaced by `***`: the password of
/// `scheme://user:password@host` and the value of a `password=` parameter (libpq reads both).
/// For messages and logs, which must never carry a secret.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let authority_start = found + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let authority_len = after.find(['/', '?', '#', ' ', '\t', '\n', '"', '\'', '`']).unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    redact_password_parameters(&out)
}

fn redact_password_parameters(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    while let Some(found) = lower[position..].find(KEY) {
        let value_start = position + found + KEY.len();
        out.push_str(&text[position..value_start]);
        let value_len =
            text[value_start..].find(['&', ' ', '\t', '\n', '"', '\'', '`']).unwrap_or(text.len() - value_start);
        if value_len > 0 {
            out.push_str("***");
        }
        position = value_start + value_len;
    }
    out.push_str(&text[position..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted_and_the_rest_kept() {
        assert_eq!(redact_credentials("postgress://idp:s3cret@db:5432/idp"), "postgress://idp:***@db:5432/idp");
        assert_eq!(
            redact_credentials("postgres://db/idp?user=idp&password=s3cret&sslmode=require"),
            "postgres://db/idp?user=idp&password=***&sslmode=require"
        );
        assert_eq!(redact_credentials("a: p:w@rd@host/x, b"), "a: p:w@rd@host/x, b", "no scheme, no URL");
        assert_eq!(redact_credentials("x://u:p@w:rd@h y://u@h"), "x://u:***@h y://u@h");
        assert_eq!(redact_credentials("sqlite://data/idp.db"), "sqlite://data/idp.db");
    }

    #[test]
    fn a_database_that_cannot_serve_now_is_told_apart_from_a_bad_request() {
        use diesel::result::{DatabaseErrorKind, Error};
        let database =
            |kind, message: &str| StoreError::Database(Error::DatabaseError(kind, Box::new(message.to_owned())));
        for unavailable in [
            database(DatabaseErrorKind::ClosedConnection, "server closed the connection"),
            database(DatabaseErrorKind::Unknown, "attempt to write a readonly database"),
            database(DatabaseErrorKind::Unknown, "database or disk is full"),
            database(DatabaseErrorKind::Unknown, "terminating connection due to administrator command"),
            StoreError::Connection("connection refused".into()),
        ] {
            assert!(unavailable.is_unavailable(), "{unavailable}");
        }
        for refused in [
            database(DatabaseErrorKind::UniqueViolation, "UNIQUE constraint failed: aidants.email"),
            database(DatabaseErrorKind::Unknown, "no such table: aidants"),
            StoreError::NotFound("mandate"),
            StoreError::Migration("bad".into()),
        ] {
            assert!(!refused.is_unavailable(), "{refused}");
        }
    }

    #[test]
    fn an_unsupported_database_url_is_named_without_its_password() {
        let message = StoreError::UnsupportedDatabaseUrl("postgress://user:secret@host/db".into()).to_string();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("postgress://user:***@host/db"), "{message}");
    }
}

/// A stored value that is not one of its column's values (written behind the code's back, or by
/// a newer version). Carried inside diesel's deserialization error up to `StoreError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptValue {
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for CorruptValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt value {:?} in column {}: {}", self.value, self.column, self.reason)
    }
}

impl std::error::Error for CorruptValue {}
