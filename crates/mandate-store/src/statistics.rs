//! Public usage figures: per month over the last twelve months (UTC), mandates created, usagers
//! helped and delegated accesses, each split by démarche, by region and by organisation type;
//! and, as of now, how many helpers are habilitated, in habilitation, and habilitated but
//! inactive.
//!
//! Each figure is one aggregate query run by the database. Grouping by month needs a date
//! function, and SQLite and PostgreSQL share none (diesel's DSL offers none either): the query
//! text is written once and only the month expression and the bind placeholder are chosen by
//! the backend ([`Dialect`]).
//!
//! No count below [`SMALL_COUNT_THRESHOLD`] ever leaves this module as a number: it becomes
//! [`Count::FewerThan`], so that no usager, helper or organisation can be singled out from the
//! published figures.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::Demarche;
use crate::error::StoreResult;
use crate::journal::JournalAction;

/// Counts below this are published as "fewer than" it.
pub const SMALL_COUNT_THRESHOLD: i64 = 5;

/// How many months the figures cover, the current one included.
pub const MONTHS: u32 = 12;

/// A published count: the number itself only when it is large enough not to point at anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Count {
    Exact(i64),
    /// Fewer than this many (always [`SMALL_COUNT_THRESHOLD`]), zero included.
    FewerThan(i64),
}

impl Count {
    /// Applies the small-count threshold to a raw count.
    pub fn published(raw: i64) -> Count {
        if raw < SMALL_COUNT_THRESHOLD {
            Count::FewerThan(SMALL_COUNT_THRESHOLD)
        } else {
            Count::Exact(raw)
        }
    }

    /// The number, when it may be shown.
    pub fn exact(self) -> Option<i64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::FewerThan(_) => None,
        }
    }
}

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    pub fn of(at: NaiveDateTime) -> Month {
        Month { year: at.year(), month: at.month() }
    }

    /// The month before this one.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month { year: self.year - 1, month: 12 }
        } else {
            Month { year: self.year, month: self.month - 1 }
        }
    }

    /// Its first instant.
    pub fn start(self) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or(NaiveDateTime::MIN)
    }

    /// `YYYY-MM`, as both backends' month expressions write it.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// The last `count` months up to and including the month of `now`, oldest first.
    pub fn last(count: u32, now: NaiveDateTime) -> Vec<Month> {
        let mut months = Vec::with_capacity(count as usize);
        let mut month = Month::of(now);
        for _ in 0..count {
            months.push(month);
            month = month.previous();
        }
        months.reverse();
        months
    }
}

/// One figure's count for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    pub month: Month,
    pub count: Count,
}

/// One figure's counts for one démarche or one region, month by month (every month listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breakdown<K> {
    pub key: K,
    pub months: Vec<MonthCount>,
}

/// One figure: month by month, and split by démarche and by region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub by_month: Vec<MonthCount>,
    /// Every démarche, in the order of [`Demarche::ALL`].
    pub by_demarche: Vec<Breakdown<Demarche>>,
    /// The regions with any activity in the period, by name.
    pub by_region: Vec<Breakdown<String>>,
    /// The organisation types with any activity in the period, by key (`france_services` …).
    pub by_organisation_type: Vec<Breakdown<String>>,
}

/// The helpers (active accounts), as of when the figures are computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelperFigures {
    /// Training and PIX recorded and a charter accepted: they may act.
    pub habilitated: Count,
    /// Something of that is still missing.
    pub in_habilitation: Count,
    /// Habilitated, but no delegated access in the last [`INACTIVE_AFTER_DAYS`] days.
    pub habilitated_inactive: Count,
}

/// A habilitated helper with no delegated access for this long counts as inactive.
pub const INACTIVE_AFTER_DAYS: i64 = 90;

/// Everything `/stats` publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// The months covered, oldest first.
    pub months: Vec<Month>,
    pub mandates_created: Figure,
    /// Distinct usagers for whom a delegated access was made (journal `authorisation_used`).
    pub usagers_helped: Figure,
    /// Delegated accesses: tokens issued to a service under a mandate (journal `authorisation_used`).
    pub delegated_accesses: Figure,
    pub helpers: HelperFigures,
    pub computed_at: NaiveDateTime,
}

