//! Secrets kept sealed at rest (AES-256-GCM): the TOTP secrets of second factors and cards, and
//! the server's own keys (`server_secrets`). A database copied off the server, or read by
//! someone with the SQLite file, gives none of them without the sealing key, which lives in a
//! file beside the signing keys (`docs/decisions/0025-secrets-at-rest.md`).
//!
//! A sealed value is text, so the columns stay `TEXT` on both backends:
//! `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, with a random 96-bit nonce and
//! the row's identity (`<table>/<id>`) as associated data, so that a sealed value copied into
//! another row does not open. The key id names the key that sealed it, so that after a
//! rotation the older keys still open what they sealed.
//!
//! The store knows only this module; where the keys come from (files, reloaded when another
//! replica rotates) is the server's business, behind [`SealingKeys`].

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every sealed value starts with; anything else in a sealed column is a value from before
/// sealing, which is refused when read and sealed by `reseal`.
pub const PREFIX: &str = "sealed:v1:";
/// The same, as a `LIKE` pattern (no `_` or `%` in it).
pub(crate) const LIKE_SEALED: &str = "sealed:v1:%";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// One AES-256 key and its id.
pub struct SealingKey {
    id: String,
    cipher: Aes256Gcm,
}

// The key never reaches a log line through `{:?}`.
impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl SealingKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> SealingKey {
        SealingKey { id: key_id(bytes), cipher: Aes256Gcm::new(bytes.into()) }
    }

    /// A fresh key from the operating system's generator (for tests; the server writes its keys
    /// to files first).
    pub fn random() -> SealingKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key = SealingKey::from_bytes(&bytes);
        bytes.fill(0);
        key
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A key's id: derived from the key itself (16 hex digits of a domain-separated SHA-256), so
/// every replica and tool computes the same one and a key file whose name and key disagree is
/// caught. It tells nothing about the key.
pub fn key_id(bytes: &[u8; 32]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"aidants-idp sealing key id\0");
    hash.update(bytes);
    hex::encode(&hash.finalize()[..8])
}

/// Where the keys come from.
pub trait SealingKeys: Send + Sync {
    /// The key new values are sealed with.
    fn current(&self) -> Arc<SealingKey>;
    /// The key with this id; a source that can reload looks again before answering `None`.
    fn find(&self, id: &str) -> Option<Arc<SealingKey>>;
}

/// Keys held in memory: the last one seals, all of them open.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<Arc<SealingKey>>,
}

impl Keyring {
    /// `None` when `keys` is empty: there must be one to seal with.
    pub fn new(keys: Vec<SealingKey>) -> Option<Keyring> {
        if keys.is_empty() {
            return None;
        }
        Some(Keyring { keys: keys.into_iter().map(Arc::new).collect() })
    }

    pub fn from_shared(keys: Vec<Arc<SealingKey>>) -> Option<Keyring> {
        if keys.is_empty() {
            None
        } else {
            Some(Keyring { keys })
        }
    }

    /// One random key (for tests).
    pub fn random() -> Keyring {
        Keyring { keys: vec![Arc::new(SealingKey::random())] }
    }

    /// The same keys and `key`, which seals from now on.
    pub fn with(&self, key: SealingKey) -> Keyring {
        let mut keys = self.keys.clone();
        keys.push(Arc::new(key));
        Keyring { keys }
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id()).collect()
    }
}

impl SealingKeys for Keyring {
    fn current(&self) -> Arc<SealingKey> {
        self.keys.last().expect("a keyring holds a key").clone()
    }

    fn find(&self, id: &str) -> Option<Arc<SealingKey>> {
        self.keys.iter().find(|k| k.id == id).cloned()
    }
}

pub use crate::error::SealError;

/// The identity of the row a secret belongs to, bound to its sealed value.
#[derive(Debug, Clone, Copy)]
pub struct RowIdentity<'a> {
    pub table: &'static str,
    pub id: &'a str,
}

impl RowIdentity<'_> {
    fn associated_data(&self) -> Vec<u8> {
        format!("{}/{}", self.table, self.id).into_bytes()
    }
}

/// `plaintext` sealed with the current key for `row`.
pub fn seal(keys: &dyn SealingKeys, plaintext: &str, row: RowIdentity<'_>) -> String {
    let key = keys.current();
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = row.associated_data();
    let ciphertext = key
        .cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: &aad })
        .expect("AES-GCM seals any input shorter than 64 GiB");
    let mut body = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    body.extend_from_slice(&nonce);
    body.extend_from_slice(&ciphertext);
    format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(body))
}

