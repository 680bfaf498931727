//! The server, driven like its users drive it: over HTTP, and through the `idp` command.

mod cli;
mod health;
mod helpers;
mod keys;
