//! Progressive delays after failed sign-ins, shared by every replica.
//!
//! Each attempt at a sign-in step (password, one-time code) is *claimed* before the password or
//! code is checked: one conditional update counts it as a failure unless the account is held
//! back, and decides the delay the next attempt must wait. So forty guesses sent at once are
//! counted one by one, and those past the free failures are refused without being checked; a
//! success then deletes what it counted. Two rows count for each attempt: the account from this
//! source (strict: a few free failures), and the account from every source together (looser), so
//! that a stranger guessing from elsewhere holds back their own address long before the helper's.
//!
//! Accounts are keyed by a hash of the e-mail as typed, known or not, so that an unknown e-mail
//! is held back exactly like a known one and the answers never tell them apart. No e-mail and no
//! account id is stored here. Why this shape: `docs/decisions/0016-sign-in-abuse.md`.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::domain::Email;
use crate::error::{StoreError, StoreResult};
use crate::schema::sign_in_delays;

/// The sign-in steps that count failures, each on its own: a helper who knows their password
/// and mistypes codes is held back at the code, and a correct password does not clear the
/// code's failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInStep {
    Password,
    OneTimeCode,
}

impl SignInStep {
    pub fn key(self) -> &'static str {
        match self {
            SignInStep::Password => "password",
            SignInStep::OneTimeCode => "one_time_code",
        }
    }
}

/// The `source` of the row that counts every source of an account together.
pub const EVERY_SOURCE: &str = "*";

/// The key of an account in this table: SHA-256 of the e-mail as [`Email::parse`] normalises it
/// (or, when it is no e-mail at all, trimmed and in lower case).
pub fn account_key(typed_email: &str) -> String {
    let normalised =
        Email::parse(typed_email).map_or_else(|_| typed_email.trim().to_lowercase(), |e| e.as_str().into());
    crate::secret_hash(&normalised)
}

/// How many failures are free, and how long each further one makes the next attempt wait: the
/// first delay after the last free failure, doubled at each failure, never longer than
/// `longest_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRule {
    pub free_failures: i32,
    pub first_delay: Duration,
    pub longest_delay: Duration,
}

impl DelayRule {
    /// The wait after the `failures`-th failure in a row, if any.
    pub fn delay_after(&self, failures: i32) -> Option<Duration> {
        let beyond = failures - self.free_failures;
        if beyond < 0 {
            return None;
        }
        // 2^beyond, without overflowing: the longest delay is reached long before 2^20.
        let doubled = self.first_delay.checked_mul(1 << beyond.min(20)).unwrap_or(self.longest_delay);
        Some(doubled.min(self.longest_delay))
    }
}

/// The rules of one step: from one source, and from every source together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRules {
    pub per_source: DelayRule,
    pub per_account: DelayRule,
    /// Failures older than this, with no wait running, are forgotten.
    pub forget_after: Duration,
}

/// What a claimed attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Check the password or code. The attempt is already counted as a failure; `hold` is the
    /// wait it started, which holds if it fails and is lifted by [`succeeded`].
    Counted { hold: Option<NaiveDateTime> },
    /// Held back until then: refuse without checking anything.
    HeldBack { until: NaiveDateTime },
}

/// One row, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sign_in_delays)]
pub struct Delay {
    pub source: String,
    pub failures: i32,
    pub held_until: Option<NaiveDateTime>,
    pub last_failure_at: NaiveDateTime,
}

/// Why a claim's transaction ends without counting anything.
enum ClaimStop {
    HeldBack,
    Store(StoreError),
}

impl From<diesel::result::Error> for ClaimStop {
    fn from(e: diesel::result::Error) -> Self {
        ClaimStop::Store(e.into())
    }
}

impl From<StoreError> for ClaimStop {
    fn from(e: StoreError) -> Self {
        ClaimStop::Store(e)
    }
}

