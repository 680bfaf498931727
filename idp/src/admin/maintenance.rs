//! `idp maintenance`: the daily upkeep an operator schedules (a systemd timer or a cron line).
//! Helper accounts with no sign-in for six months are deactivated; failed sign-ins older than a
//! day with no wait running are forgotten (their rows hold client addresses).

use std::io::Write;

use mandate_store::maintenance::{self, InactiveAidant};
use mandate_store::sign_in_delays;
use mandate_store::{now, Store};

/// `idp maintenance`'s options.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Run it once a day. It deactivates every active helper account with no sign-in for six
calendar months (counted from the account's creation when it never signed in), one journal
entry per account; running it again changes nothing. A manager of the helper's organisation
(or `idp` as operator) can reactivate the account.")]
pub struct MaintenanceArgs {
    /// List the accounts that would be deactivated, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(store: &Store, args: MaintenanceArgs) -> anyhow::Result<()> {
    let at = now();
    let cutoff = maintenance::inactivity_cutoff(at)?;
    let mut conn = store.conn()?;
    let accounts = if args.dry_run {
        maintenance::inactive_aidants(&mut conn, at)?
    } else {
        maintenance::deactivate_inactive(&mut conn, at)?
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let verb = if args.dry_run { "would deactivate" } else { "deactivated" };
    writeln!(
        out,
        "{verb} {} helper account(s) with no sign-in since {}",
        accounts.len(),
        cutoff.format("%Y-%m-%d %H:%M UTC")
    )?;
    for account in &accounts {
        writeln!(out, "  {}", account_line(account))?;
    }
    if !args.dry_run {
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
