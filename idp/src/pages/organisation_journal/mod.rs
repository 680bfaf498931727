//! `/structure/journal`: the journal of the manager's current organisation, in words, filtered by
//! helper, usager, action and dates, page by page, and exported as CSV with the same filters
//! (the export is journalled). Only entries recorded for that organisation are ever read.

pub mod texts;
pub mod words;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Days, NaiveDate, NaiveTime};
use mandate_store::journal::names::{self, Named, Names};
use mandate_store::journal::{self, JournalAction, JournalEntry, JournalFilter, NewEntry, Page};
use mandate_store::{now, DbConnection};
use serde::{Deserialize, Serialize};

pub use texts::JournalTexts;

use super::helper_space::SpaceHeader;
use crate::blocking::with_conn;
use crate::web::dates::long_date_time;
use crate::web::{html_with_status, AppState, CheckedForm, Frame, Lang, PageError, SignedInManager, Texts};

/// Entries per page.
pub const PAGE_SIZE: i64 = 20;
/// Entries read per query when exporting.
const EXPORT_BATCH: i64 = 1_000;

/// The filters as the form sends them (query string of the page, fields of the export form).
/// Every field is text here; [`Filters::parse`] says what is wrong with it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct JournalQuery {
    #[serde(default)]
    pub aidant: String,
    #[serde(default)]
    pub usager: String,
    #[serde(default)]
    pub action: String,
    /// First day (included), `JJ/MM/AAAA` as typed, or `AAAA-MM-JJ` (the export form's copy).
    #[serde(default)]
    pub du: String,
    /// Last day (included).
    #[serde(default)]
    pub au: String,
    /// The next page: entries older than this one.
    #[serde(default)]
    pub avant: String,
}

/// Filters checked against the organisation's helpers and usagers.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub aidant_id: Option<String>,
    pub usager_id: Option<String>,
    pub action: Option<JournalAction>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub before_seq: Option<i64>,
}

/// A day as typed or sent by a date field.
fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y")).ok()
}

impl Filters {
    /// The filters, or every reason they are not valid, in words.
    pub fn parse(
        q: &JournalQuery,
        helpers: &[Named],
        usagers: &[Named],
        j: &'static JournalTexts,
    ) -> Result<Filters, Vec<String>> {
        let mut errors = Vec::new();
        let mut filters = Filters::default();
        let (aidant, usager, action) = (q.aidant.trim(), q.usager.trim(), q.action.trim());
        if !aidant.is_empty() {
            match helpers.iter().find(|h| h.id == aidant) {
                Some(h) => filters.aidant_id = Some(h.id.clone()),
                None => errors.push(j.unknown_helper.to_owned()),
            }
        }
        if !usager.is_empty() {
            match usagers.iter().find(|u| u.id == usager) {
                Some(u) => filters.usager_id = Some(u.id.clone()),
                None => errors.push(j.unknown_usager.to_owned()),
            }
        }
        if !action.is_empty() {
            match action.parse::<JournalAction>() {
                Ok(a) => filters.action = Some(a),
                Err(_) => errors.push(j.unknown_action.to_owned()),
            }
        }
        for (raw, slot, name) in [(&q.du, &mut filters.from, j.from), (&q.au, &mut filters.to, j.to)] {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            match parse_day(raw) {
                Some(day) => *slot = Some(day),
                None => errors.push(j.bad_date.replace("{field}", name).replace("{value}", raw)),
            }
        }
        if let (Some(from), Some(to)) = (filters.from, filters.to) {
            if from > to {
                errors.push(j.from_after_to.to_owned());
            }
        }
        let before = q.avant.trim();
        if !before.is_empty() {
            match before.parse::<i64>() {
                Ok(seq) if seq >= 1 => filters.before_seq = Some(seq),
                _ => errors.push(j.bad_page.to_owned()),
            }
        }
        if errors.is_empty() {
            Ok(filters)
        } else {
            Err(errors)
        }
    }

    /// The store's filter, for this organisation only: whatever the form says, the organisation
    /// is the manager's current one.
    fn for_organisation(&self, organisation_id: &str) -> JournalFilter {
        let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN);
        JournalFilter {
            organisation_id: Some(organisation_id.to_owned()),
            aidant_id: self.aidant_id.clone(),
            usager_id: self.usager_id.clone(),
            action: self.action,
            since: self.from.map(midnight),
            // The last day is included: up to the next day's midnight, excluded.
            until: self.to.and_then(|d| d.checked_add_days(Days::new(1))).map(midnight),
        }
    }

    /// The filters in a link or the export form (without the page).
    fn query(&self) -> JournalQuery {
        JournalQuery {
            aidant: self.aidant_id.clone().unwrap_or_default(),
            usager: self.usager_id.clone().unwrap_or_default(),
            action: self.action.map(|a| a.key().to_owned()).unwrap_or_default(),
            du: self.from.map(|d| d.to_string()).unwrap_or_default(),
            au: self.to.map(|d| d.to_string()).unwrap_or_default(),
            avant: String::new(),
        }
    }

    /// What the export's journal entry records: the filters given, by id and key.
    fn as_details(&self, entries: usize) -> serde_json::Value {
        let mut filters = serde_json::Map::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                filters.insert(key.to_owned(), value.into());
            }
        };
        put("aidant_id", self.aidant_id.clone());
        put("usager_id", self.usager_id.clone());
        put("action", self.action.map(|a| a.key().to_owned()));
        put("from", self.from.map(|d| d.to_string()));
        put("to", self.to.map(|d| d.to_string()));
        serde_json::json!({ "format": "csv", "entries": entries, "filters": filters })
    }
}

