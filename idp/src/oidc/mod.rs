//! The OpenID Connect provider: one module per protocol surface.

pub mod authorize;
pub mod client_auth;
pub mod client_form;
pub mod discovery;
pub mod errors;
pub mod introspection;
pub mod logout;
pub mod revocation;
pub mod token;
pub mod userinfo;
