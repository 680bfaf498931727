//! The keys that seal secrets at rest (`mandate_store::sealing`): files in the signing keys'
//! folder (`keys.dir`), one per key, named `<created, UTC %Y%m%dT%H%M%SZ>.sealing.<key id>.key`,
//! holding the 32-byte key in base64, mode 0600. The newest key seals; every key in the folder
//! opens what it sealed. Replicas sharing the folder follow it as they follow signing keys: a
//! key added by `idp secrets rotate` seals on every replica within `keys.recheck_interval_ms`,
//! and a value sealed with a key not yet seen makes the folder be read again at once.
//! Why: `docs/decisions/0025-secrets-at-rest.md`.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use mandate_store::sealing::{self, key_id, Keyring, Reseal, SealingKey, SealingKeys};
use mandate_store::{resealing, Store};
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::configuration::Settings;

const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const SUFFIX: &str = ".key";

#[derive(Debug, thiserror::Error)]
pub enum SealingKeyError {
    #[error("keys folder {dir}: {source}")]
    Folder { dir: PathBuf, source: io::Error },
    #[error("sealing key {file}: {source}")]
    File { file: PathBuf, source: io::Error },
    #[error("sealing key {file}: {reason}")]
    BadFile { file: PathBuf, reason: String },
    #[error(
        "no sealing key in {dir}: `idp secrets rotate` makes one (or restore the folder's *.sealing.*.key files from \
         the backup taken with the database)"
    )]
    Missing { dir: PathBuf },
}

/// A key file found in the folder, described by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileInfo {
    pub path: PathBuf,
    pub id: String,
    pub created_at: DateTime<Utc>,
}

fn file_name(created_at: DateTime<Utc>, id: &str) -> String {
    format!("{}.sealing.{id}{SUFFIX}", created_at.format(TIME_FORMAT))
}

fn parse_name(name: &str) -> Option<(DateTime<Utc>, String)> {
    let [created, "sealing", id, "key"] = name.split('.').collect::<Vec<_>>()[..] else { return None };
    let created_at = NaiveDateTime::parse_from_str(created, TIME_FORMAT).ok()?.and_utc();
    let valid_id = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    valid_id.then(|| (created_at, id.to_owned()))
}

/// The sealing key files of `dir`, oldest first (the last one seals). Other files (signing keys,
/// a README) are ignored; a `.key` file not named as above is an error rather than a key
/// silently unused. A folder not made yet holds none.
pub fn scan(dir: &Path) -> Result<Vec<KeyFileInfo>, SealingKeyError> {
    let folder_error = |source| SealingKeyError::Folder { dir: dir.to_owned(), source };
    let entries = match fs::read_dir(dir) {
        Err(source) if source.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other.map_err(folder_error)?,
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(folder_error)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !name.ends_with(SUFFIX) || name.starts_with('.') {
            continue;
        }
        let (created_at, id) = parse_name(name).ok_or_else(|| SealingKeyError::BadFile {
            file: path.clone(),
            reason: "name is not <YYYYMMDDTHHMMSSZ>.sealing.<16 hex digits>.key".into(),
        })?;
        files.push(KeyFileInfo { path, id, created_at });
    }
    files.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(files)
}

/// Reads one key file: 32 bytes in base64, whose id is the one in its name, readable by its
/// owner only (like SSH with a private key, a key others could read is refused: it would seal
/// nothing from them).
pub fn load(file: &KeyFileInfo) -> Result<SealingKey, SealingKeyError> {
    let bad = |reason: String| SealingKeyError::BadFile { file: file.path.clone(), reason };
    let metadata =
        fs::metadata(&file.path).map_err(|source| SealingKeyError::File { file: file.path.clone(), source })?;
    if metadata.mode() & 0o077 != 0 {
        return Err(bad(format!(
            "mode {:04o} lets others read it; it must be readable by the server's user only (chmod 600)",
            metadata.mode() & 0o7777
        )));
    }
    let text = Zeroizing::new(
        fs::read_to_string(&file.path).map_err(|source| SealingKeyError::File { file: file.path.clone(), source })?,
    );
    let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| bad("not base64".into()))?);
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes.as_slice().try_into().map_err(|_| bad(format!("holds {} bytes, a key is 32", bytes.len())))?,
    );
    if key_id(&bytes) != file.id {
        return Err(bad(format!("the name says key {} but the key's id is {}", file.id, key_id(&bytes))));
    }
    Ok(SealingKey::from_bytes(&bytes))
}

