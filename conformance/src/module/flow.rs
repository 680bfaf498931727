//! A whole code flow, for the modules whose point comes after it.

use serde_json::Value;

use super::{AuthRequest, Step, Test, Tokens, UserinfoCall};
use crate::browser::Visit;
use crate::jose::Jwt;
use crate::report::Severity::Failure as F;

/// Everything a completed code flow produced.
pub struct Flow {
    pub visit: Visit,
    pub tokens: Tokens,
    pub id_token: Jwt,
    pub userinfo: Option<Value>,
}

impl Test<'_> {
    /// A complete code flow: authorize, redeem, check the ID token, call userinfo (GET).
    pub fn code_flow(&mut self, req: &AuthRequest) -> Step<Flow> {
        let visit = self.send(req, true)?;
        let code = self.expect_code(req, &visit)?;
        let http = self.redeem(req, &code)?;
        let tokens = self.expect_tokens(http)?;
        let id_token = self.check_id_token(&tokens, req)?;
        let userinfo = self.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
        Ok(Flow { visit, tokens, id_token, userinfo })
    }

    /// Like [`Test::code_flow`] and also returns the code.
    pub fn code_flow_keep_code(&mut self, req: &AuthRequest) -> Step<(Flow, String)> {
        let visit = self.send(req, true)?;
        let code = self.expect_code(req, &visit)?;
        let http = self.redeem(req, &code)?;
        let tokens = self.expect_tokens(http)?;
        let id_token = self.check_id_token(&tokens, req)?;
        Ok((Flow { visit, tokens, id_token, userinfo: None }, code))
    }
}