/// Claims an attempt at `step` for `account` (see [`account_key`]) from `source`.
pub fn claim(
    conn: &mut DbConnection,
    step: SignInStep,
    account: &str,
    source: &str,
    rules: &DelayRules,
    now: NaiveDateTime,
) -> StoreResult<Attempt> {
    let counted = [(source, rules.per_source), (EVERY_SOURCE, rules.per_account)];
    // A row deleted by a success between our insert and our update is made again: a few
    // rounds at most, and only when a success and a failure cross.
    for _ in 0..5 {
        for (source, _) in counted {
            ensure_row(conn, step, account, source, now)?;
        }
        let outcome = write_transaction(conn, |conn| {
            let mut hold = None;
            for (source, rule) in counted {
                let row = || sign_in_delays::table.find((step.key(), account, source));
                // Failures long past, with no wait running, start again from nothing.
                diesel::update(
                    row()
                        .filter(sign_in_delays::last_failure_at.lt(now - rules.forget_after))
                        .filter(sign_in_delays::held_until.is_null().or(sign_in_delays::held_until.le(now))),
                )
                .set((sign_in_delays::failures.eq(0), sign_in_delays::held_until.eq(None::<NaiveDateTime>)))
                .execute(conn)?;
                // The conditional write that decides: it counts the attempt only if no wait is
                // running. On PostgreSQL it takes the row's lock until commit, so a concurrent
                // claim waits, then finds the wait set below and counts nothing.
                let counted = diesel::update(
                    row().filter(sign_in_delays::held_until.is_null().or(sign_in_delays::held_until.le(now))),
                )
                .set((
                    sign_in_delays::failures.eq(sign_in_delays::failures + 1),
                    sign_in_delays::last_failure_at.eq(now),
                ))
                .execute(conn)?;
                if counted == 0 {
                    return Err(ClaimStop::HeldBack);
                }
                let failures: i32 = row().select(sign_in_delays::failures).first(conn)?;
                if let Some(delay) = rule.delay_after(failures) {
                    let until = now + delay;
                    diesel::update(row()).set(sign_in_delays::held_until.eq(Some(until))).execute(conn)?;
                    hold = hold.max(Some(until));
                }
            }
            Ok(hold)
        });
        match outcome {
            Ok(hold) => return Ok(Attempt::Counted { hold }),
            Err(ClaimStop::Store(e)) => return Err(e),
            Err(ClaimStop::HeldBack) => {
                if let Some(until) = held_until(conn, step, account, source, now)? {
                    return Ok(Attempt::HeldBack { until });
                }
            }
        }
    }
    Err(StoreError::Connection("sign-in delays: the claim kept crossing concurrent sign-ins".into()))
}

