//! The server, driven like its users drive it: over HTTP, and through the `idp` command.

mod attestation;
mod cli;
mod deactivated;
mod delegation;
mod flow;
mod front_door;
mod headers;
mod health;
mod helper_space;
mod helpers;
mod journal_list;
mod keys;
mod maintenance;
mod organisation_journal;
mod pages;
mod provider;
mod readme;
mod robot;
mod sandbox;
mod single_use;
mod snapshots;
mod stats;
mod theme;
mod upstream;