/// Every key of `dir`, the newest sealing; [`SealingKeyError::Missing`] when there is none.
pub fn keyring(dir: &Path) -> Result<Keyring, SealingKeyError> {
    let keys = scan(dir)?.iter().map(load).collect::<Result<Vec<_>, _>>()?;
    Keyring::new(keys).ok_or_else(|| SealingKeyError::Missing { dir: dir.to_owned() })
}

/// Makes a key in `dir` (created 0700 if missing), newer than every key there, so that it seals
/// from now on. Written under a temporary name first, so that no replica reads half a key.
pub fn create(dir: &Path) -> Result<KeyFileInfo, SealingKeyError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    let id = key_id(&bytes);
    let now = {
        let now = Utc::now();
        DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
    };
    // The key made last must be the newest, even when several are made within one second.
    let newest = scan(dir)?.last().map(|f| f.created_at + chrono::Duration::seconds(1));
    let created_at = newest.map_or(now, |newest| newest.max(now));
    let path = dir.join(file_name(created_at, &id));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| SealingKeyError::Folder { dir: dir.to_owned(), source })?;
    let temporary = dir.join(format!(".{}.tmp", file_name(created_at, &id)));
    let contents = Zeroizing::new(format!("{}\n", STANDARD.encode(bytes.as_ref())));
    let written = (|| -> io::Result<()> {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, &path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(SealingKeyError::File { file: path, source });
    }
    Ok(KeyFileInfo { path, id, created_at })
}

/// The keys of a folder, followed while the server runs.
pub struct SealingKeyFolder {
    dir: PathBuf,
    every: Duration,
    loaded: RwLock<Loaded>,
}

struct Loaded {
    keyring: Keyring,
    checked_at: Instant,
}

