//! RS256 ID tokens per second: our signer, holding the parsed aws-lc-rs key, against
//! `jsonwebtoken::encode`, which parses the private key again on every call.
//!
//! `cargo bench -p idp --bench signing` (or `make bench`); both figures and their ratio come
//! from the same run, on the same key and claims.

use std::hint::black_box;
use std::time::{Duration, Instant};

use idp::keys::{self, KeySet, SigningAlg};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const WARM_UP: usize = 200;
const RUN_FOR: Duration = Duration::from_secs(3);

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let info = keys::generate(dir.path(), SigningAlg::Rs256).expect("RSA key");
    let keys = KeySet::load(dir.path()).expect("key set");
    let pem_file = std::fs::read_dir(dir.path()).expect("keys folder").next().expect("key file").expect("entry").path();
    let pem = std::fs::read(pem_file).expect("PEM");
    // Built once, as an application would; `encode` still parses the RSA key on each call.
    let encoding_key = EncodingKey::from_rsa_pem(&pem).expect("jsonwebtoken key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(info.kid.clone());
    let claims = id_token_claims();

    // Same key, so our verifier checks their token too.
    let theirs = jsonwebtoken::encode(&header, &claims, &encoding_key).expect("jsonwebtoken encode");
    assert_eq!(keys.verify(&theirs).expect("their token verifies"), claims);

    let ours = tokens_per_second(|| keys.sign(SigningAlg::Rs256, "JWT", &claims).expect("sign"));
    let theirs = tokens_per_second(|| jsonwebtoken::encode(&header, &claims, &encoding_key).expect("encode"));
    println!("RS256 (RSA-2048), {} s each:", RUN_FOR.as_secs());
    println!("  KeySet::sign (parsed key held)      {ours:>8.0} tokens/s");
    println!("  jsonwebtoken::encode (re-parses)    {theirs:>8.0} tokens/s");
    println!("  ratio                               {:>8.2}x", ours / theirs);
}

fn tokens_per_second(mut sign: impl FnMut() -> String) -> f64 {
    for _ in 0..WARM_UP {
        black_box(sign());
    }
    let start = Instant::now();
    let mut tokens = 0u64;
    while start.elapsed() < RUN_FOR {
        black_box(sign());
        tokens += 1;
    }
    tokens as f64 / start.elapsed().as_secs_f64()
}

/// The ID token of DESIGN §5, with its actor and mandate.
fn id_token_claims() -> Value {
    json!({"iss": "https://aidants.example.gouv.fr", "aud": "service-impots", "sub": "b3f1c2d4e5f60718293a4b5c6d7e8f90",
           "iat": 1764000000, "exp": 1764000300, "auth_time": 1763999900, "nonce": "n-0S6_WzA2Mj",
           "acr": "eidas1", "amr": ["pwd", "otp"], "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q", "sid": "7c0e2b1a",
           "act": {"sub": "4f2d9a6e-1b2c-4d3e-8f90-a1b2c3d4e5f6", "given_name": "Camille", "family_name": "Martin",
                   "email": "camille.martin@france-services.example.fr",
                   "organisation": {"id": "0b7e", "siret": "21750001600019", "name": "France Services Paris 13"}},
           "mandate": {"id": "9a1c", "demarche": "argent", "expires_at": 1795536000}})
}
