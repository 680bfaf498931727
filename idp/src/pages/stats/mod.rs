//! `/stats`: the public usage statistics, without sign-in. Tables and server-drawn SVG charts of
//! the figures the store computes (never a count below the small-count threshold). The figures
//! are kept in memory for ten minutes by each replica and the page may be cached as long by
//! browsers and proxies.

pub mod chart;
pub mod texts;

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::now;
use mandate_store::statistics::{self, Count, Figure, HelperFigures, Month, MonthCount, Statistics};

pub use chart::{Chart, Rows};
pub use texts::StatsTexts;

use crate::blocking::with_conn;
use crate::web::dates::{long_date_time, MONTHS_EN, MONTHS_FR};
use crate::web::{AppState, Frame, Lang, PageError, Texts};

/// How long a replica keeps the figures, and how long the page may be cached.
pub const CACHE_LIFETIME: Duration = Duration::from_secs(600);

/// A table with one column per month: a figure split by démarche or by region.
pub struct MonthTable {
    pub id: String,
    pub caption: String,
    pub key_header: &'static str,
    pub months: Vec<String>,
    /// (démarche or region, one count per month)
    pub rows: Vec<(String, Vec<String>)>,
}

/// One figure as the page shows it.
pub struct FigureView {
    /// Prefix of the element ids (chart caption, tables).
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub chart: Chart,
    pub chart_caption: String,
    /// (month in words, count)
    pub per_month: Vec<(String, String)>,
    pub by_demarche: MonthTable,
    pub by_region: MonthTable,
    pub by_organisation_type: MonthTable,
}

/// The helper figures: a chart of three rows and the same in a table.
pub struct HelpersView {
    pub chart: Rows,
    /// (what is counted, count)
    pub rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "stats/page.html")]
pub struct StatsPage {
    pub t: &'static Texts,
    /// Anonymous whoever asks: the page is public and cached as such.
    pub frame: Frame,
    pub s: &'static StatsTexts,
    pub computed_on: String,
    pub figures: Vec<FigureView>,
    pub helpers: HelpersView,
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let lang = Lang::of_browser(&req);
    let figures = match state.statistics.fresh() {
        Some(figures) => figures,
        None => {
            let computed =
                with_conn(&state.store, |conn| Ok::<_, PageError>(statistics::compute(conn, now())?)).await?;
            state.statistics.keep(computed)
        }
    };
    let body = StatsPage::of(&figures, lang).render()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page holds no session, form or personal data: anyone may keep it as long as the
        // figures are kept here. It differs by the language cookie.
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", CACHE_LIFETIME.as_secs())))
        .insert_header((header::VARY, "Cookie"))
        .body(body))
}

impl StatsPage {
    pub fn of(figures: &Statistics, lang: Lang) -> StatsPage {
        let s = StatsTexts::of(lang);
        let view = |id, title, description, figure: &Figure| FigureView::of(id, title, description, figure, lang, s);
        StatsPage {
            t: lang.texts(),
            frame: Frame::anonymous(lang),
            s,
            computed_on: long_date_time(lang, figures.computed_at),
            figures: vec![
                view("mandats", s.mandates_title, s.mandates_description, &figures.mandates_created),
                view("personnes", s.usagers_title, s.usagers_description, &figures.usagers_helped),
                view("connexions", s.accesses_title, s.accesses_description, &figures.delegated_accesses),
            ],
            helpers: HelpersView::of(&figures.helpers, s),
        }
    }
}

impl HelpersView {
    fn of(figures: &HelperFigures, s: &'static StatsTexts) -> HelpersView {
        let counts = [
            (s.habilitated.to_owned(), figures.habilitated),
            (s.in_habilitation.to_owned(), figures.in_habilitation),
            (s.habilitated_inactive.to_owned(), figures.habilitated_inactive),
        ];
        HelpersView {
            chart: Rows::of(&counts, |n| number(n, s.thousands), s.fewer_than_short),
            rows: counts.into_iter().map(|(label, count)| (label, written(count, s))).collect(),
        }
    }
}

impl FigureView {
    /// The figure split by démarche, then by region, then by organisation type.
    pub fn splits(&self) -> [&MonthTable; 3] {
        [&self.by_demarche, &self.by_region, &self.by_organisation_type]
    }

    fn of(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        figure: &Figure,
        lang: Lang,
        s: &'static StatsTexts,
    ) -> FigureView {
        let count = |c: Count| written(c, s);
        let months: Vec<Month> = figure.by_month.iter().map(|m| m.month).collect();
        let short_months: Vec<String> =
            months.iter().map(|m| format!("{} {}", s.short_months[month_index(*m)], m.year)).collect();
        let table = |suffix: &str, split: &str, key_header, rows: Vec<(String, &[MonthCount])>| MonthTable {
            id: format!("{id}-{suffix}"),
            caption: format!("{title}, {split}"),
            key_header,
            months: short_months.clone(),
            rows: rows
                .into_iter()
                .map(|(key, counts)| (key, counts.iter().map(|c| count(c.count)).collect()))
                .collect(),
        };
        FigureView {
            id,
            title,
            description,
            chart: Chart::bars(&figure.by_month, &s.short_months, |n| number(n, s.thousands), s.fewer_than_short),
            chart_caption: format!("{title}, {}", s.per_month),
            per_month: figure.by_month.iter().map(|m| (long_month(m.month, lang), count(m.count))).collect(),
            by_demarche: table(
                "demarches",
                s.by_demarche,
                s.demarche,
                figure.by_demarche.iter().map(|b| (lang.demarche_label(b.key).to_owned(), &b.months[..])).collect(),
            ),
            by_region: table(
                "regions",
                s.by_region,
                s.region,
                figure.by_region.iter().map(|b| (b.key.clone(), &b.months[..])).collect(),
            ),
            by_organisation_type: table(
                "types",
                s.by_organisation_type,
                s.organisation_type,
                figure.by_organisation_type.iter().map(|b| (s.organisation_type_name(&b.key), &b.months[..])).collect(),
            ),
        }
    }
}

fn month_index(month: Month) -> usize {
    (month.month.clamp(1, 12) - 1) as usize
}

/// `novembre 2026`.
fn long_month(month: Month, lang: Lang) -> String {
    let names = match lang {
        Lang::Fr => &MONTHS_FR,
        Lang::En => &MONTHS_EN,
    };
    format!("{} {}", names[month_index(month)], month.year)
}

/// A published count in words: the number, or "fewer than 5".
fn written(count: Count, s: &StatsTexts) -> String {
    match count {
        Count::Exact(n) => number(n, s.thousands),
        Count::FewerThan(_) => s.fewer_than.to_owned(),
    }
}

/// `12 345` in French (narrow no-break space), `12,345` in English.
fn number(n: i64, thousands: char) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(thousands);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(5, ','), "5");
        assert_eq!(number(1234, ','), "1,234");
        assert_eq!(number(1234567, '\u{202f}'), "1\u{202f}234\u{202f}567");
        assert_eq!(number(123456, ','), "123,456");
    }

    #[test]
    fn a_small_count_is_written_in_words_only() {
        let s = StatsTexts::of(Lang::Fr);
        assert_eq!(written(Count::Exact(12), s), "12");
        assert_eq!(written(Count::FewerThan(5), s), "moins de 5");
    }
}