/// The id of the key that sealed `stored`, or `None` for a value that is not sealed.
pub fn sealed_by(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX)?.split_once(':').map(|(id, _)| id)
}

/// The plaintext of `stored`, sealed for `row`.
pub fn open(keys: &dyn SealingKeys, stored: &str, row: RowIdentity<'_>) -> Result<String, SealError> {
    let Some(rest) = stored.strip_prefix(PREFIX) else { return Err(SealError::NotSealed) };
    let (id, body) = rest.split_once(':').ok_or(SealError::Malformed)?;
    let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Malformed)?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Malformed);
    }
    let key = keys.find(id).ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
    let (nonce, ciphertext) = body.split_at(NONCE_LEN);
    let aad = row.associated_data();
    let plaintext = key
        .cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| SealError::DoesNotOpen(id.to_owned()))?;
    String::from_utf8(plaintext).map_err(|_| SealError::Malformed)
}

/// `open`, with the failure as a store error naming the row (never the value).
pub(crate) fn open_column(keys: &dyn SealingKeys, stored: &str, row: RowIdentity<'_>) -> crate::StoreResult<String> {
    open(keys, stored, row)
        .map_err(|cause| crate::StoreError::Unsealable { row: format!("{}/{}", row.table, row.id), cause })
}

/// What to re-seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reseal {
    /// Only values stored before sealing (what `idp serve` does at start).
    Plaintext,
    /// Every value not sealed with the current key, and values stored before sealing
    /// (`idp secrets rotate`).
    Everything,
}

/// How many values a pass sealed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ResealReport {
    /// Sealed with an older key, now with the current one.
    pub resealed: usize,
    /// Stored before sealing, now sealed.
    pub sealed_from_plaintext: usize,
}

impl std::ops::AddAssign for ResealReport {
    fn add_assign(&mut self, other: ResealReport) {
        self.resealed += other.resealed;
        self.sealed_from_plaintext += other.sealed_from_plaintext;
    }
}

/// One stored value re-sealed with the current key, or `None` when it already is. A value that
/// does not open stops the pass (nothing is written in that transaction).
pub(crate) fn reseal_value(
    keys: &dyn SealingKeys,
    stored: &str,
    row: RowIdentity<'_>,
    report: &mut ResealReport,
) -> crate::StoreResult<Option<String>> {
    match sealed_by(stored) {
        Some(id) if id == keys.current().id => Ok(None),
        Some(_) => {
            let plaintext = open_column(keys, stored, row)?;
            report.resealed += 1;
            Ok(Some(seal(keys, &plaintext, row)))
        }
        None => {
            report.sealed_from_plaintext += 1;
            Ok(Some(seal(keys, stored, row)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: RowIdentity<'static> = RowIdentity { table: "second_factors", id: "f-1" };

    #[test]
    fn a_sealed_value_opens_with_its_key_and_row_only() {
        let keys = Keyring::random();
        let sealed = seal(&keys, "JBSWY3DPEHPK3PXP", ROW);
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("JBSWY3DPEHPK3PXP"), "{sealed}");
        assert_eq!(open(&keys, &sealed, ROW).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_ne!(seal(&keys, "JBSWY3DPEHPK3PXP", ROW), sealed, "a fresh nonce each time");
        let other_row = RowIdentity { table: "second_factors", id: "f-2" };
        assert_eq!(open(&keys, &sealed, other_row), Err(SealError::DoesNotOpen(keys.current().id.clone())));
        assert_eq!(open(&Keyring::random(), &sealed, ROW), Err(SealError::UnknownKey(keys.current().id.clone())));
        assert_eq!(open(&keys, "JBSWY3DPEHPK3PXP", ROW), Err(SealError::NotSealed));
        assert_eq!(open(&keys, "sealed:v1:abc", ROW), Err(SealError::Malformed));
    }

    #[test]
    fn a_flipped_bit_anywhere_in_the_body_does_not_open() {
        let keys = Keyring::random();
        let sealed = seal(&keys, "GEZDGNBVGY3TQOJQ", ROW);
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            let tampered = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert!(matches!(open(&keys, &tampered, ROW), Err(SealError::DoesNotOpen(_))), "byte {i}");
            bytes[i] ^= 1;
        }
    }

    #[test]
    fn after_a_rotation_the_new_key_seals_and_the_old_one_still_opens() {
        let old = Keyring::random();
        let sealed_before = seal(&old, "secret", ROW);
        let rotated = old.with(SealingKey::random());
        assert_ne!(sealed_by(&seal(&rotated, "secret", ROW)), sealed_by(&sealed_before));
        assert_eq!(open(&rotated, &sealed_before, ROW).unwrap(), "secret");
    }
}
