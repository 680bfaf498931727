//! Reading the journal back: who did what for whom and when, filtered and page by page.
//!
//! One query per page, on both backends. Pages are cut on `seq` (keyset pagination), not with
//! an offset: entries appended while someone reads page after page go to the top and never
//! push an entry from one page onto the next, so nothing is shown twice or skipped.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{JournalAction, JournalEntry};
use crate::db::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::journal_entries;

/// Which entries to read. Every field left `None` lets all entries through; the ones set
/// must all hold (they are combined with "and").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    pub organisation_id: Option<String>,
    pub aidant_id: Option<String>,
    pub usager_id: Option<String>,
    pub action: Option<JournalAction>,
    /// Entries recorded at or after this instant (UTC): the bound is inclusive.
    pub since: Option<NaiveDateTime>,
    /// Entries recorded strictly before this instant (UTC): the bound is exclusive, so that
    /// `since = day 00:00, until = next day 00:00` is exactly one day and consecutive ranges
    /// never share an entry.
    pub until: Option<NaiveDateTime>,
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only entries older than this one (its `seq`, exclusive); `None` for the newest page.
    /// Pass the previous page's [`JournalPage::next_before_seq`].
    pub before_seq: Option<i64>,
    /// At most this many entries (at least 1).
    pub limit: i64,
}

impl Page {
    /// The newest `limit` entries.
    pub fn first(limit: i64) -> Page {
        Page { before_seq: None, limit }
    }
}

/// One page of entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalPage {
    pub entries: Vec<JournalEntry>,
    /// The `before_seq` of the next (older) page; `None` when this page holds the oldest
    /// matching entry.
    pub next_before_seq: Option<i64>,
}

/// The entries that match `filter`, newest first, one page at a time.
pub fn search(conn: &mut DbConnection, filter: &JournalFilter, page: Page) -> StoreResult<JournalPage> {
    if page.limit < 1 {
        return Err(StoreError::InvalidField {
            field: "limit",
            reason: format!("a page holds at least 1 entry, not {}", page.limit),
        });
    }
    super::catch_up(conn)?;
    let mut query = journal_entries::table.select(JournalEntry::as_select()).into_boxed();
    if let Some(id) = &filter.organisation_id {
        query = query.filter(journal_entries::organisation_id.eq(id.clone()));
    }
    if let Some(id) = &filter.aidant_id {
        query = query.filter(journal_entries::aidant_id.eq(id.clone()));
    }
    if let Some(id) = &filter.usager_id {
        query = query.filter(journal_entries::usager_id.eq(id.clone()));
    }
    if let Some(action) = filter.action {
        query = query.filter(journal_entries::action.eq(action));
    }
    if let Some(since) = filter.since {
        query = query.filter(journal_entries::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(journal_entries::created_at.lt(until));
    }
    if let Some(before) = page.before_seq {
        query = query.filter(journal_entries::seq.lt(before));
    }
    // One row more than asked tells whether an older page exists, without a second query.
    let mut entries: Vec<JournalEntry> =
        query.order(journal_entries::seq.desc()).limit(page.limit.saturating_add(1)).load(conn)?;
    let next_before_seq = if entries.len() as i64 > page.limit {
        entries.truncate(page.limit as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(JournalPage { entries, next_before_seq })
}