/// One entry as the page shows it.
pub struct Row {
    pub when: String,
    pub sentence: String,
    pub action: &'static str,
}

/// An option of a filter: (value, label, selected).
pub type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "journal/page.html")]
pub struct JournalPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub j: &'static JournalTexts,
    pub helpers: Vec<Choice>,
    pub usagers: Vec<Choice>,
    pub actions: Vec<Choice>,
    /// The dates as typed, to show them again.
    pub from: String,
    pub to: String,
    pub errors: Vec<String>,
    pub rows: Vec<Row>,
    /// The filters, for the export form and the page links.
    pub filters: JournalQuery,
    pub filtered: bool,
    /// `?…` of the next (older) page.
    pub older: Option<String>,
    /// Whether this is not the newest page.
    pub paged: bool,
    /// `?…` of the newest page with the same filters.
    pub newest: String,
}

/// One page of entries for valid filters, with the names they mention.
struct Found {
    filters: Filters,
    entries: Vec<JournalEntry>,
    next_before_seq: Option<i64>,
    names: Names,
}

/// What the page read for one request: the filters' choices, then entries or what is wrong.
struct Loaded {
    helpers: Vec<Named>,
    usagers: Vec<Named>,
    outcome: Result<Found, Vec<String>>,
}

/// The names of the helpers (actors, and managers named in `details.by`), usagers and services
/// a page mentions.
fn names_of(conn: &mut DbConnection, entries: &[JournalEntry]) -> Result<Names, PageError> {
    let mut aidants: Vec<String> = entries.iter().filter_map(|e| e.aidant_id.clone()).collect();
    aidants.extend(entries.iter().filter_map(|e| {
        e.details.as_ref().and_then(|d| d.value().get("by")).and_then(|v| v.as_str()).map(str::to_owned)
    }));
    let mut usagers: Vec<String> = entries.iter().filter_map(|e| e.usager_id.clone()).collect();
    let mut clients: Vec<String> = entries.iter().filter_map(|e| e.client_id.clone()).collect();
    for list in [&mut aidants, &mut usagers, &mut clients] {
        list.sort();
        list.dedup();
    }
    Ok(names::names(conn, &aidants, &usagers, &clients)?)
}

async fn load(
    state: &AppState,
    organisation_id: String,
    query: JournalQuery,
    j: &'static JournalTexts,
) -> Result<Loaded, PageError> {
    with_conn(&state.store, move |conn| {
        let helpers = names::helpers_of(conn, &organisation_id)?;
        let usagers = names::usagers_of(conn, &organisation_id)?;
        let outcome = match Filters::parse(&query, &helpers, &usagers, j) {
            Err(errors) => Err(errors),
            Ok(filters) => {
                let page = journal::search(
                    conn,
                    &filters.for_organisation(&organisation_id),
                    Page { before_seq: filters.before_seq, limit: PAGE_SIZE },
                )?;
                let names = names_of(conn, &page.entries)?;
                Ok(Found { filters, entries: page.entries, next_before_seq: page.next_before_seq, names })
            }
        };
        Ok::<_, PageError>(Loaded { helpers, usagers, outcome })
    })
    .await
}

fn link(query: &JournalQuery) -> String {
    let encoded = serde_html_form::to_string(query).unwrap_or_default();
    format!("?{encoded}")
}

