//! New private keys, as PKCS#8 PEM.
//!
//! The `rsa` and `p256` crates only generate and encode here; signing is aws-lc-rs's job
//! (the `rsa` crate's private-key operations are not constant-time: RUSTSEC-2023-0071).

use rand::rngs::OsRng;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use zeroize::Zeroizing;

use super::{KeyError, SigningAlg};

/// RS256 keys: RSA-2048, the size OpenID Connect relying parties expect everywhere.
const RSA_BITS: usize = 2048;

pub fn private_key_pem(alg: SigningAlg) -> Result<Zeroizing<String>, KeyError> {
    let failed = |e: &dyn std::fmt::Display| KeyError::Generation(format!("{alg}: {e}"));
    match alg {
        SigningAlg::Rs256 => rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
            .map_err(|e| failed(&e))?
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| failed(&e)),
        SigningAlg::Es256 => p256::SecretKey::random(&mut OsRng).to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e)),
    }
}
