//! Validated values, parsed once at the edge: a value of these types cannot be wrong.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// A SIRET: 14 digits whose Luhn checksum holds (La Poste's establishments, SIREN 356000000,
/// use the sum of digits modulo 5 instead, per INSEE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Siret(String);

const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    pub fn parse(raw: &str) -> Result<Siret, StoreError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StoreError::InvalidSiret(raw.to_owned()));
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) && digits != "35600000000048" {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0
        } else {
            luhn_valid(&digits)
        };
        if valid {
            Ok(Siret(digits))
        } else {
            Err(StoreError::InvalidSiret(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of formality a mandate covers (the mandate scopes).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "lowercase")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Demarche {
    Papiers,
    Famille,
    Social,
    Travail,
    Logement,
    Transports,
    Argent,
    Justice,
    Etranger,
    Loisirs,
}

impl Demarche {
    pub const ALL: [Demarche; 10] = [
        Demarche::Papiers,
        Demarche::Famille,
        Demarche::Social,
        Demarche::Travail,
        Demarche::Logement,
        Demarche::Transports,
        Demarche::Argent,
        Demarche::Justice,
        Demarche::Etranger,
        Demarche::Loisirs,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Demarche::Papiers => "papiers",
            Demarche::Famille => "famille",
            Demarche::Social => "social",
            Demarche::Travail => "travail",
            Demarche::Logement => "logement",
            Demarche::Transports => "transports",
            Demarche::Argent => "argent",
            Demarche::Justice => "justice",
            Demarche::Etranger => "etranger",
            Demarche::Loisirs => "loisirs",
        }
    }

    /// The label shown to people (the service's own wording).
    pub fn label_fr(self) -> &'static str {
        match self {
            Demarche::Papiers => "Papiers - Citoyenneté",
            Demarche::Famille => "Famille - Scolarité",
            Demarche::Social => "Social - Santé",
            Demarche::Travail => "Travail - Formation",
            Demarche::Logement => "Logement",
            Demarche::Transports => "Transports - Mobilité",
            Demarche::Argent => "Argent - Impôts - Consommation",
            Demarche::Justice => "Justice",
            Demarche::Etranger => "Étranger",
            Demarche::Loisirs => "Loisirs - Sports - Culture",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Demarche::Papiers => "Identity papers - Citizenship",
            Demarche::Famille => "Family - Schooling",
            Demarche::Social => "Social benefits - Health",
            Demarche::Travail => "Work - Training",
            Demarche::Logement => "Housing",
            Demarche::Transports => "Transport - Mobility",
            Demarche::Argent => "Money - Taxes - Consumer affairs",
            Demarche::Justice => "Justice",
            Demarche::Etranger => "Foreigners",
            Demarche::Loisirs => "Leisure - Sports - Culture",
        }
    }
}

/// The démarches of a mandate or a draft: sorted, each once, at least one.
pub fn demarche_set(mut demarches: Vec<Demarche>) -> Result<Vec<Demarche>, StoreError> {
    demarches.sort();
    demarches.dedup();
    if demarches.is_empty() {
        return Err(StoreError::InvalidField {
            field: "demarches",
            reason: "at least one démarche is required".into(),
        });
    }
    Ok(demarches)
}

impl FromStr for Demarche {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Demarche::ALL.into_iter().find(|d| d.key() == s).ok_or_else(|| StoreError::UnknownDemarche(s.to_owned()))
    }
}

crate::text_enum_column!(Demarche, "demarche");

impl fmt::Display for Demarche {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

crate::json_list_column! {
    /// Démarches, stored as a JSON array of their keys.
    pub struct DemarcheList(pub Vec<Demarche>) in "clients.demarches, mandate_drafts.demarches or organisations.demarches";
}

crate::keyed_enum! {
    /// What kind of body an organisation is (the public statistics group by it).
    pub enum OrganisationType in "organisation_type" {
        FranceServices = "france_services",
        /// Centre communal d'action sociale.
        Ccas = "ccas",
        Mairie = "mairie",
        Departement = "departement",
        Association = "association",
        Other = "other",
    }
}

impl OrganisationType {
    pub fn label_fr(self) -> &'static str {
        match self {
            OrganisationType::FranceServices => "France Services",
            OrganisationType::Ccas => "CCAS",
            OrganisationType::Mairie => "Mairie",
            OrganisationType::Departement => "Département",
            OrganisationType::Association => "Association",
            OrganisationType::Other => "Autre",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            OrganisationType::FranceServices => "France Services",
            OrganisationType::Ccas => "Municipal social action centre (CCAS)",
            OrganisationType::Mairie => "Town hall",
            OrganisationType::Departement => "Département",
            OrganisationType::Association => "Association",
            OrganisationType::Other => "Other",
        }
    }
}

