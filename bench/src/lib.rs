//! `idp-bench`: a load generator for the provider, run by `make bench`. It starts `idp serve`
//! on SQLite then on PostgreSQL, makes the data it needs through the `idp` command line, and
//! drives the login flow, the SSO flow with a live session, the code exchange alone, discovery
//! and JWKS, at several concurrencies, over HTTP only; each rate is also given as a ratio to
//! the limit measured in the same run (signing, argon2id) and to the project's targets
//! (docs/decisions/0019-load-generator.md).

pub mod browser;
pub mod flows;
pub mod limits;
pub mod load;
pub mod population;
pub mod report;
pub mod run;
pub mod server;
pub mod stats;
