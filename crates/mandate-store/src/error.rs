use thiserror::Error;

use crate::text_columns::CorruptValue;

/// Everything the store can refuse or fail with. Validation variants carry what a person
/// needs to correct the input; infrastructure variants carry the real cause.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid SIRET {0:?}: expected 14 digits with a valid checksum")]
    InvalidSiret(String),
    #[error("unknown démarche {0:?}; known: papiers, famille, social, travail, logement, transports, argent, justice, etranger, loisirs")]
    UnknownDemarche(String),
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
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedDatabaseUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    #[error("cannot apply database migrations: {0}")]
    Migration(String),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// A stored value that is not one of its column's values: the row was written behind the
    /// code's back (or by a newer version). Refused, never read as a default.
    #[error("corrupt row: column {column} holds {value:?} ({reason})")]
    CorruptRow { column: &'static str, value: String, reason: String },
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

pub type StoreResult<T> = Result<T, StoreError>;
