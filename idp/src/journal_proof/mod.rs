//! Proof of the journal that anyone can check without our database: signed checkpoints of the
//! chain, the export bundle (JSON Lines: a header, the keys, the entries), and the checker.
//!
//! `checkpoint` signs (the server, `idp journal export`, `idp journal checkpoint`); `bundle`
//! holds the format and writes it; `verify` reads it back with no database and no configuration,
//! as `idp journal verify-bundle` and any third party do. `docs/journal-format.md` is the
//! specification; decision 0015 says why it is shaped so.

pub mod bundle;
pub mod checkpoint;
pub mod verify;

use mandate_store::journal::checkpoints::CheckpointError;
use mandate_store::StoreError;

use crate::keys::KeyError;

/// Signing a checkpoint or writing a bundle failed.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing the checkpoint: {0}")]
    Key(#[from] KeyError),
    #[error("writing the bundle: {0}")]
    Write(#[from] std::io::Error),
}

impl From<CheckpointError<KeyError>> for ProofError {
    fn from(e: CheckpointError<KeyError>) -> ProofError {
        match e {
            CheckpointError::Store(e) => ProofError::Store(e),
            CheckpointError::Signer(e) => ProofError::Key(e),
        }
    }
}
