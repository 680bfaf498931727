//! `idp card import FILE.csv`: physical TOTP cards from the supplier's file, one card a line
//! (`serial,secret`, a header line optional). Every bad line is reported with its number, and
//! nothing is imported unless every line is good.

use std::collections::HashMap;
use std::io::Read;

use mandate_store::{cards, now, second_factors, DbConnection};

/// A line of the file that cannot be imported, with why.
#[derive(Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// A card as the file gives it: serial and base32 secret.
pub type Card = (String, String);

/// The cards of a file, or every line that is wrong.
pub type Parsed = Result<Vec<Card>, Vec<BadLine>>;

/// The cards of a CSV file, or every line that is wrong. Cards already in the store count as
/// wrong lines too (`known` says whether a serial is).
pub fn parse(input: impl Read, mut known: impl FnMut(&str) -> anyhow::Result<bool>) -> anyhow::Result<Parsed> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut cards: Vec<Card> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut bad = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(index as u64 + 1, |p| p.line());
                bad.push(BadLine { line, reason: format!("unreadable: {e}") });
                continue;
            }
        };
        let line = record.position().map_or(index as u64 + 1, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        if index == 0 && fields.len() >= 2 && fields[0].eq_ignore_ascii_case("serial") {
            continue;
        }
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if fields.len() != 2 {
            bad.push(BadLine { line, reason: format!("expected 2 columns (serial,secret), found {}", fields.len()) });
            continue;
        }
        let serial = match cards::valid_serial(fields[0]) {
            Ok(serial) => serial,
            Err(e) => {
                bad.push(BadLine { line, reason: e.to_string() });
                continue;
            }
        };
        let secret = match second_factors::valid_secret(fields[1]) {
            Ok(secret) => secret,
            Err(e) => {
                bad.push(BadLine { line, reason: format!("card {serial}: {e}") });
                continue;
            }
        };
        if let Some(first) = seen.get(&serial) {
            bad.push(BadLine { line, reason: format!("card {serial} is already on line {first}") });
            continue;
        }
        if known(&serial)? {
            bad.push(BadLine { line, reason: format!("card {serial} is already imported") });
            continue;
        }
        seen.insert(serial.clone(), line);
        cards.push((serial, secret));
    }
    Ok(if bad.is_empty() { Ok(cards) } else { Err(bad) })
}

/// Imports the file's cards; prints how many, or fails naming every bad line.
pub fn import(
    conn: &mut DbConnection,
    keys: &dyn mandate_store::sealing::SealingKeys,
    input: impl Read,
) -> anyhow::Result<usize> {
    let parsed = parse(input, |serial| Ok(cards::exists(conn, serial)?))?;
    match parsed {
        Ok(found) if found.is_empty() => anyhow::bail!("no card in the file"),
        Ok(found) => Ok(cards::import(conn, keys, &found, now())?),
        Err(bad) => {
            let lines: Vec<String> = bad.iter().map(ToString::to_string).collect();
            anyhow::bail!("nothing imported, {} bad line(s):\n{}", bad.len(), lines.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    #[test]
    fn a_header_is_optional_and_secrets_are_normalised() {
        let with = parse(format!("serial,secret\nC-1,{SECRET}\nC-2, jbsw y3dp ehpk 3pxp \n").as_bytes(), |_| Ok(false));
        let without = parse(format!("C-1,{SECRET}\n\nC-2,jbswy3dpehpk3pxp\n").as_bytes(), |_| Ok(false));
        let expected = vec![("C-1".to_string(), SECRET.to_string()), ("C-2".to_string(), SECRET.to_string())];
        assert_eq!(with.unwrap().unwrap(), expected);
        assert_eq!(without.unwrap().unwrap(), expected);
    }

    #[test]
    fn every_bad_line_is_named_with_its_number() {
        let file = format!("serial,secret\nC-1,{SECRET}\nC-2,not-base32!\nC-1,{SECRET}\nC-3\nC-9,{SECRET}\n");
        let bad = parse(file.as_bytes(), |serial| Ok(serial == "C-9")).unwrap().unwrap_err();
        let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6], "{bad:?}");
        assert!(bad[1].reason.contains("already on line 2"), "{}", bad[1]);
        assert!(bad[3].reason.contains("already imported"), "{}", bad[3]);
    }
}