/// Makes the row if there is none (two claims may insert at once: the second insert fails on
/// the primary key, which is what we want). Outside any transaction: on PostgreSQL a failed
/// insert would end the transaction it is in.
fn ensure_row(
    conn: &mut DbConnection,
    step: SignInStep,
    account: &str,
    source: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let exists: bool = diesel::select(diesel::dsl::exists(sign_in_delays::table.find((step.key(), account, source))))
        .get_result(conn)?;
    if exists {
        return Ok(());
    }
    let inserted = diesel::insert_into(sign_in_delays::table)
        .values((
            sign_in_delays::step.eq(step.key()),
            sign_in_delays::account.eq(account),
            sign_in_delays::source.eq(source),
            sign_in_delays::failures.eq(0),
            sign_in_delays::last_failure_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) | Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Until when `account` is held back at `step` from `source` (its own row or the account's), if
/// it is at `now`.
pub fn held_until(
    conn: &mut DbConnection,
    step: SignInStep,
    account: &str,
    source: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<NaiveDateTime>> {
    let until: Vec<Option<NaiveDateTime>> = sign_in_delays::table
        .filter(sign_in_delays::step.eq(step.key()))
        .filter(sign_in_delays::account.eq(account))
        .filter(sign_in_delays::source.eq(source).or(sign_in_delays::source.eq(EVERY_SOURCE)))
        .filter(sign_in_delays::held_until.gt(now))
        .select(sign_in_delays::held_until)
        .load(conn)?;
    Ok(until.into_iter().flatten().max())
}

/// A successful attempt from `source`: its failures, there and for the account, are cleared.
/// Another source's failures stay (they are someone else's guesses, or the helper's elsewhere).
pub fn succeeded(conn: &mut DbConnection, step: SignInStep, account: &str, source: &str) -> StoreResult<()> {
    // One row after the other, in the order claims lock them, so that the two never deadlock.
    for source in [source, EVERY_SOURCE] {
        diesel::delete(sign_in_delays::table.find((step.key(), account, source))).execute(conn)?;
    }
    Ok(())
}

/// The latest wait running for `account` at any step from any source, if one is: what a
/// manager sees as a helper kept out.
pub fn account_held_until(
    conn: &mut DbConnection,
    account: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<NaiveDateTime>> {
    let until: Vec<Option<NaiveDateTime>> = sign_in_delays::table
        .filter(sign_in_delays::account.eq(account))
        .filter(sign_in_delays::held_until.gt(now))
        .select(sign_in_delays::held_until)
        .load(conn)?;
    Ok(until.into_iter().flatten().max())
}

/// Forgets every failure of `account`, at every step and from every source (a manager's
/// unlocking). Returns how many rows went.
pub fn lift(conn: &mut DbConnection, account: &str) -> StoreResult<usize> {
    Ok(diesel::delete(sign_in_delays::table.filter(sign_in_delays::account.eq(account))).execute(conn)?)
}

/// The rows of `account` at `step`, the account's own (`*`) included: what tests and operators
/// read.
pub fn of_account(conn: &mut DbConnection, step: SignInStep, account: &str) -> StoreResult<Vec<Delay>> {
    Ok(sign_in_delays::table
        .filter(sign_in_delays::step.eq(step.key()))
        .filter(sign_in_delays::account.eq(account))
        .order(sign_in_delays::source.asc())
        .select(Delay::as_select())
        .load(conn)?)
}

/// Deletes the rows whose last failure is older than `before` and whose wait is over (daily
/// upkeep: an address kept only as long as it may still be held back). Returns how many.
/// How many rows [`forget_old`] would delete.
pub fn count_old(conn: &mut DbConnection, before: NaiveDateTime, now: NaiveDateTime) -> StoreResult<i64> {
    Ok(sign_in_delays::table
        .filter(sign_in_delays::last_failure_at.lt(before))
        .filter(sign_in_delays::held_until.is_null().or(sign_in_delays::held_until.le(now)))
        .count()
        .get_result(conn)?)
}

pub fn forget_old(conn: &mut DbConnection, before: NaiveDateTime, now: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(
        sign_in_delays::table
            .filter(sign_in_delays::last_failure_at.lt(before))
            .filter(sign_in_delays::held_until.is_null().or(sign_in_delays::held_until.le(now))),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_first_after_the_free_failures_up_to_the_longest() {
        let rule =
            DelayRule { free_failures: 5, first_delay: Duration::seconds(30), longest_delay: Duration::minutes(15) };
        let delays: Vec<Option<i64>> = (1..=12).map(|n| rule.delay_after(n).map(|d| d.num_seconds())).collect();
        assert_eq!(
            delays,
            [
                None,
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(rule.delay_after(i32::MAX), Some(Duration::minutes(15)));
    }

    #[test]
    fn accounts_are_keyed_by_the_normalised_email() {
        assert_eq!(account_key(" Aidant.Demo@Example.fr "), account_key("aidant.demo@example.fr"));
        assert_ne!(account_key("aidant.demo@example.fr"), account_key("autre@example.fr"));
        assert_eq!(account_key("pas une adresse"), account_key("PAS UNE ADRESSE"));
    }
}