async fn render(
    req: &HttpRequest,
    manager: &SignedInManager,
    state: &AppState,
    query: JournalQuery,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&manager.helper, state, req).await?;
    let lang = header.lang;
    let j = JournalTexts::of(lang);
    let loaded = load(state, manager.organisation_id().to_owned(), query.clone(), j).await?;
    let choices = |people: &[Named], selected: &str| -> Vec<Choice> {
        people.iter().map(|p| (p.id.clone(), p.name.clone(), p.id == selected)).collect()
    };
    let helpers = choices(&loaded.helpers, query.aidant.trim());
    let usagers = choices(&loaded.usagers, query.usager.trim());
    let actions = JournalAction::ALL
        .iter()
        .map(|a| (a.key().to_owned(), words::label(*a, lang).to_owned(), a.key() == query.action.trim()))
        .collect();
    let (status, errors, rows, filters, filtered, older) = match loaded.outcome {
        Err(errors) => (StatusCode::BAD_REQUEST, errors, Vec::new(), JournalQuery::default(), false, None),
        Ok(Found { filters, entries, next_before_seq: next, names }) => {
            let rows = entries
                .iter()
                .map(|e| Row {
                    when: long_date_time(lang, e.created_at),
                    sentence: words::sentence(e, &names, lang),
                    action: words::label(e.action, lang),
                })
                .collect();
            let base = filters.query();
            let older = next.map(|seq| link(&JournalQuery { avant: seq.to_string(), ..base.clone() }));
            let filtered = filters.aidant_id.is_some()
                || filters.usager_id.is_some()
                || filters.action.is_some()
                || filters.from.is_some()
                || filters.to.is_some();
            (StatusCode::OK, Vec::new(), rows, base, filtered, older)
        }
    };
    // Shown again as French writes a day, whichever way it came.
    let normalised =
        |raw: &str| parse_day(raw.trim()).map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_else(|| raw.to_owned());
    let page = JournalPage {
        t: lang.texts(),
        frame: &header.frame,
        header: &header,
        j,
        helpers,
        usagers,
        actions,
        from: normalised(&query.du),
        to: normalised(&query.au),
        errors,
        rows,
        filtered,
        older,
        paged: !query.avant.trim().is_empty(),
        newest: link(&filters),
        filters,
    };
    html_with_status(status, &page)
}

/// `GET /structure/journal`: the page, newest entries first.
pub async fn page(
    req: HttpRequest,
    manager: SignedInManager,
    query: web::Query<JournalQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    render(&req, &manager, &state, query.into_inner()).await
}

/// `POST /structure/journal/export`: every entry the filters select, as CSV (the columns of
/// `idp journal list --format csv`), then journalled. Invalid filters give the page with its
/// errors.
pub async fn export(
    req: HttpRequest,
    manager: SignedInManager,
    form: CheckedForm<JournalQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let query = JournalQuery { avant: String::new(), ..form.fields };
    let j = JournalTexts::of(Lang::of_browser(&req));
    let (organisation_id, manager_id) = (manager.organisation_id().to_owned(), manager.aidant_id().to_owned());
    let q = query.clone();
    let exported = with_conn(&state.store, move |conn| {
        let helpers = names::helpers_of(conn, &organisation_id)?;
        let usagers = names::usagers_of(conn, &organisation_id)?;
        let Ok(filters) = Filters::parse(&q, &helpers, &usagers, j) else { return Ok::<_, PageError>(None) };
        let filter = filters.for_organisation(&organisation_id);
        let mut entries = Vec::new();
        let mut page = Page::first(EXPORT_BATCH);
        loop {
            let found = journal::search(conn, &filter, page)?;
            entries.extend(found.entries);
            match found.next_before_seq {
                Some(before) => page.before_seq = Some(before),
                None => break,
            }
        }
        let mut csv = Vec::new();
        crate::journal_export::write_csv(&mut csv, &entries).map_err(|e| {
            tracing::error!(error = %e, "journal export");
            PageError::Logged
        })?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::JournalExported)
                .aidant(&manager_id)
                .organisation(&organisation_id)
                .details(filters.as_details(entries.len())),
            now(),
        )?;
        Ok(Some(csv))
    })
    .await?;
    let Some(csv) = exported else { return render(&req, &manager, &state, query).await };
    let filename = format!("journal-{}.csv", now().format("%Y-%m-%d"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(id: &str) -> Named {
        Named { id: id.into(), name: format!("Helper {id}") }
    }

    #[test]
    fn filters_are_checked_and_each_error_said() {
        let j = JournalTexts::of(Lang::Fr);
        let q = JournalQuery {
            aidant: "a1".into(),
            action: "authorisation_used".into(),
            du: "28/11/2026".into(),
            au: "2026-11-30".into(),
            ..Default::default()
        };
        let f = Filters::parse(&q, &[helper("a1")], &[], j).unwrap();
        let store = f.for_organisation("org");
        assert_eq!(store.organisation_id.as_deref(), Some("org"));
        assert_eq!(store.since.unwrap().to_string(), "2026-11-28 00:00:00");
        assert_eq!(store.until.unwrap().to_string(), "2026-12-01 00:00:00", "the last day whole");

        let bad = JournalQuery {
            aidant: "someone-else".into(),
            usager: "u9".into(),
            action: "drop_table".into(),
            du: "31/02/2026".into(),
            au: "demain".into(),
            avant: "-4".into(),
        };
        let errors = Filters::parse(&bad, &[helper("a1")], &[], j).unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("« 31/02/2026 »")), "{errors:?}");
        let reversed = JournalQuery { du: "2026-12-01".into(), au: "2026-11-01".into(), ..Default::default() };
        assert_eq!(Filters::parse(&reversed, &[], &[], j).unwrap_err(), [j.from_after_to]);
    }
}
