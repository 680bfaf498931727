//! The configuration phase: discovery, the provider's keys, the client's authentication method.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use url::Url;

use super::{snippet, Step, Test};
use crate::checks;
use crate::report::Severity::Failure as F;
use crate::target::{AuthMethod, ClientConfig};

impl Test<'_> {
    pub fn fetch_json(&mut self, url: &Url) -> Result<(u16, Option<String>, Value), String> {
        let response = self.http.get(url.clone()).send().map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().map_err(|e| e.to_string())?;
        let json =
            serde_json::from_str(&body).map_err(|e| format!("{url} did not return JSON ({e}): {}", snippet(&body)))?;
        Ok((status, content_type, json))
    }

    /// `GetDynamicServerConfiguration` and its HTTP checks.
    pub fn fetch_discovery(&mut self) -> Step {
        let url = self.target.discovery_url();
        let (status, content_type, disc) = match self.fetch_json(&url) {
            Ok(r) => r,
            Err(e) => return self.require("GetDynamicServerConfiguration", Err(e)),
        };
        self.require(
            "GetDynamicServerConfiguration",
            if disc.is_object() { Ok(()) } else { Err("not a JSON object".into()) },
        )?;
        self.check(
            "EnsureDiscoveryEndpointResponseStatusCodeIs200",
            F,
            if status == 200 { Ok("200".into()) } else { Err(format!("HTTP {status}")) },
        );
        self.check("CheckDiscoveryEndpointReturnedJsonContentType", F, checks::is_json(content_type.as_deref()));
        self.disc = disc;
        Ok(())
    }

    /// `FetchServerKeys` and the JWKS checks.
    pub fn fetch_keys(&mut self) -> Step {
        let jwks_uri = match checks::endpoint(&self.disc, "jwks_uri") {
            Ok(u) => u,
            Err(e) => return self.require("FetchServerKeys", Err(e)),
        };
        let fetched = self.fetch_json(&jwks_uri).and_then(|(status, _, jwks)| {
            if status == 200 {
                Ok(jwks)
            } else {
                Err(format!("{jwks_uri} answered HTTP {status}"))
            }
        });
        self.jwks = self.require("FetchServerKeys", fetched)?;
        let jwks = self.jwks.clone();
        self.require("ValidateServerJWKs", checks::validate_server_jwks(&jwks))?;
        self.check("CheckForKeyIdInServerJWKs", F, checks::check_kid_in_server_jwks(&jwks));
        self.check("CheckDistinctKeyIdValueInServerJWKs", F, checks::check_distinct_kids(&jwks));
        self.check("EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys", F, checks::ensure_no_private_keys(&jwks));
        Ok(())
    }

    /// The configuration phase of every code-flow module.
    pub fn configure(&mut self) -> Step {
        self.fetch_discovery()?;
        let disc = self.disc.clone();
        self.require("CheckServerConfiguration", checks::check_server_configuration(&disc))?;
        self.fetch_keys()?;
        Ok(())
    }

    /// `EnsureServerConfigurationSupports<Method>` for a client.
    pub fn ensure_auth_supported(&mut self, client: &ClientConfig) -> Step {
        let name = match client.auth {
            AuthMethod::ClientSecretBasic => "EnsureServerConfigurationSupportsClientSecretBasic",
            AuthMethod::ClientSecretPost => "EnsureServerConfigurationSupportsClientSecretPost",
            AuthMethod::PrivateKeyJwt => "EnsureServerConfigurationSupportsPrivateKeyJwt",
            AuthMethod::None => "EnsureServerConfigurationSupportsClientAuthNone",
        };
        let disc = self.disc.clone();
        self.require(name, checks::ensure_auth_method_supported(&disc, client.auth.as_str()).map(|_| ()))
    }
}