/// The figures for the [`MONTHS`] months up to `now`.
pub fn compute(conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<Statistics> {
    // Two figures count journal entries: every committed one is chained first.
    crate::journal::catch_up(conn)?;
    let months = Month::last(MONTHS, now);
    let since = months[0].start();
    let dialect = Dialect::of(conn);
    let mut figure = |source: &Source| -> StoreResult<Figure> {
        Ok(Figure {
            by_month: per_month(&months, &count_rows(conn, dialect, source, None, since)?),
            by_demarche: by_demarche(&months, count_rows(conn, dialect, source, Some(source.demarche), since)?),
            by_region: by_key(&months, count_rows(conn, dialect, source, Some(source.region), since)?),
            by_organisation_type: by_key(
                &months,
                count_rows(conn, dialect, source, Some(source.organisation_type), since)?,
            ),
        })
    };
    Ok(Statistics {
        mandates_created: figure(&MANDATES_CREATED)?,
        usagers_helped: figure(&USAGERS_HELPED)?,
        delegated_accesses: figure(&DELEGATED_ACCESSES)?,
        helpers: helper_figures(conn, dialect, now)?,
        months,
        computed_at: now,
    })
}

/// Where a figure is counted from: `{month}` and `{since}` are filled in by the [`Dialect`].
struct Source {
    /// The aggregate.
    count: &'static str,
    /// `FROM … WHERE …`, with `{since}` for the start of the period.
    from: &'static str,
    /// The timestamp whose month counts.
    at: &'static str,
    demarche: Split,
    region: Split,
    organisation_type: Split,
}

/// A second grouping: the extra joins it needs and the column it groups by.
#[derive(Clone, Copy)]
struct Split {
    join: &'static str,
    key: &'static str,
}

const MANDATES_CREATED: Source = Source {
    count: "COUNT(*)",
    from: "FROM mandates m {join} WHERE m.created_at >= {since}",
    at: "m.created_at",
    // One authorisation per démarche of a mandate: counting them counts mandates per démarche.
    demarche: Split { join: "JOIN authorisations a ON a.mandate_id = m.id", key: "a.demarche" },
    region: Split { join: "JOIN organisations o ON o.id = m.organisation_id", key: "o.region" },
    organisation_type: Split { join: "JOIN organisations o ON o.id = m.organisation_id", key: "o.organisation_type" },
};

const USAGERS_HELPED: Source = Source {
    count: "COUNT(DISTINCT j.usager_id)",
    from: "FROM journal_entries j {join} WHERE j.action = 'authorisation_used' AND j.created_at >= {since}",
    at: "j.created_at",
    demarche: Split { join: "", key: "j.demarche" },
    // The journal names organisations by id without a foreign key: an inner join leaves out
    // entries whose organisation is gone.
    region: Split { join: "JOIN organisations o ON o.id = j.organisation_id", key: "o.region" },
    organisation_type: Split { join: "JOIN organisations o ON o.id = j.organisation_id", key: "o.organisation_type" },
};

const DELEGATED_ACCESSES: Source = Source {
    count: "COUNT(*)",
    from: USAGERS_HELPED.from,
    at: USAGERS_HELPED.at,
    demarche: USAGERS_HELPED.demarche,
    region: USAGERS_HELPED.region,
    organisation_type: USAGERS_HELPED.organisation_type,
};

/// What differs between the backends: how to take a timestamp's month, how to write a bind.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(conn: &DbConnection) -> Dialect {
        match conn {
            DbConnection::Sqlite(_) => Dialect::Sqlite,
            DbConnection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// `YYYY-MM` of a timestamp column. SQLite stores diesel timestamps as ISO text; PostgreSQL's
    /// `to_char` does not depend on the session's `DateStyle`.
    fn month_of(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("strftime('%Y-%m', {column})"),
            Dialect::Postgres => format!("to_char({column}, 'YYYY-MM')"),
        }
    }

    fn first_bind(self) -> &'static str {
        match self {
            Dialect::Sqlite => "?",
            Dialect::Postgres => "$1",
        }
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Raw counts per month (and per split key), straight from one aggregate query.
fn count_rows(
    conn: &mut DbConnection,
    dialect: Dialect,
    source: &Source,
    split: Option<Split>,
    since: NaiveDateTime,
) -> StoreResult<Vec<Row>> {
    let month = dialect.month_of(source.at);
    // Without a split every row has the same empty key, so that one row type serves all
    // (PostgreSQL refuses a constant in GROUP BY: it is grouped by the month alone).
    let (join, key, group_by) = match split {
        Some(s) => (s.join, s.key, format!("{month}, {}", s.key)),
        None => ("", "''", month.clone()),
    };
    let from = source.from.replace("{join}", join).replace("{since}", dialect.first_bind());
    let count = source.count;
    let sql = format!("SELECT {month} AS month, {key} AS key, {count} AS n {from} GROUP BY {group_by}");
    Ok(diesel::sql_query(sql).bind::<Timestamp, _>(since).load(conn)?)
}

fn find(rows: &[Row], month: Month, key: &str) -> i64 {
    let month = month.key();
    rows.iter().filter(|r| r.month == month && r.key == key).map(|r| r.n).sum()
}

fn per_month(months: &[Month], rows: &[Row]) -> Vec<MonthCount> {
    months.iter().map(|&month| MonthCount { month, count: Count::published(find(rows, month, "")) }).collect()
}

fn by_demarche(months: &[Month], rows: Vec<Row>) -> Vec<Breakdown<Demarche>> {
    Demarche::ALL
        .into_iter()
        .map(|demarche| Breakdown {
            key: demarche,
            months: months
                .iter()
                .map(|&month| MonthCount { month, count: Count::published(find(&rows, month, demarche.key())) })
                .collect(),
        })
        .collect()
}

/// One breakdown per key present in the rows (regions, organisation types), in key order.
fn by_key(months: &[Month], rows: Vec<Row>) -> Vec<Breakdown<String>> {
    let mut regions: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    regions.sort();
    regions.dedup();
    regions
        .into_iter()
        .map(|region| Breakdown {
            months: months
                .iter()
                .map(|&month| MonthCount { month, count: Count::published(find(&rows, month, &region)) })
                .collect(),
            key: region,
        })
        .collect()
}

/// Habilitated: training and PIX dates recorded and a charter accepted (a newer charter version
/// is asked for at sign-in; it does not make a helper unhabilitated for the figures).
const HABILITATED: &str = "a.training_date IS NOT NULL AND a.pix_date IS NOT NULL AND a.charter_version IS NOT NULL";

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The helper figures, one aggregate query each, over active accounts.
fn helper_figures(conn: &mut DbConnection, dialect: Dialect, now: NaiveDateTime) -> StoreResult<HelperFigures> {
    let query = |condition: &str| format!("SELECT COUNT(*) AS n FROM aidants a WHERE a.active = TRUE AND {condition}");
    let habilitated: Total = diesel::sql_query(query(HABILITATED)).get_result(conn)?;
    let in_habilitation: Total = diesel::sql_query(query(&format!("NOT ({HABILITATED})"))).get_result(conn)?;
    let inactive = query(&format!(
        "{HABILITATED} AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.aidant_id = a.id \
         AND j.action = '{}' AND j.created_at >= {})",
        COUNTED_ACTION.key(),
        dialect.first_bind()
    ));
    let cutoff = now - Duration::days(INACTIVE_AFTER_DAYS);
    let habilitated_inactive: Total = diesel::sql_query(inactive).bind::<Timestamp, _>(cutoff).get_result(conn)?;
    Ok(HelperFigures {
        habilitated: Count::published(habilitated.n),
        in_habilitation: Count::published(in_habilitation.n),
        habilitated_inactive: Count::published(habilitated_inactive.n),
    })
}

/// The action the two journal figures count, kept beside the SQL that names it.
pub const COUNTED_ACTION: JournalAction = JournalAction::AuthorisationUsed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_hides_four_and_shows_five() {
        assert_eq!(Count::published(0), Count::FewerThan(5));
        assert_eq!(Count::published(4), Count::FewerThan(5));
        assert_eq!(Count::published(5), Count::Exact(5));
        assert_eq!(Count::published(4).exact(), None);
    }

    #[test]
    fn the_last_twelve_months_cross_the_year() {
        let now = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let months = Month::last(12, now);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], Month { year: 2025, month: 4 });
        assert_eq!(months[11], Month { year: 2026, month: 3 });
        assert_eq!(months[0].key(), "2025-04");
        assert_eq!(months[0].start().to_string(), "2025-04-01 00:00:00");
    }

    #[test]
    fn the_counted_action_is_the_one_in_the_sql() {
        assert!(USAGERS_HELPED.from.contains(&format!("'{}'", COUNTED_ACTION.key())));
    }
}
