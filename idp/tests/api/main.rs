//! The server, driven like its users drive it: over HTTP, and through the `idp` command.

mod cli;
mod flow;
mod health;
mod helpers;
mod keys;
mod provider;
mod robot;
mod single_use;