/// A region, by its INSEE code (code officiel géographique, regions since 2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
}

/// Each region with its departments (INSEE codes). Saint-Pierre-et-Miquelon (975) is a
/// collectivité d'outre-mer, in no region: it stands as its own, under its own code, so that an
/// organisation there is counted apart rather than refused.
const REGIONS: &[(Region, &[&str])] = &[
    (Region { code: "01", name: "Guadeloupe" }, &["971"]),
    (Region { code: "02", name: "Martinique" }, &["972"]),
    (Region { code: "03", name: "Guyane" }, &["973"]),
    (Region { code: "04", name: "La Réunion" }, &["974"]),
    (Region { code: "06", name: "Mayotte" }, &["976"]),
    (Region { code: "11", name: "Île-de-France" }, &["75", "77", "78", "91", "92", "93", "94", "95"]),
    (Region { code: "24", name: "Centre-Val de Loire" }, &["18", "28", "36", "37", "41", "45"]),
    (Region { code: "27", name: "Bourgogne-Franche-Comté" }, &["21", "25", "39", "58", "70", "71", "89", "90"]),
    (Region { code: "28", name: "Normandie" }, &["14", "27", "50", "61", "76"]),
    (Region { code: "32", name: "Hauts-de-France" }, &["02", "59", "60", "62", "80"]),
    (Region { code: "44", name: "Grand Est" }, &["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"]),
    (Region { code: "52", name: "Pays de la Loire" }, &["44", "49", "53", "72", "85"]),
    (Region { code: "53", name: "Bretagne" }, &["22", "29", "35", "56"]),
    (
        Region { code: "75", name: "Nouvelle-Aquitaine" },
        &["16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"],
    ),
    (
        Region { code: "76", name: "Occitanie" },
        &["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"],
    ),
    (
        Region { code: "84", name: "Auvergne-Rhône-Alpes" },
        &["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
    ),
    (Region { code: "93", name: "Provence-Alpes-Côte d'Azur" }, &["04", "05", "06", "13", "83", "84"]),
    (Region { code: "94", name: "Corse" }, &["2A", "2B"]),
    (Region { code: "975", name: "Saint-Pierre-et-Miquelon" }, &["975"]),
];

/// An INSEE department code: `01`–`19`, `21`–`95`, `2A`, `2B` (Corsica has no `20` since
/// 1976), `971`–`976` overseas. Its region follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Department {
    code: &'static str,
    region: Region,
}

impl Department {
    /// Accepts the code as written on a form: `2a` and ` 75 ` are `2A` and `75`; a single digit
    /// (`1`) is not a code.
    pub fn parse(raw: &str) -> Result<Department, StoreError> {
        let wanted = raw.trim().to_ascii_uppercase();
        REGIONS
            .iter()
            .find_map(|(region, departments)| {
                departments.iter().find(|code| **code == wanted).map(|code| Department { code, region: *region })
            })
            .ok_or_else(|| StoreError::UnknownDepartment(raw.to_owned()))
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn region(&self) -> Region {
        self.region
    }
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// How long a mandate lasts. `Custom` is a fixed expiry date (the real service had one for
/// the end of the health emergency); it is never offered on the mandate form.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "lowercase")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum DurationKind {
    Short,
    Month,
    Semester,
    Long,
    Custom,
}

impl DurationKind {
    pub fn key(self) -> &'static str {
        match self {
            DurationKind::Short => "short",
            DurationKind::Month => "month",
            DurationKind::Semester => "semester",
            DurationKind::Long => "long",
            DurationKind::Custom => "custom",
        }
    }

    /// The standard length, `None` for a custom expiry.
    pub fn length(self) -> Option<Duration> {
        match self {
            DurationKind::Short => Some(Duration::days(1)),
            DurationKind::Month => Some(Duration::days(31)),
            DurationKind::Semester => Some(Duration::days(182)),
            DurationKind::Long => Some(Duration::days(365)),
            DurationKind::Custom => None,
        }
    }

    pub fn expiry_from(self, start: NaiveDateTime) -> Option<NaiveDateTime> {
        self.length().map(|d| start + d)
    }
}

impl FromStr for DurationKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "short" => Ok(DurationKind::Short),
            "month" => Ok(DurationKind::Month),
            "semester" => Ok(DurationKind::Semester),
            "long" => Ok(DurationKind::Long),
            "custom" => Ok(DurationKind::Custom),
            other => Err(StoreError::UnknownDuration(other.to_owned())),
        }
    }
}

