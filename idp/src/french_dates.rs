//! Dates written out in French, as a person reads them: `12 mars 1948`, and FranceConnect's
//! birth dates with unknown parts (`1948-03-00`, `1948-00-00`) said as such.

use chrono::{Datelike, NaiveDate};

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `1er mars 2026`, `12 mars 2026` (the first of the month is written `1er` in French).
pub fn date(day: NaiveDate) -> String {
    let month = MONTHS[day.month0() as usize];
    match day.day() {
        1 => format!("1er {month} {}", day.year()),
        d => format!("{d} {month} {}", day.year()),
    }
}

/// A FranceConnect birth date (`YYYY-MM-DD`, `00` for an unknown month or day) in words:
/// `24 août 1962`, `avril 1975 (jour inconnu)`, `1948 (jour et mois inconnus)`. Anything else
/// is returned as it is.
pub fn birthdate(fc: &str) -> String {
    let parts: Vec<&str> = fc.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return fc.to_owned() };
    let (Ok(year), Ok(month), Ok(day)) = (year.parse::<i32>(), month.parse::<u32>(), day.parse::<u32>()) else {
        return fc.to_owned();
    };
    match (month, day) {
        (0, _) => format!("{year} (jour et mois inconnus)"),
        (1..=12, 0) => format!("{} {year} (jour inconnu)", MONTHS[month as usize - 1]),
        _ => NaiveDate::from_ymd_opt(year, month, day).map_or_else(|| fc.to_owned(), date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_french_words() {
        assert_eq!(date(NaiveDate::from_ymd_opt(1948, 3, 12).unwrap()), "12 mars 1948");
        assert_eq!(date(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap()), "1er août 2026");
        assert_eq!(birthdate("1962-08-24"), "24 août 1962");
        assert_eq!(birthdate("1975-04-00"), "avril 1975 (jour inconnu)");
        assert_eq!(birthdate("1948-00-00"), "1948 (jour et mois inconnus)");
        assert_eq!(birthdate("1948-02-30"), "1948-02-30");
        assert_eq!(birthdate("soon"), "soon");
    }
}
