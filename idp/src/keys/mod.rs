//! Signing keys: the folder they live in, the JWKS that publishes them, and the tokens they sign.
//!
//! A key is `active` (it may sign; the newest active key of an algorithm does) or `retiring`
//! (it no longer signs but stays in the JWKS so that tokens it signed still verify). Retiring a
//! key deletes it. Every process reading the folder, on any replica, comes to the same answer:
//! `files.rs` describes the layout, and [`KeySet`] how a running server notices changes.

pub mod cli;
mod files;
mod generation;
mod jwk;
mod signer;
mod standalone;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use files::KeyFile;
use signer::{CompactJws, SigningKey};
pub use standalone::StandaloneKey;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keys folder {dir}: {source}")]
    Folder { dir: PathBuf, source: std::io::Error },
    #[error("key file {file}: {source}")]
    File { file: PathBuf, source: std::io::Error },
    #[error("key file {file}: {reason}")]
    BadKeyFile { file: PathBuf, reason: String },
    #[error("no active RS256 key in {dir} (OpenID Connect requires RS256): run `idp keys generate`")]
    NoDefaultKey { dir: PathBuf },
    #[error("no active {0} signing key")]
    NoActiveKey(SigningAlg),
    #[error("unknown key id {0:?}")]
    UnknownKid(String),
    #[error("{kid} is the only active RS256 key: run `idp keys rotate` first, so that another key signs")]
    LastDefaultKey { kid: String },
    #[error("unsupported signing algorithm {0:?}: RS256 or ES256")]
    UnsupportedAlg(String),
    #[error("key generation failed: {0}")]
    Generation(String),
    #[error("signing failed")]
    Signing,
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    #[error("invalid token: bad signature")]
    BadSignature,
}

/// The JWS algorithms we sign with (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 on RSA-2048: the default, that every relying party accepts.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256, for clients that ask for it.
    #[serde(rename = "ES256")]
    Es256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
        }
    }
}