crate::text_enum_column!(DurationKind, "duration_kind");

/// An email address, trimmed and lower-cased (addresses compare case-insensitively here).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, StoreError> {
        let email = raw.trim().to_lowercase();
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !domain.contains('@')
                    && email.len() <= 254
            }
            None => false,
        };
        if valid {
            Ok(Email(email))
        } else {
            Err(StoreError::InvalidEmail(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "lowercase")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    Aidant,
    Manager,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Aidant => "aidant",
            Role::Manager => "manager",
        }
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "aidant" => Ok(Role::Aidant),
            "manager" => Ok(Role::Manager),
            other => Err(StoreError::UnknownRole(other.to_owned())),
        }
    }
}

crate::text_enum_column!(Role, "role");

crate::keyed_enum! {
    /// How a client authenticates at the token, revocation and introspection endpoints
    /// (OIDC Core §9): by the method it registered, and only that one.
    pub enum ClientAuthMethod in "auth_method" {
        ClientSecretBasic = "client_secret_basic",
        ClientSecretPost = "client_secret_post",
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no secret, PKCE instead.
        None = "none",
    }
}

crate::keyed_enum! {
    /// The `sub` a client sees (OIDC Core §8): one per sector, or the usager's id.
    pub enum SubjectType in "subject_type" {
        Pairwise = "pairwise",
        Public = "public",
    }
}

crate::keyed_enum! {
    /// The JWS algorithms a client may register for its ID tokens and userinfo (RFC 7518 §3.1).
    pub enum SigningAlg in "signed_response_alg" {
        Rs256 = "RS256",
        Es256 = "ES256",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siret_checksum_is_validated() {
        // Real SIRETs: a Paris town-hall establishment and La Poste's head office.
        assert!(Siret::parse("21750001600019").is_ok());
        assert!(Siret::parse("217 500 016 00019").is_ok());
        assert!(Siret::parse("35600000000048").is_ok());
        assert!(Siret::parse("35600000049837").is_ok());
        for bad in ["21750001600018", "2175000160001", "2175000160001a", "", "35600000049838"] {
            assert!(matches!(Siret::parse(bad), Err(StoreError::InvalidSiret(_))), "{bad:?}");
        }
    }

    #[test]
    fn demarches_round_trip_and_unknown_ones_are_refused() {
        for d in Demarche::ALL {
            assert_eq!(d.key().parse::<Demarche>().unwrap(), d);
        }
        assert!(matches!("impots".parse::<Demarche>(), Err(StoreError::UnknownDemarche(_))));
        assert!(matches!("Argent".parse::<Demarche>(), Err(StoreError::UnknownDemarche(_))));
    }

    #[test]
    fn every_department_has_one_region() {
        let mut codes: Vec<String> = (1..=95).filter(|n| *n != 20).map(|n| format!("{n:02}")).collect();
        codes.extend(["2A", "2B"].map(String::from));
        codes.extend((971..=976).map(|n| n.to_string()));
        for code in &codes {
            let department = Department::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(department.code(), code);
        }
        let listed: usize = REGIONS.iter().map(|(_, departments)| departments.len()).sum();
        assert_eq!(listed, codes.len(), "a department is listed twice");
        assert_eq!(Department::parse("13").unwrap().region(), Region { code: "93", name: "Provence-Alpes-Côte d'Azur" });
        assert_eq!(Department::parse(" 2a ").unwrap().code(), "2A");
        assert_eq!(Department::parse("974").unwrap().region().code, "04");
        for bad in ["20", "00", "96", "970", "977", "1", "7", "2C", "", "75001", "Paris"] {
            assert!(matches!(Department::parse(bad), Err(StoreError::UnknownDepartment(_))), "{bad:?}");
        }
    }

    #[test]
    fn durations_have_the_service_lengths() {
        assert_eq!(DurationKind::Short.length(), Some(Duration::days(1)));
        assert_eq!(DurationKind::Month.length(), Some(Duration::days(31)));
        assert_eq!(DurationKind::Semester.length(), Some(Duration::days(182)));
        assert_eq!(DurationKind::Long.length(), Some(Duration::days(365)));
        assert!("forever".parse::<DurationKind>().is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Camille.Martin@Example.FR ").unwrap().as_str(), "camille.martin@example.fr");
        for bad in ["camille", "@example.fr", "a@b", "a b@example.fr", "a@.fr"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
