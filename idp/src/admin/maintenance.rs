//! `idp maintenance`: the daily upkeep an operator schedules (a systemd timer or a cron line).
//! Helper accounts with no sign-in for six months are deactivated; failed sign-ins older than a
//! day with no wait running are forgotten (their rows hold client addresses).
//! `idp maintenance purge` removes what is no longer needed and erases usagers at the end of
//! retention (`mandate_store::purge`; `idp serve` also runs it, see `maintenance.purge_interval_minutes`).

use std::io::Write;

use mandate_store::maintenance::{self, InactiveAidant};
use mandate_store::purge::{self, Purged};
use mandate_store::sign_in_delays;
use mandate_store::{now, Store};

use crate::configuration::Settings;

/// `idp maintenance`'s options.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Run it once a day. It deactivates every active helper account with no sign-in for six
calendar months (counted from the account's creation when it never signed in), one journal
entry per account; running it again changes nothing. A manager of the helper's organisation
(or `idp` as operator) can reactivate the account."
)]
pub struct MaintenanceArgs {
    /// List the accounts that would be deactivated, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Option<MaintenanceCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum MaintenanceCommand {
    /// Remove expired codes, tokens, sessions, pending requests and logins, old failed
    /// sign-ins, and erase the usagers whose mandates all ended longer ago than
    /// retention.usager_days.
    #[command(after_help = "\
Each table is purged in batches, one transaction each; each usager is erased in a transaction of
its own, with one usager_erased journal entry (reason retention, ids only). Running it again, or
on two machines at once, changes nothing more. `idp serve` runs it every
maintenance.purge_interval_minutes (daily by default).")]
    Purge(PurgeArgs),
}

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Count what would be removed, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(store: &Store, settings: &Settings, args: MaintenanceArgs) -> anyhow::Result<()> {
    match args.command {
        Some(MaintenanceCommand::Purge(purge)) => run_purge(store, settings, purge),
        None => run_six_month_rule(store, args.dry_run),
    }
}

/// `idp maintenance purge`: prints the count of each table, then what was erased.
fn run_purge(store: &Store, settings: &Settings, args: PurgeArgs) -> anyhow::Result<()> {
    let at = now();
    let days = settings.retention.usager_days;
    let mut conn = store.conn()?;
    let purged = if args.dry_run { purge::count(&mut conn, at, days)? } else { purge::purge(&mut conn, at, days)? };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write!(out, "{}", purge_report(&purged, args.dry_run, purge::usager_retention_cutoff(at, days)))?;
    out.flush()?;
    Ok(())
}

/// What a purge did (or would do), one line per table.
pub fn purge_report(purged: &Purged, dry_run: bool, cutoff: chrono::NaiveDateTime) -> String {
    let (remove, erase) = if dry_run { ("would remove", "would erase") } else { ("removed", "erased") };
    let mut report = format!(
        "{remove} {} row(s) no longer needed; {erase} {} usager(s) whose mandates all ended before {}\n",
        purged.rows_removed(),
        purged.usagers_erased,
        cutoff.format("%Y-%m-%d %H:%M UTC")
    );
    for (table, count) in purged.rows() {
        report.push_str(&format!("  {table}: {count}\n"));
    }
    report
}

fn run_six_month_rule(store: &Store, dry_run: bool) -> anyhow::Result<()> {
    let at = now();
    let cutoff = maintenance::inactivity_cutoff(at)?;
    let mut conn = store.conn()?;
    let accounts = if dry_run {
        maintenance::inactive_aidants(&mut conn, at)?
    } else {
        maintenance::deactivate_inactive(&mut conn, at)?
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let verb = if dry_run { "would deactivate" } else { "deactivated" };
    writeln!(
        out,
        "{verb} {} helper account(s) with no sign-in since {}",
        accounts.len(),
        cutoff.format("%Y-%m-%d %H:%M UTC")
    )?;
    for account in &accounts {
        writeln!(out, "  {}", account_line(account))?;
    }
    if !dry_run {
        let forgotten = sign_in_delays::forget_old(&mut conn, at - chrono::Duration::days(1), at)?;
        writeln!(out, "forgot the failed sign-ins of {forgotten} account(s) and address(es) older than a day")?;
    }
    out.flush()?;
    Ok(())
}

/// `id  email  last sign-in …` (or `never signed in, created …`).
fn account_line(a: &InactiveAidant) -> String {
    let last = match a.last_sign_in_at {
        Some(at) => format!("last sign-in {}", at.format("%Y-%m-%d")),
        None => format!("never signed in, created {}", a.created_at.format("%Y-%m-%d")),
    };
    format!("{}  {}  {last}", a.aidant_id, a.email)
}
