//! `idp journal list`: the journal read back by an operator, filtered and page by page, for
//! people (text), for scripts (JSON) or for a spreadsheet (CSV).

use std::io::Write;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use mandate_store::journal::{self, JournalAction, JournalEntry, JournalFilter, Page};
use mandate_store::Store;

/// How `idp journal list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JournalFormat {
    /// One line per entry, for people.
    Text,
    /// A JSON array of entries, for scripts.
    Json,
    /// A header row, then one row per entry, for a spreadsheet.
    Csv,
}

/// `idp journal list`'s options. Filters combine: an entry is listed when it matches them all.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Dates: --since and --until take a day (YYYY-MM-DD, the whole day in UTC) or an RFC 3339
instant (2026-11-28T14:30:00Z, 2026-11-28T15:30:00+01:00). --since is inclusive; --until is
inclusive of a day and exclusive of an instant: `--since 2026-11-01 --until 2026-11-30` is all
of November.
Pages: the newest entries come first; when older ones remain, standard error says which
--before to give for the next page.")]
pub struct JournalList {
    /// Only entries of this organisation (its id).
    #[arg(long)]
    pub organisation: Option<String>,
    /// Only entries of this helper (the aidant's id).
    #[arg(long)]
    pub aidant: Option<String>,
    /// Only entries about this usager (the usager's id).
    #[arg(long)]
    pub usager: Option<String>,
    /// Only this action.
    #[arg(long, value_parser = action_values())]
    pub action: Option<JournalAction>,
    /// Entries from this day or instant on (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<NaiveDateTime>,
    /// Entries up to this day (included) or before this instant (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub until: Option<NaiveDateTime>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..))]
    pub limit: i64,
    /// Only entries older than this one (its seq): the next page.
    #[arg(long, value_name = "SEQ", value_parser = clap::value_parser!(i64).range(1..))]
    pub before: Option<i64>,
    #[arg(long, value_enum, default_value_t = JournalFormat::Text)]
    pub format: JournalFormat,
}

/// The actions, as `--action` takes them; clap lists them in the help and in its error.
fn action_values() -> impl TypedValueParser<Value = JournalAction> {
    PossibleValuesParser::new(JournalAction::ALL.map(|a| PossibleValue::new(a.key())))
        .try_map(|key| key.parse::<JournalAction>())
}

const DATE_EXPECTED: &str = "expected a day YYYY-MM-DD or an RFC 3339 instant such as 2026-11-28T14:30:00Z";

/// A day or an instant, in UTC.
enum DateBound {
    Day(NaiveDate),
    Instant(NaiveDateTime),
}

fn parse_date(raw: &str) -> Result<DateBound, String> {
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(DateBound::Day(day));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|at| DateBound::Instant(at.naive_utc()))
        .map_err(|_| format!("{raw:?}: {DATE_EXPECTED}"))
}

/// A day starts at its midnight (UTC).
pub(crate) fn parse_since(raw: &str) -> Result<NaiveDateTime, String> {
    Ok(match parse_date(raw)? {
        DateBound::Day(day) => day.and_time(chrono::NaiveTime::MIN),
        DateBound::Instant(at) => at,
    })
}

/// A day is covered whole: the exclusive bound is the next day's midnight (UTC).
fn parse_until(raw: &str) -> Result<NaiveDateTime, String> {
    Ok(match parse_date(raw)? {
        DateBound::Day(day) => day
            .checked_add_days(Days::new(1))
            .ok_or_else(|| format!("{raw:?}: the day after is out of range"))?
            .and_time(chrono::NaiveTime::MIN),
        DateBound::Instant(at) => at,
    })
}