impl std::fmt::Debug for SealingKeyFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKeyFolder").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl SealingKeyFolder {
    /// The folder's keys, looked at again at most every `every`.
    pub fn open(dir: &Path, every: Duration) -> Result<SealingKeyFolder, SealingKeyError> {
        let keyring = keyring(dir)?;
        Ok(SealingKeyFolder {
            dir: dir.to_owned(),
            every,
            loaded: RwLock::new(Loaded { keyring, checked_at: Instant::now() }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The keys as last read.
    pub fn keyring(&self) -> Keyring {
        self.loaded.read().unwrap_or_else(|e| e.into_inner()).keyring.clone()
    }

    /// Reads the folder again. A folder that cannot be read keeps the keys already loaded, with a
    /// warning: a passing fault of a shared volume must not stop every sign-in.
    fn reload(&self) {
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        loaded.checked_at = Instant::now();
        match keyring(&self.dir) {
            Ok(keyring) => loaded.keyring = keyring,
            Err(error) => {
                tracing::warn!(%error, "sealing keys: the folder could not be read again; keeping the keys loaded")
            }
        }
    }

    fn reload_if_due(&self) {
        let due = self.loaded.read().unwrap_or_else(|e| e.into_inner()).checked_at.elapsed() >= self.every;
        if due {
            self.reload();
        }
    }
}

impl SealingKeys for SealingKeyFolder {
    fn current(&self) -> Arc<SealingKey> {
        self.reload_if_due();
        self.keyring().current()
    }

    fn find(&self, id: &str) -> Option<Arc<SealingKey>> {
        if let Some(key) = self.keyring().find(id) {
            return Some(key);
        }
        // Sealed by a replica that rotated since we last looked.
        self.reload();
        self.keyring().find(id)
    }
}

/// The sealing keys of a server or a command, ready: the folder's keys, a first one made when
/// there is none (with `keys.generate_if_missing`, and only while nothing in the store is
/// sealed: a key lost is not silently replaced); every key the store's values name must be
/// there; values stored before sealing are sealed with the current key.
pub fn prepare(settings: &Settings, store: &Store) -> anyhow::Result<Arc<SealingKeyFolder>> {
    Ok(prepare_and_report(settings, store)?.0)
}

/// [`prepare`], saying how many values from before sealing it sealed.
pub fn prepare_and_report(
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<(Arc<SealingKeyFolder>, sealing::ResealReport)> {
    let dir = &settings.keys.dir;
    let mut conn = store.conn()?;
    let census = resealing::census(&mut conn)?;
    let sealed_with: Vec<&str> = census.keys().flatten().map(String::as_str).collect();
    if scan(dir)?.is_empty() {
        if !sealed_with.is_empty() {
            anyhow::bail!(
                "the database holds secrets sealed with key(s) {} but {} holds no sealing key: restore the *.sealing.*.key files from the backup taken with the database (without them, helpers enrol their second factors again)",
                sealed_with.join(", "),
                dir.display()
            );
        }
        if !settings.keys.generate_if_missing {
            return Err(SealingKeyError::Missing { dir: dir.clone() }.into());
        }
        let made = create(dir)?;
        tracing::info!(dir = %dir.display(), key = %made.id, "no sealing key found: made one (back it up with the database)");
    }
    let folder = SealingKeyFolder::open(dir, std::time::Duration::from_millis(settings.keys.recheck_interval_ms))?;
    let keyring = folder.keyring();
    let missing: Vec<&str> = sealed_with.iter().copied().filter(|id| keyring.find(id).is_none()).collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the database holds secrets sealed with key(s) {} which {} does not hold: restore them from the backup taken with the database",
            missing.join(", "),
            dir.display()
        );
    }
    let mut report = sealing::ResealReport::default();
    if census.contains_key(&None) {
        report = resealing::reseal(&mut conn, &keyring, Reseal::Plaintext)?;
        tracing::info!(sealed = report.sealed_from_plaintext, "secrets stored before sealing are now sealed");
    }
    Ok((Arc::new(folder), report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_key_file_is_made_0600_and_reads_back_under_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let made = create(dir.path()).unwrap();
        assert_eq!(fs::metadata(&made.path).unwrap().mode() & 0o777, 0o600);
        let keys = keyring(dir.path()).unwrap();
        assert_eq!(keys.current().id(), made.id);
        let newer = create(dir.path()).unwrap();
        assert!(newer.created_at > made.created_at, "made within the second, still newer");
        assert_eq!(keyring(dir.path()).unwrap().ids(), vec![made.id.as_str(), newer.id.as_str()]);
    }

    #[test]
    fn a_missing_loose_or_wrong_key_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(keyring(dir.path()), Err(SealingKeyError::Missing { .. })));
        let made = create(dir.path()).unwrap();
        fs::set_permissions(&made.path, fs::Permissions::from_mode(0o644)).unwrap();
        let message = keyring(dir.path()).unwrap_err().to_string();
        assert!(message.contains("chmod 600") && message.contains(&made.id), "{message}");
        fs::set_permissions(&made.path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&made.path, format!("{}\n", STANDARD.encode([7u8; 32]))).unwrap();
        let message = keyring(dir.path()).unwrap_err().to_string();
        assert!(message.contains("the name says key"), "{message}");
        fs::write(&made.path, "not a key").unwrap();
        assert!(keyring(dir.path()).unwrap_err().to_string().contains("not base64"));
        fs::remove_file(&made.path).unwrap();
        fs::write(dir.path().join("sealing.key"), "x").unwrap();
        assert!(keyring(dir.path()).unwrap_err().to_string().contains("name is not"));
    }

    #[test]
    fn a_key_added_by_another_process_is_found_at_once_and_seals_after_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let first = create(dir.path()).unwrap();
        let folder = SealingKeyFolder::open(dir.path(), Duration::from_secs(3600)).unwrap();
        let second = create(dir.path()).unwrap();
        assert_eq!(folder.current().id(), first.id, "not looked at again before the interval");
        assert!(folder.find(&second.id).is_some(), "an unknown id makes it look at once");
        assert_eq!(folder.current().id(), second.id);
        let followed = SealingKeyFolder::open(dir.path(), Duration::ZERO).unwrap();
        let third = create(dir.path()).unwrap();
        assert_eq!(followed.current().id(), third.id);
    }
}
