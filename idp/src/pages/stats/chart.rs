//! Bar charts drawn as SVG on the server, one bar per month.
//!
//! Hand-written rather than taken from a charting crate: a hidden count ("fewer than 5") has no
//! height to give a plotting library without inventing a number, and the crates that lay out
//! text (charts-rs, plotters) measure it with fonts and write attributes of their own choosing,
//! where this page needs SVG that the strict CSP accepts (presentation attributes and classes,
//! no `style`). Twelve rectangles and their labels are little code.

use mandate_store::statistics::{Count, MonthCount, SMALL_COUNT_THRESHOLD};

/// The drawing's coordinate system (the SVG scales to the page width through its `viewBox`).
pub const WIDTH: i64 = 712;
pub const HEIGHT: i64 = 256;
/// Where the bars stand, and the tallest bar's top.
pub const BASELINE: i64 = 210;
const TOP: i64 = 28;
const SIDE: i64 = 8;
const BAR_WIDTH: i64 = 40;

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    /// The count is hidden: the bar outlines the "fewer than 5" zone, unfilled.
    pub hidden: bool,
    /// Centre of the bar, where its labels are anchored.
    pub centre: i64,
    pub value: String,
    pub value_y: i64,
    pub month: &'static str,
    /// The year, under the first month and under each January.
    pub year: Option<i32>,
}

pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub baseline: i64,
    pub bars: Vec<Bar>,
}

impl Chart {
    /// `value` writes an exact count; `hidden` is written above a hidden one.
    pub fn bars(
        counts: &[MonthCount],
        short_months: &[&'static str; 12],
        value: impl Fn(i64) -> String,
        hidden: &str,
    ) -> Chart {
        let slot = (WIDTH - 2 * SIDE) / (counts.len().max(1) as i64);
        let tallest = counts.iter().filter_map(|c| c.count.exact()).max().unwrap_or(0).max(SMALL_COUNT_THRESHOLD);
        let scale = |n: i64| (n * (BASELINE - TOP) + tallest / 2) / tallest;
        let bars = counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (height, hidden, text) = match c.count {
                    Count::Exact(n) => (scale(n).max(1), false, value(n)),
                    Count::FewerThan(limit) => (scale(limit), true, hidden.to_owned()),
                };
                let x = SIDE + i as i64 * slot + (slot - BAR_WIDTH) / 2;
                Bar {
                    x,
                    y: BASELINE - height,
                    width: BAR_WIDTH,
                    height,
                    hidden,
                    centre: x + BAR_WIDTH / 2,
                    value: text,
                    value_y: BASELINE - height - 6,
                    month: short_months[(c.month.month.clamp(1, 12) - 1) as usize],
                    year: (i == 0 || c.month.month == 1).then_some(c.month.year),
                }
            })
            .collect();
        Chart { width: WIDTH, height: HEIGHT, baseline: BASELINE, bars }
    }
}

/// A bar chart of a few labelled counts, one horizontal bar each (the helper figures).
pub struct Rows {
    pub width: i64,
    pub height: i64,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub label: String,
    pub label_y: i64,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub hidden: bool,
    pub value: String,
    pub value_x: i64,
    pub value_y: i64,
}

const ROW_HEIGHT: i64 = 56;
const ROW_BAR: i64 = 22;
/// Room left of the bars' end for the value written after the longest one.
const VALUE_ROOM: i64 = 96;

impl Rows {
    /// Each row's label sits above its bar; `value` writes an exact count, `hidden` a hidden one.
    pub fn of(counts: &[(String, Count)], value: impl Fn(i64) -> String, hidden: &str) -> Rows {
        let longest = counts.iter().filter_map(|(_, c)| c.exact()).max().unwrap_or(0).max(SMALL_COUNT_THRESHOLD);
        let span = WIDTH - 2 * SIDE - VALUE_ROOM;
        let scale = |n: i64| (n * span + longest / 2) / longest;
        let rows = counts
            .iter()
            .enumerate()
            .map(|(i, (label, count))| {
                let (width, hidden, text) = match *count {
                    Count::Exact(n) => (scale(n).max(1), false, value(n)),
                    Count::FewerThan(limit) => (scale(limit), true, hidden.to_owned()),
                };
                let top = i as i64 * ROW_HEIGHT;
                Row {
                    label: label.clone(),
                    label_y: top + 18,
                    x: SIDE,
                    y: top + 26,
                    width,
                    height: ROW_BAR,
                    hidden,
                    value: text,
                    value_x: SIDE + width + 8,
                    value_y: top + 26 + ROW_BAR - 6,
                }
            })
            .collect();
        Rows { width: WIDTH, height: counts.len() as i64 * ROW_HEIGHT, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_store::statistics::Month;

    fn month(month: u32, count: Count) -> MonthCount {
        MonthCount { month: Month { year: 2026, month }, count }
    }

    #[test]
    fn the_tallest_count_fills_the_height_and_a_hidden_one_shows_no_number() {
        let months = ["j", "f", "m", "a", "m", "j", "j", "a", "s", "o", "n", "d"];
        let chart = Chart::bars(
            &[month(1, Count::Exact(20)), month(2, Count::FewerThan(5)), month(3, Count::Exact(10))],
            &months,
            |n| n.to_string(),
            "< 5",
        );
        let [a, b, c] = &chart.bars[..] else { panic!("three bars") };
        assert_eq!(a.y, TOP);
        assert_eq!(c.height * 2, a.height);
        assert!(b.hidden);
        assert_eq!(b.value, "< 5");
        assert!((b.height * 4 - a.height).abs() <= 4, "the hidden zone reaches up to the threshold (to rounding)");
        assert!(a.x < b.x && b.x < c.x);
        assert_eq!(a.year, Some(2026));
        assert_eq!(b.year, None);
    }

    #[test]
    fn the_longest_row_fills_the_width_and_a_hidden_one_shows_no_number() {
        let chart = Rows::of(
            &[("a".into(), Count::Exact(40)), ("b".into(), Count::FewerThan(5)), ("c".into(), Count::Exact(20))],
            |n| n.to_string(),
            "< 5",
        );
        let [a, b, c] = &chart.rows[..] else { panic!("three rows") };
        assert_eq!(a.width, WIDTH - 2 * SIDE - VALUE_ROOM);
        assert_eq!(c.width * 2, a.width);
        assert!(b.hidden && b.value == "< 5");
        assert!(a.y < b.y && b.y < c.y);
        assert!(a.value_x + 40 < WIDTH, "the value fits after the longest bar");
    }

    #[test]
    fn with_only_hidden_counts_the_scale_is_the_threshold() {
        let months = ["j"; 12];
        let chart = Chart::bars(&[month(4, Count::FewerThan(5))], &months, |n| n.to_string(), "< 5");
        assert_eq!(chart.bars[0].y, TOP);
    }
}