pub fn list(store: &Store, args: JournalList) -> anyhow::Result<()> {
    let filter = JournalFilter {
        organisation_id: args.organisation,
        aidant_id: args.aidant,
        usager_id: args.usager,
        action: args.action,
        since: args.since,
        until: args.until,
    };
    let page = journal::search(&mut *store.conn()?, &filter, Page { before_seq: args.before, limit: args.limit })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        // The shape `idp journal list` always printed: an array of entries.
        JournalFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&page.entries)?)?,
        JournalFormat::Csv => crate::journal_export::write_csv(&mut out, &page.entries)?,
        JournalFormat::Text if page.entries.is_empty() => writeln!(out, "no journal entry")?,
        JournalFormat::Text => {
            for entry in &page.entries {
                writeln!(out, "{}", entry_line(entry))?;
            }
        }
    }
    out.flush()?;
    // On standard error, so that JSON and CSV on standard output stay whole.
    if let Some(before) = page.next_before_seq {
        eprintln!("older entries remain: add --before {before} for the next page");
    }
    Ok(())
}

/// `seq  when  action  name id …`, naming only the ids the entry holds.
fn entry_line(e: &JournalEntry) -> String {
    let mut line = format!("{:>6}  {}  {}", e.seq, e.created_at.format("%Y-%m-%d %H:%M:%S UTC"), e.action);
    let ids = [
        ("organisation", &e.organisation_id),
        ("aidant", &e.aidant_id),
        ("usager", &e.usager_id),
        ("mandate", &e.mandate_id),
        ("authorisation", &e.authorisation_id),
        ("client", &e.client_id),
    ];
    for (name, id) in ids {
        if let Some(id) = id {
            line.push_str(&format!("  {name} {id}"));
        }
    }
    if let Some(demarche) = e.demarche {
        line.push_str(&format!("  demarche {demarche}"));
    }
    if let Some(details) = &e.details {
        line.push_str(&format!("  {}", details_summary(details.value())));
    }
    line
}

/// The details in one short line: `key=value` for plain values and lists of them, `key=…` for
/// nested ones (an attestation's per-field hashes would fill a screen; JSON and CSV keep all).
fn details_summary(details: &serde_json::Value) -> String {
    use serde_json::Value;
    fn plain(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(_) | Value::Bool(_) | Value::Null => Some(value.to_string()),
            Value::Array(items) => items.iter().map(plain).collect::<Option<Vec<_>>>().map(|v| v.join(",")),
            Value::Object(_) => None,
        }
    }
    match details {
        Value::Object(fields) => fields
            .iter()
            .map(|(key, value)| format!("{key}={}", plain(value).unwrap_or_else(|| "…".to_owned())))
            .collect::<Vec<_>>()
            .join(" "),
        other => plain(other).unwrap_or_else(|| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn a_day_covers_the_whole_day_in_utc() {
        assert_eq!(parse_since("2026-11-28").unwrap(), at(2026, 11, 28, 0, 0));
        assert_eq!(parse_until("2026-11-28").unwrap(), at(2026, 11, 29, 0, 0));
        assert_eq!(parse_until("2026-12-31").unwrap(), at(2027, 1, 1, 0, 0));
    }

    #[test]
    fn an_instant_is_taken_in_utc_as_given() {
        assert_eq!(parse_since("2026-11-28T15:30:00+01:00").unwrap(), at(2026, 11, 28, 14, 30));
        assert_eq!(parse_until("2026-11-28T14:30:00Z").unwrap(), at(2026, 11, 28, 14, 30));
    }

    #[test]
    fn details_are_summed_up_on_one_line() {
        let details = serde_json::json!({
            "demarches": ["papiers", "social"],
            "duration": "long",
            "field_sha256": {"usager.id": "ab12"},
            "remote": false,
        });
        assert_eq!(details_summary(&details), "demarches=papiers,social duration=long field_sha256=… remote=false");
    }

    #[test]
    fn a_bad_date_says_what_is_expected() {
        for raw in ["28/11/2026", "2026-11-31", "2026-11-28 14:30", "yesterday"] {
            let err = parse_since(raw).unwrap_err();
            assert!(err.contains("YYYY-MM-DD") && err.contains("RFC 3339"), "{raw}: {err}");
        }
    }
}
