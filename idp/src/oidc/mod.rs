//! The OpenID Connect provider: one module per protocol surface.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod errors;
pub mod introspection;
pub mod logout;
pub mod revocation;
pub mod token;
pub mod userinfo;

// The request rules moved to the protocol core; this keeps `super::request` paths working.
pub(crate) use crate::protocol::request;
