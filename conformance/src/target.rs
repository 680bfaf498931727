//! What the plans run against: the issuer, the registered clients, the helpers the robot logs
//! in as, and (for the real server) the administration commands the delegation plan needs.

use std::sync::Arc;

use serde_json::Value;
use url::Url;

use crate::backchannel::LogoutReceiver;
use crate::browser::{Aidants, Choices};
use crate::jose::RsaSigner;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<AuthMethod> {
        Some(match text {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "private_key_jwt" => AuthMethod::PrivateKeyJwt,
            "none" => AuthMethod::None,
            _ => return None,
        })
    }
}

/// A statically registered client.
#[derive(Clone)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub auth: AuthMethod,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: Option<String>,
    pub signer: Option<Arc<RsaSigner>>,
}

/// A client registered with a `backchannel_logout_uri` served by `receiver`.
#[derive(Clone)]
pub struct BackchannelClient {
    pub client: ClientConfig,
    pub receiver: Arc<LogoutReceiver>,
}

/// Administration of the server the delegation plan needs (done through the `idp` command
/// line for the real server).
pub trait Admin: Send + Sync {
    /// Creates a mandate; returns `(mandate_id, [(authorisation_id, demarche)])`.
    fn add_mandate(
        &self,
        usager: &str,
        aidant: &str,
        demarches: &[&str],
        expires_at: Option<&str>,
    ) -> Result<(String, Vec<(String, String)>), String>;
    fn revoke_authorisation(&self, authorisation_id: &str, aidant: &str) -> Result<(), String>;
    fn revoke_mandate(&self, mandate_id: &str, aidant: &str) -> Result<(), String>;
    /// Registers a client limited to some démarches (the harness's redirect URI).
    fn add_client(&self, name: &str, redirect_uri: &str, demarches: &[&str]) -> Result<ClientConfig, String>;
    /// Journal entries, newest last.
    fn journal(&self, action: Option<&str>) -> Result<Vec<Value>, String>;
}

/// What the delegation plan knows of the seeded data.
#[derive(Clone, Debug, Default)]
pub struct Delegation {
    pub organisation_id: String,
    /// `(usager_id, demarches of its mandate)`.
    pub usagers: Vec<(String, Vec<String>)>,
}

pub struct Target {
    pub issuer: Url,
    /// The only certificate the harness's HTTP clients trust, when the issuer is served with
    /// one of its own (the TLS front's); `None` keeps the built-in roots.
    pub tls_root: Option<reqwest::Certificate>,
    /// The Basic plan's client (client_secret_basic).
    pub client: ClientConfig,
    pub client_post: Option<ClientConfig>,
    pub client_private_key_jwt: Option<ClientConfig>,
    /// A second client (refresh token presented by the wrong client).
    pub client2: Option<ClientConfig>,
    /// A client with a registered post_logout_redirect_uri.
    pub logout_client: Option<ClientConfig>,
    pub backchannel: Option<BackchannelClient>,
    pub aidants: Arc<Aidants>,
    pub choices: Choices,
    pub admin: Option<Box<dyn Admin>>,
    pub delegation: Option<Delegation>,
}

impl Target {
    pub fn discovery_url(&self) -> Url {
        let base = self.issuer.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/.well-known/openid-configuration")).expect("issuer is a URL")
    }
}
