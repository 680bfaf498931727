//! The protocol core: OpenID Connect rules as plain functions (is this request valid, where
//! does the helper stand in the flow, what does a code record), tested without a socket.
//! Nothing here knows about actix, pages or cookies.

pub mod claims;
pub mod code;
pub mod flow;
pub mod params;
pub mod pkce;
pub mod request;