/// The algorithm a client registered, as the store keeps it.
impl From<mandate_store::SigningAlg> for SigningAlg {
    fn from(alg: mandate_store::SigningAlg) -> SigningAlg {
        match alg {
            mandate_store::SigningAlg::Rs256 => SigningAlg::Rs256,
            mandate_store::SigningAlg::Es256 => SigningAlg::Es256,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = KeyError;

    /// Case-sensitive, as JOSE `alg` values are (RFC 7515 §4.1.1).
    fn from_str(raw: &str) -> Result<SigningAlg, KeyError> {
        SigningAlg::ALL.into_iter().find(|alg| alg.as_str() == raw).ok_or_else(|| KeyError::UnsupportedAlg(raw.into()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// May sign; the newest active key of its algorithm does.
    Active,
    /// No longer signs, still published.
    Retiring,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Retiring => "retiring",
        }
    }
}

impl FromStr for KeyState {
    type Err = ();

    fn from_str(raw: &str) -> Result<KeyState, ()> {
        match raw {
            "active" => Ok(KeyState::Active),
            "retiring" => Ok(KeyState::Retiring),
            _ => Err(()),
        }
    }
}

/// What the folder says about a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
}

/// Makes a new active key of `alg` in `dir` (created if missing).
pub fn generate(dir: &Path, alg: SigningAlg) -> Result<KeyInfo, KeyError> {
    files::create(dir, alg, KeyState::Active)
}

/// Makes a new active key of `alg`; the previous active keys of `alg` become retiring. The new
/// key is written before the old ones are renamed, so a reader never finds no active key.
pub fn rotate(dir: &Path, alg: SigningAlg) -> Result<KeyInfo, KeyError> {
    let previous: Vec<KeyFile> = files::scan_if_exists(dir)?
        .into_iter()
        .filter(|f| f.info.alg == alg && f.info.state == KeyState::Active)
        .collect();
    let info = files::create(dir, alg, KeyState::Active)?;
    for file in previous {
        file.set_state(dir, KeyState::Retiring)?;
    }
    Ok(info)
}

/// Stops publishing the key `kid` and deletes it. The last active RS256 key cannot go: the
/// provider could no longer sign ID tokens.
pub fn retire(dir: &Path, kid: &str) -> Result<(), KeyError> {
    let files = files::scan(dir)?;
    let file = files.iter().find(|f| f.info.kid == kid).ok_or_else(|| KeyError::UnknownKid(kid.into()))?;
    let signs_rs256 = |f: &KeyFile| f.info.alg == SigningAlg::Rs256 && f.info.state == KeyState::Active;
    if signs_rs256(file) && !files.iter().any(|f| f.info.kid != kid && signs_rs256(f)) {
        return Err(KeyError::LastDefaultKey { kid: kid.into() });
    }
    file.remove(dir)
}

/// The keys of `dir`, newest first.
pub fn list(dir: &Path) -> Result<Vec<KeyInfo>, KeyError> {
    Ok(files::scan(dir)?.into_iter().map(|f| f.info).collect())
}

#[cfg(test)]
mod tests;

/// How often a running server looks at the folder's modification time, at most.
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);
/// Some filesystems (NFS, ext3) keep whole seconds: a change made within this long after the
/// modification time we last saw may not move it, so such a recent time is looked at again.
const TIMESTAMP_GRAIN: Duration = Duration::from_secs(2);

/// The published keys of a folder, parsed once and held in memory; cheap to clone and share
/// between workers. It follows the folder: a rotation made by `idp keys` or by another replica is
/// picked up within about a second.
#[derive(Clone)]
pub struct KeySet {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    recheck_every: Duration,
    published: RwLock<Arc<Published>>,
    watch: Mutex<Watch>,
}

/// What the folder looked like when last read.
struct Watch {
    checked_at: Instant,
    folder_modified: Option<SystemTime>,
    read_at: SystemTime,
}

impl Watch {
    fn may_hide_a_change(&self) -> bool {
        self.folder_modified
            .is_some_and(|modified| self.read_at.duration_since(modified).map_or(true, |age| age < TIMESTAMP_GRAIN))
    }
}

struct PublishedKey {
    info: KeyInfo,
    key: Arc<SigningKey>,
}

/// Newest first.
struct Published {
    keys: Vec<PublishedKey>,
}

impl Published {
    /// Reads the folder; keys already parsed in `previous` are reused rather than parsed again.
    fn read(dir: &Path, previous: Option<&Published>) -> Result<Published, KeyError> {
        let keys = files::scan(dir)?
            .into_iter()
            .map(|file| {
                let known = previous.and_then(|p| p.keys.iter().find(|k| k.info.kid == file.info.kid));
                let key = match known {
                    Some(known) if known.info.alg == file.info.alg => known.key.clone(),
                    _ => Arc::new(file.load()?),
                };
                Ok(PublishedKey { info: file.info, key })
            })
            .collect::<Result<_, KeyError>>()?;
        Ok(Published { keys })
    }

    fn signing_key(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.info.alg == alg && k.info.state == KeyState::Active).map(|k| &*k.key)
    }

    fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.info.kid == kid).map(|k| &*k.key)
    }
}

impl KeySet {
    /// Loads the keys of `dir`. When it holds no active RS256 key and `generate_if_missing`,
    /// generates one first (and returns `true`, for the caller to log).
    pub fn load_or_generate(dir: &Path, generate_if_missing: bool) -> Result<(KeySet, bool), KeyError> {
        let has_default = files::scan_if_exists(dir)?
            .iter()
            .any(|f| f.info.alg == SigningAlg::Rs256 && f.info.state == KeyState::Active);
        let generated = !has_default && generate_if_missing;
        if generated {
            generate(dir, SigningAlg::Rs256)?;
        }
        Ok((KeySet::load(dir)?, generated))
    }

    /// Looks at the folder again at most once per `every` (another replica, or `idp keys
    /// rotate`, may have changed it). Set once, before the key set is shared.
    pub fn rechecking_every(mut self, every: Duration) -> KeySet {
        Arc::get_mut(&mut self.shared)
            .expect("the recheck interval is set before the key set is shared")
            .recheck_every = every;
        self
    }

    /// Loads the keys of `dir`, which must hold an active RS256 key.
    pub fn load(dir: &Path) -> Result<KeySet, KeyError> {
        KeySet::open(dir, RECHECK_EVERY)
    }

