//! The OpenID Connect provider: one module per protocol surface.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod errors;
pub mod flow;
pub mod introspection;
pub mod logout;
pub mod request;
pub mod revocation;
pub mod token;
pub mod userinfo;
