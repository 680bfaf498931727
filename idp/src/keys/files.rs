//! The keys folder: one PKCS#8 PEM file per key, named
//! `<created, UTC %Y%m%dT%H%M%SZ>.<alg>.<state>.<kid>.pem`.
//!
//! The state lives in the file name, not in a side index, so that replicas sharing the folder
//! read the same answer from a directory listing, and a change of state is one atomic rename.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::signer::SigningKey;
use super::{KeyError, KeyInfo, KeyState, SigningAlg};

const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// A key file found in the folder, described by its name.
#[derive(Debug, Clone)]
pub struct KeyFile {
    pub path: PathBuf,
    pub info: KeyInfo,
}

impl KeyFile {
    fn name(info: &KeyInfo) -> String {
        format!("{}.{}.{}.{}.pem", info.created_at.format(TIME_FORMAT), info.alg, info.state.as_str(), info.kid)
    }

    fn parse_name(name: &str) -> Option<KeyInfo> {
        let [created, alg, state, kid, "pem"] = name.split('.').collect::<Vec<_>>()[..] else { return None };
        let created_at = NaiveDateTime::parse_from_str(created, TIME_FORMAT).ok()?.and_utc();
        let valid_kid = !kid.is_empty() && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid_kid.then_some(KeyInfo {
            kid: kid.to_owned(),
            alg: alg.parse().ok()?,
            state: state.parse().ok()?,
            created_at,
        })
    }

    /// Reads and parses the private key, and checks that the name's `kid` is its thumbprint.
    pub fn load(&self) -> Result<SigningKey, KeyError> {
        let bad = |reason: String| KeyError::BadKeyFile { file: self.path.clone(), reason };
        let pem = zeroize::Zeroizing::new(
            fs::read_to_string(&self.path).map_err(|source| KeyError::File { file: self.path.clone(), source })?,
        );
        let (label, der) =
            rsa::pkcs8::SecretDocument::from_pem(&pem).map_err(|e| bad(format!("not a PEM file ({e})")))?;
        if label != "PRIVATE KEY" {
            return Err(bad(format!("PEM label is {label:?}, expected \"PRIVATE KEY\" (PKCS#8)")));
        }
        let key = SigningKey::from_pkcs8_der(self.info.alg, der.as_bytes()).map_err(bad)?;
        if key.kid() != self.info.kid {
            return Err(bad(format!("the name says kid {} but the key's thumbprint is {}", self.info.kid, key.kid())));
        }
        Ok(key)
    }

    /// Moves the key to `state`, by renaming its file. A file already gone was moved or retired
    /// by another process in the meantime, which leaves nothing to do.
    pub fn set_state(&self, dir: &Path, state: KeyState) -> Result<(), KeyError> {
        let to = dir.join(KeyFile::name(&KeyInfo { state, ..self.info.clone() }));
        match fs::rename(&self.path, &to) {
            Err(source) if source.kind() != io::ErrorKind::NotFound => {
                Err(KeyError::File { file: self.path.clone(), source })
            }
            _ => sync_dir(dir),
        }
    }

    pub fn remove(&self, dir: &Path) -> Result<(), KeyError> {
        fs::remove_file(&self.path).map_err(|source| KeyError::File { file: self.path.clone(), source })?;
        sync_dir(dir)
    }
}

/// Every key file of `dir`, newest first (ties broken by `kid`, so every replica picks the same
/// key). Other files, such as a README, are ignored; a `.pem` file not named as above is an
/// error rather than a key silently left unpublished.
pub fn scan(dir: &Path) -> Result<Vec<KeyFile>, KeyError> {
    let folder_error = |source| KeyError::Folder { dir: dir.to_owned(), source };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !name.ends_with(".pem") || name.starts_with('.') {
            continue;
        }
        let info = KeyFile::parse_name(name).ok_or_else(|| KeyError::BadKeyFile {
            file: path.clone(),
            reason: "name is not <YYYYMMDDTHHMMSSZ>.<RS256|ES256>.<active|retiring>.<kid>.pem".into(),
        })?;
        files.push(KeyFile { path, info });
    }
    files.sort_by(|a, b| (b.info.created_at, &b.info.kid).cmp(&(a.info.created_at, &a.info.kid)));
    Ok(files)
}

/// Like [`scan`], with a folder not made yet holding no key.
pub fn scan_if_exists(dir: &Path) -> Result<Vec<KeyFile>, KeyError> {
    match scan(dir) {
        Err(KeyError::Folder { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}

/// Generates a key of `alg` and writes it to `dir` (created if missing) in `state`.
pub fn create(dir: &Path, alg: SigningAlg, state: KeyState) -> Result<KeyInfo, KeyError> {
    let pem = super::generation::private_key_pem(alg)?;
    let (_, der) = rsa::pkcs8::SecretDocument::from_pem(&pem).map_err(|e| KeyError::Generation(e.to_string()))?;
    let key = SigningKey::from_pkcs8_der(alg, der.as_bytes()).map_err(KeyError::Generation)?;
    // The key made last must be the newest, even when several are made within one second.
    let newest = scan_if_exists(dir)?.first().map(|f| f.info.created_at + chrono::Duration::seconds(1));
    let created_at = newest.map_or(now(), |newest| newest.max(now()));
    let info = KeyInfo { kid: key.kid().to_owned(), alg, state, created_at };
    write_private(dir, &KeyFile::name(&info), pem.as_bytes())?;
    Ok(info)
}

/// Seconds precision: the time is part of the file name.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// Writes a private key readable by its owner only, under a temporary name first so that no
/// reader (another replica) ever sees half a key.
fn write_private(dir: &Path, name: &str, contents: &[u8]) -> Result<(), KeyError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyError::Folder { dir: dir.to_owned(), source })?;
    let path = dir.join(name);
    let temporary = dir.join(format!(".{name}.tmp"));
    let written = (|| -> io::Result<()> {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, &path)
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(KeyError::File { file: path, source });
    }
    sync_dir(dir)
}

/// Makes a rename or removal durable before we report it done.
fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|source| KeyError::Folder { dir: dir.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_odd_names_are_refused() {
        let info = KeyInfo {
            kid: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs".into(),
            alg: SigningAlg::Es256,
            state: KeyState::Retiring,
            created_at: DateTime::from_timestamp(1_795_536_000, 0).unwrap(),
        };
        let name = KeyFile::name(&info);
        assert_eq!(name, "20261124T160000Z.ES256.retiring.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.pem");
        assert_eq!(KeyFile::parse_name(&name), Some(info));
        for odd in [
            "key.pem",
            "20261125T000000Z.HS256.active.abc.pem",
            "20261125T000000Z.RS256.retired.abc.pem",
            "20261125T000000Z.RS256.active..pem",
            "20261125T000000Z.RS256.active.a/b.pem",
            "20261125.RS256.active.abc.pem",
            "20261125T000000Z.RS256.active.abc.extra.pem",
        ] {
            assert_eq!(KeyFile::parse_name(odd), None, "{odd}");
        }
    }

    /// Two rotations at once: the second finds the previous key already renamed.
    #[test]
    fn a_key_moved_by_another_process_needs_no_move() {
        let dir = tempfile::tempdir().unwrap();
        let info = KeyInfo { kid: "abc".into(), alg: SigningAlg::Rs256, state: KeyState::Active, created_at: now() };
        let gone = KeyFile { path: dir.path().join(KeyFile::name(&info)), info };
        gone.set_state(dir.path(), KeyState::Retiring).unwrap();
        assert!(matches!(gone.remove(dir.path()), Err(KeyError::File { .. })));
    }
}
