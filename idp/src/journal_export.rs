//! The journal as CSV, for a spreadsheet: written by `idp journal list --format csv` and by the
//! manager's export (`/structure/journal`). Ids only, as the journal holds no names.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (OWASP's "CSV
//! injection"; tab and carriage return too): such a cell is written with a `'` before it, so
//! that a value chosen by someone (a service's client id) is shown, never run.

use std::borrow::Cow;
use std::io::Write;

use chrono::SecondsFormat;
use mandate_store::journal::JournalEntry;
use serde::Serialize;

/// One CSV row; the field names are the header row, in this order.
#[derive(Serialize)]
struct Row<'a> {
    seq: i64,
    /// RFC 3339 in UTC, to the microsecond as stored.
    created_at: String,
    action: &'static str,
    aidant_id: Cow<'a, str>,
    organisation_id: Cow<'a, str>,
    usager_id: Cow<'a, str>,
    mandate_id: Cow<'a, str>,
    authorisation_id: Cow<'a, str>,
    demarche: &'static str,
    client_id: Cow<'a, str>,
    /// The stored JSON text, byte for byte (what the entry's hash covers); a JSON object or
    /// array never needs the formula guard.
    details: Cow<'a, str>,
    hash: &'a str,
}

/// A cell a spreadsheet shows as text: `'` before a value it would take for a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

fn optional(value: &Option<String>) -> Cow<'_, str> {
    cell(value.as_deref().unwrap_or_default())
}

impl<'a> From<&'a JournalEntry> for Row<'a> {
    fn from(e: &'a JournalEntry) -> Row<'a> {
        Row {
            seq: e.seq,
            created_at: e.created_at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true),
            action: e.action.key(),
            aidant_id: optional(&e.aidant_id),
            organisation_id: optional(&e.organisation_id),
            usager_id: optional(&e.usager_id),
            mandate_id: optional(&e.mandate_id),
            authorisation_id: optional(&e.authorisation_id),
            demarche: e.demarche.map(|d| d.key()).unwrap_or_default(),
            client_id: optional(&e.client_id),
            details: cell(e.details.as_ref().map(|d| d.as_str()).unwrap_or_default()),
            hash: &e.hash,
        }
    }
}

/// Writes a header row, then one row per entry, in the order given. An absent id is an empty
/// cell. The header is written even when there is no entry, so an empty export still says
/// what its columns are.
pub fn write_csv<W: Write>(out: W, entries: &[JournalEntry]) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    if entries.is_empty() {
        writer.write_record(HEADER)?;
    }
    for entry in entries {
        writer.serialize(Row::from(entry))?;
    }
    writer.flush()?;
    Ok(())
}

/// The columns, as the header row names them.
pub const HEADER: [&str; 12] = [
    "seq",
    "created_at",
    "action",
    "aidant_id",
    "organisation_id",
    "usager_id",
    "mandate_id",
    "authorisation_id",
    "demarche",
    "client_id",
    "details",
    "hash",
];

#[cfg(test)]
mod tests {
    use mandate_store::journal::{JournalAction, JournalDetails};
    use mandate_store::Demarche;

    use super::*;

    fn entry() -> JournalEntry {
        JournalEntry {
            seq: 7,
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
                .unwrap()
                .and_hms_micro_opt(14, 30, 5, 123_456)
                .unwrap(),
            action: JournalAction::AuthorisationUsed,
            aidant_id: Some("aidant-1".into()),
            organisation_id: Some("org-1".into()),
            usager_id: None,
            mandate_id: Some("mandate-1".into()),
            authorisation_id: None,
            demarche: Some(Demarche::Argent),
            client_id: Some("impots".into()),
            details: Some(JournalDetails::new(serde_json::json!({"reason": "a, \"quoted\" one"}))),
            prev_hash: "0".repeat(64),
            hash: "ab".repeat(32),
        }
    }

    fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
    }

    #[test]
    fn header_then_one_row_per_entry_with_details_quoted_as_stored() {
        let mut out = Vec::new();
        write_csv(&mut out, &[entry()]).unwrap();
        let rows = rows(&out);
        assert_eq!(rows[0], HEADER);
        assert_eq!(
            rows[1],
            [
                "7",
                "2026-11-28T14:30:05.123456Z",
                "authorisation_used",
                "aidant-1",
                "org-1",
                "",
                "mandate-1",
                "",
                "argent",
                "impots",
                r#"{"reason":"a, \"quoted\" one"}"#,
                &"ab".repeat(32),
            ]
        );
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text() {
        let mut formula = entry();
        formula.client_id = Some("=HYPERLINK(\"http://evil.example\",\"x\")".into());
        formula.aidant_id = Some("@SUM(1)".into());
        formula.usager_id = Some("-2+3".into());
        formula.mandate_id = Some("+33".into());
        let mut out = Vec::new();
        write_csv(&mut out, &[formula]).unwrap();
        let row = &rows(&out)[1];
        assert_eq!(row[3], "'@SUM(1)");
        assert_eq!(row[5], "'-2+3");
        assert_eq!(row[6], "'+33");
        assert_eq!(row[9], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(row[4], "org-1", "other cells as they are");
        assert_eq!(cell("a=b"), "a=b");
        assert_eq!(cell("\t=1"), "'\t=1");
    }

    #[test]
    fn an_empty_export_still_has_its_header() {
        let mut out = Vec::new();
        write_csv(&mut out, &[]).unwrap();
        assert_eq!(rows(&out), [HEADER]);
    }
}
