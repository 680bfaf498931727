//! The userinfo endpoint, called as the suite calls it.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::{snippet, Abort, Step, Test};
use crate::checks;
use crate::jose::Jwt;
use crate::report::Severity::{self, Failure as F};

/// How userinfo is called.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UserinfoCall {
    Get,
    PostHeader,
    PostBody,
}

impl Test<'_> {
    /// Calls userinfo and checks the answer; returns the claims.
    pub fn userinfo(
        &mut self,
        access_token: &str,
        how: UserinfoCall,
        id_token: &Jwt,
        severity: Severity,
    ) -> Step<Option<Value>> {
        let endpoint = self.endpoint("userinfo_endpoint");
        let url = match endpoint {
            Ok(u) => u,
            Err(_) => return Err(Abort::Skip("no userinfo_endpoint in discovery".into())),
        };
        let request = match how {
            UserinfoCall::Get => self.http.get(url.clone()).bearer_auth(access_token),
            UserinfoCall::PostHeader => self.http.post(url.clone()).bearer_auth(access_token).form(&[("", ""); 0]),
            UserinfoCall::PostBody => self.http.post(url.clone()).form(&[("access_token", access_token)]),
        };
        let response = request.send().map_err(|e| format!("{url}: {e}"));
        let response = self.require("CallProtectedResource", response)?;
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().unwrap_or_default();
        let ok = self.check(
            "EnsureHttpStatusCodeIs200",
            severity,
            if status == 200 { Ok("200".into()) } else { Err(format!("HTTP {status}: {}", snippet(&body))) },
        );
        if !ok {
            return if severity == F { Err(Abort::Stop) } else { Ok(None) };
        }
        self.check("CheckUserInfoEndpointReturnedJsonContentType", F, checks::is_json(content_type.as_deref()));
        let claims: Value = match serde_json::from_str(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return self.require(
                    "ExtractUserInfoFromUserInfoEndpointResponse",
                    Err(format!("not a JSON object: {}", snippet(&body))),
                )
            }
        };
        self.check("ValidateUserInfoStandardClaims", F, checks::validate_standard_claims(&claims));
        self.check(
            "EnsureUserInfoContainsSub",
            F,
            match claims.get("sub").and_then(Value::as_str) {
                Some(s) if !s.is_empty() => Ok("sub present".into()),
                _ => Err("sub missing".into()),
            },
        );
        self.check("EnsureUserInfoUpdatedAtValid", F, checks::updated_at_valid(&claims));
        self.check(
            "VerifyUserInfoAndIdTokenInTokenEndpointSameSub",
            F,
            match (claims.get("sub").and_then(Value::as_str), id_token.str_claim("sub")) {
                (Some(a), Some(b)) if a == b => Ok("same sub".into()),
                (a, b) => Err(format!("userinfo sub {a:?} differs from the ID token's {b:?}")),
            },
        );
        Ok(Some(claims))
    }
}
