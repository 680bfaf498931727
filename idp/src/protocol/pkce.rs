//! PKCE (RFC 7636): what a client proves with its `code_verifier`.

use mandate_store::exchange::PkceProof;
use sha2::{Digest, Sha256};

use crate::encoding::b64url;

/// RFC 7636 §4.6: what the client proved with `code_verifier`. The S256 challenge is computed
/// here, where the protocol lives, and compared by the store inside the code's one transaction
/// (so the store needs no hashing rule, and the comparison cannot drift from the claim).
pub fn pkce_proof(verifier: Option<&str>) -> PkceProof {
    match verifier {
        None => PkceProof::Absent,
        Some(v)
            if (43..=128).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) =>
        {
            PkceProof::S256(b64url(&Sha256::digest(v.as_bytes())))
        }
        Some(_) => PkceProof::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_rfc7636_appendix_b() {
        assert_eq!(
            pkce_proof(Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            PkceProof::S256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into())
        );
        assert_ne!(
            pkce_proof(Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl")),
            PkceProof::S256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into())
        );
        assert_eq!(pkce_proof(Some("short")), PkceProof::Malformed);
        assert_eq!(pkce_proof(None), PkceProof::Absent);
    }
}
