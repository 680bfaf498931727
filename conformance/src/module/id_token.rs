//! The ID token of a token response: `PerformStandardIdTokenChecks`.

use serde_json::Value;

use super::{AuthRequest, Step, Test, Tokens};
use crate::checks;
use crate::jose::Jwt;
use crate::report::Severity::Failure as F;

impl Test<'_> {
    /// `ExtractIdTokenFromTokenResponse` and `PerformStandardIdTokenChecks`.
    pub fn check_id_token(&mut self, tokens: &Tokens, req: &AuthRequest) -> Step<Jwt> {
        let raw = self.require(
            "ExtractIdTokenFromTokenResponse",
            tokens.id_token.clone().ok_or_else(|| "no id_token in the token response (OIDC Core §3.1.3.3)".to_owned()),
        )?;
        let jwt = self.require("ExtractIdTokenFromTokenResponse", Jwt::parse(&raw))?;
        let issuer = self.issuer().to_owned();
        let want =
            checks::IdTokenExpectations { issuer: &issuer, client_id: &req.client.client_id, nonce: req.nonce() };
        self.check("ValidateIdToken", F, checks::validate_id_token(&jwt, &want));
        self.check("ValidateIdTokenStandardClaims", F, checks::validate_standard_claims(&jwt.claims));
        self.check("ValidateIdTokenNonce", F, checks::validate_nonce(&jwt, req.nonce()));
        let claims_request = req.get("claims").and_then(|c| serde_json::from_str::<Value>(c).ok());
        self.check(
            "ValidateIdTokenACRClaimAgainstRequest",
            F,
            checks::validate_acr_against_request(&jwt, claims_request.as_ref()),
        );
        let jwks = self.jwks.clone();
        self.check("ValidateIdTokenSignature", F, checks::validate_signature(&jwt, &jwks));
        self.check("ValidateIdTokenSignatureUsingKid", F, checks::validate_kid_found(&jwt, &jwks));
        self.check(
            "CheckForSubjectInIdToken",
            F,
            match jwt.str_claim("sub") {
                Some(s) if !s.is_empty() => Ok("sub present".into()),
                _ => Err("sub missing".into()),
            },
        );
        self.check("EnsureIdTokenUpdatedAtValid", F, checks::updated_at_valid(&jwt.claims));
        self.check("ValidateAtHash", F, checks::validate_half_hash(&jwt, "at_hash", &tokens.access_token, false));
        Ok(jwt)
    }
}
