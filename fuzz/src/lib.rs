//! What the fuzzing targets share: the registered client the requests name, the fuzzing-only
//! signing keys (`keys/`, never used anywhere else), and a signature check that does not go
//! through the code under test.

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use idp::keys::{KeySet, SigningAlg, StandaloneKey};
use mandate_store::clients::{Client, DemarcheList, UriList};
use mandate_store::Demarche;
use serde_json::Value;

pub const REDIRECT_URI: &str = "https://rp.example.fr/cb";

/// A confidential client that may receive two démarches, as in the request tests.
pub fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| Client {
        id: "service-impots".into(),
        name: "Impôts".into(),
        secret_hash: None,
        redirect_uris: UriList(vec![REDIRECT_URI.into()]),
        post_logout_redirect_uris: UriList::default(),
        auth_method: "client_secret_basic".parse().expect("a known method"),
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: mandate_store::SigningAlg::Rs256,
        userinfo_signed_response_alg: None,
        subject_type: mandate_store::SubjectType::Pairwise,
        sector_identifier: "rp.example.fr".into(),
        demarches: DemarcheList(vec![Demarche::Argent, Demarche::Logement]),
        backchannel_logout_uri: None,
        created_at: chrono::NaiveDateTime::default(),
    })
}

fn key_pem(alg: SigningAlg) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("keys/fuzz-only.{alg}.pem"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fuzzing-only key of `alg`, parsed as the server parses a key.
pub fn standalone_key(alg: SigningAlg) -> StandaloneKey {
    StandaloneKey::from_pem(alg, &key_pem(alg)).expect("the fuzzing key parses")
}

/// A keys folder holding both fuzzing-only keys as active keys, loaded as the server loads
/// its own: ID token hints are checked against it.
pub fn key_set() -> &'static KeySet {
    static KEYS: OnceLock<(tempfile::TempDir, KeySet)> = OnceLock::new();
    let (_, keys) = KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for alg in SigningAlg::ALL {
            let kid = standalone_key(alg).kid().to_owned();
            std::fs::write(dir.path().join(format!("20260101T000000Z.{alg}.active.{kid}.pem")), key_pem(alg))
                .expect("the key file is written");
        }
        let keys = KeySet::load(dir.path()).expect("the fuzzing keys load");
        (dir, keys)
    });
    keys
}

/// Whether `jws` carries a valid signature of `jwk` (a public JWK, RS256 or ES256) over its
/// first two parts, checked with aws-lc-rs directly rather than by the code under test.
pub fn signed_by(jws: &str, jwk: &Value) -> bool {
    let Some((signing_input, signature)) = jws.rsplit_once('.') else { return false };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else { return false };
    let part = |name: &str| jwk.get(name).and_then(Value::as_str).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            let (Some(n), Some(e)) = (part("n"), part("e")) else { return false };
            RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &signature)
                .is_ok()
        }
        Some("EC") => {
            let (Some(x), Some(y)) = (part("x"), part("y")) else { return false };
            let point = [&[4u8][..], &x, &y].concat();
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signing_input.as_bytes(), &signature)
                .is_ok()
        }
        _ => false,
    }
}

/// Whether one of the published keys of `jwks` signed `jws`.
pub fn signed_by_one_of(jws: &str, jwks: &Value) -> bool {
    jwks.get("keys").and_then(Value::as_array).is_some_and(|keys| keys.iter().any(|k| signed_by(jws, k)))
}

/// `input` cut at its first `0xFF` byte (which never occurs in UTF-8 text): the targets that
/// take two texts read them this way, so that the seeds stay readable files.
pub fn two_parts(input: &[u8]) -> (&[u8], Option<&[u8]>) {
    match input.iter().position(|b| *b == 0xFF) {
        Some(at) => (&input[..at], Some(&input[at + 1..])),
        None => (input, None),
    }
}

/// Whether `value` holds a number that is not an integer. serde_json reads a decimal number to
/// the nearest float only with its `float_roundtrip` feature, which the server does not use
/// (it costs float parsing speed, and nothing we sign or store depends on a float's last
/// digit): such a value, written and read again, may come back a bit off. Found by the
/// `id_token_hint` target; the targets compare JSON values exactly only without floats.
pub fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(values) => values.iter().any(has_float),
        Value::Object(members) => members.values().any(has_float),
        _ => false,
    }
}