    fn open(dir: &Path, recheck_every: Duration) -> Result<KeySet, KeyError> {
        let folder_modified = modified(dir);
        let published = Published::read(dir, None)?;
        if published.signing_key(SigningAlg::Rs256).is_none() {
            return Err(KeyError::NoDefaultKey { dir: dir.to_owned() });
        }
        Ok(KeySet {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                recheck_every,
                published: RwLock::new(Arc::new(published)),
                watch: Mutex::new(Watch { checked_at: Instant::now(), folder_modified, read_at: SystemTime::now() }),
            }),
        })
    }

    /// Signs `claims` with the newest active key of `alg`, as a compact JWS whose header carries
    /// `alg`, `kid` and `typ` (`JWT`, `logout+jwt`…).
    pub fn sign(&self, alg: SigningAlg, typ: &str, claims: &Value) -> Result<String, KeyError> {
        self.current().signing_key(alg).ok_or(KeyError::NoActiveKey(alg))?.sign(typ, claims)
    }

    /// Like [`KeySet::sign`], and also the public JWK of the key that signed: for a signature
    /// that must still verify after the key is retired and gone from the JWKS (a journal
    /// checkpoint keeps it beside the signature).
    pub fn sign_keeping_jwk(&self, alg: SigningAlg, typ: &str, claims: &Value) -> Result<(String, Value), KeyError> {
        let published = self.current();
        let key = published.signing_key(alg).ok_or(KeyError::NoActiveKey(alg))?;
        Ok((key.sign(typ, claims)?, key.public_jwk()))
    }

    /// The JWKS document (RFC 7517 §5): the public keys of active and retiring keys.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.current().keys.iter().map(|k| k.key.public_jwk()).collect::<Vec<_>>()})
    }

    /// Checks that one of our published keys signed `jws` and returns its payload. The header's
    /// `alg` must be that key's, and `kid` is required. Claims are not checked.
    pub fn verify(&self, jws: &str) -> Result<Value, KeyError> {
        let token = CompactJws::parse(jws)?;
        let mut published = self.current();
        if published.by_kid(&token.kid).is_none() {
            // Perhaps signed by another replica with a key made since we last looked.
            self.refresh(true);
            published = self.published();
        }
        let key = published.by_kid(&token.kid).ok_or_else(|| KeyError::UnknownKid(token.kid.clone()))?;
        // RFC 8725 §3.1: the key decides the algorithm, never the token alone.
        if token.alg != key.alg().as_str() {
            return Err(KeyError::InvalidToken("alg does not match the key"));
        }
        if !key.verifies(token.signing_input.as_bytes(), &token.signature) {
            return Err(KeyError::BadSignature);
        }
        token.payload()
    }

    /// Whether an active key of `alg` exists.
    pub fn supports(&self, alg: SigningAlg) -> bool {
        self.current().signing_key(alg).is_some()
    }

    /// The algorithms with an active key, RS256 first (for the discovery document).
    pub fn algorithms(&self) -> Vec<SigningAlg> {
        let published = self.current();
        SigningAlg::ALL.into_iter().filter(|alg| published.signing_key(*alg).is_some()).collect()
    }

    fn current(&self) -> Arc<Published> {
        self.refresh(false);
        self.published()
    }

    fn published(&self) -> Arc<Published> {
        self.shared.published.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the folder again if its modification time moved. One thread looks while the others
    /// go on with the keys they have; a folder that cannot be read keeps the keys already loaded.
    fn refresh(&self, now: bool) {
        let mut watch = match self.shared.watch.try_lock() {
            Ok(watch) => watch,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if !now && watch.checked_at.elapsed() < self.shared.recheck_every {
            return;
        }
        watch.checked_at = Instant::now();
        let folder_modified = modified(&self.shared.dir);
        if folder_modified == watch.folder_modified && !watch.may_hide_a_change() {
            return;
        }
        let read_at = SystemTime::now();
        match Published::read(&self.shared.dir, Some(&self.published())) {
            Ok(published) => {
                *self.shared.published.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(published);
                *watch = Watch { checked_at: watch.checked_at, folder_modified, read_at };
            }
            Err(error) => {
                tracing::warn!(%error, "keys folder changed but cannot be read; the keys already loaded stay in use")
            }
        }
    }
}

fn modified(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let published = self.published();
        f.debug_struct("KeySet")
            .field("dir", &self.shared.dir)
            .field("keys", &published.keys.iter().map(|k| &k.info).collect::<Vec<_>>())
            .finish()
    }
}
