//! Dates as people read them: `12 mars 1948` in French, `12 March 1948` in English. Birth dates
//! come in FranceConnect's format, where `00` marks an unknown day or month: the unknown part is
//! left out (`mars 1948`, `1948`), never shown as a zero.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::i18n::Lang;

/// Month names, as the pages and the attestation write them.
pub const MONTHS_FR: [&str; 12] = [
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
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(lang: Lang, month: u32) -> &'static str {
    let names = match lang {
        Lang::Fr => &MONTHS_FR,
        Lang::En => &MONTHS_EN,
    };
    names[(month.clamp(1, 12) - 1) as usize]
}

/// `12 mars 1948` (and `1er mars 1948`, as French writes the first of the month).
pub fn long_date(lang: Lang, date: NaiveDate) -> String {
    let day = match (lang, date.day()) {
        (Lang::Fr, 1) => "1er".to_owned(),
        (_, d) => d.to_string(),
    };
    format!("{day} {} {}", month_name(lang, date.month()), date.year())
}

/// The day of a timestamp (UTC), in words.
pub fn long_day(lang: Lang, at: NaiveDateTime) -> String {
    long_date(lang, at.date())
}

/// A timestamp (UTC) with its time: `12 mars 2026 à 14 h 05` (`12 March 2026 at 14:05 UTC`).
pub fn long_date_time(lang: Lang, at: NaiveDateTime) -> String {
    use chrono::Timelike;
    match lang {
        Lang::Fr => format!("{} à {} h {:02} (UTC)", long_date(lang, at.date()), at.hour(), at.minute()),
        Lang::En => format!("{} at {:02}:{:02} UTC", long_date(lang, at.date()), at.hour(), at.minute()),
    }
}

/// A stored instant (UTC) as a person in France reads it, in Paris time with summer time:
/// `12 mars 2026 à 14 h 05`. For pages read by usagers, who should not convert from UTC.
pub fn paris_date_time(at: NaiveDateTime) -> String {
    use chrono::{TimeZone, Timelike};
    let paris = chrono_tz::Europe::Paris.from_utc_datetime(&at);
    format!("{} à {} h {:02}", long_date(Lang::Fr, paris.date_naive()), paris.hour(), paris.minute())
}

/// A FranceConnect birth date (`YYYY-MM-DD`, `00` for an unknown month or day) in words; the
/// raw text when it is not one.
pub fn birthdate(lang: Lang, raw: &str) -> String {
    let parts: Vec<u32> = raw.split('-').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [year, 0, _] => year.to_string(),
        [year, month, 0] if (1..=12).contains(month) => format!("{} {year}", month_name(lang, *month)),
        [year, month, day] => match NaiveDate::from_ymd_opt(*year as i32, *month, *day) {
            Some(date) => long_date(lang, date),
            None => raw.to_owned(),
        },
        _ => raw.to_owned(),
    }
}

/// A FranceConnect birth date in words with its unknown parts said: `avril 1975 (jour inconnu)`,
/// `1948 (jour et mois inconnus)`; where a reader must not take a missing day for an oversight.
pub fn birthdate_with_unknowns(lang: Lang, raw: &str) -> String {
    let said = birthdate(lang, raw);
    let unknown = match raw.split('-').collect::<Vec<_>>().as_slice() {
        [_, "00", _] => Some(("jour et mois inconnus", "day and month unknown")),
        [_, _, "00"] => Some(("jour inconnu", "day unknown")),
        _ => None,
    };
    match (unknown, lang) {
        (Some((fr, _)), Lang::Fr) => format!("{said} ({fr})"),
        (Some((_, en)), Lang::En) => format!("{said} ({en})"),
        (None, _) => said,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdates_leave_out_unknown_parts() {
        assert_eq!(birthdate(Lang::Fr, "1948-03-12"), "12 mars 1948");
        assert_eq!(birthdate(Lang::Fr, "1962-08-01"), "1er août 1962");
        assert_eq!(birthdate(Lang::Fr, "1975-04-00"), "avril 1975");
        assert_eq!(birthdate(Lang::Fr, "1948-00-00"), "1948");
        assert_eq!(birthdate(Lang::En, "1948-03-12"), "12 March 1948");
        assert_eq!(birthdate(Lang::Fr, "nonsense"), "nonsense");
        assert_eq!(birthdate_with_unknowns(Lang::Fr, "1975-04-00"), "avril 1975 (jour inconnu)");
        assert_eq!(birthdate_with_unknowns(Lang::Fr, "1948-00-00"), "1948 (jour et mois inconnus)");
        assert_eq!(birthdate_with_unknowns(Lang::En, "1948-00-00"), "1948 (day and month unknown)");
        assert_eq!(birthdate_with_unknowns(Lang::Fr, "1948-03-12"), "12 mars 1948");
    }

    #[test]
    fn timestamps_read_in_words() {
        let at = NaiveDate::from_ymd_opt(2027, 5, 30).unwrap().and_hms_opt(9, 5, 0).unwrap();
        assert_eq!(long_day(Lang::Fr, at), "30 mai 2027");
        assert_eq!(long_date_time(Lang::Fr, at), "30 mai 2027 à 9 h 05 (UTC)");
        // Paris is UTC+2 in summer and UTC+1 in winter, across midnight too.
        assert_eq!(paris_date_time(at), "30 mai 2027 à 11 h 05");
        let winter_night = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap().and_hms_opt(23, 30, 0).unwrap();
        assert_eq!(paris_date_time(winter_night), "1er janvier 2027 à 0 h 30");
    }
}
