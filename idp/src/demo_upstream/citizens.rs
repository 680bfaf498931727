//! The fictitious citizens the demo upstream provider lets one pick, with their identity in
//! FranceConnect's formats: `birthdate` `YYYY-MM-DD` with `00` for an unknown part, `gender`
//! `male` or `female`, `birthplace` the INSEE code of the commune (empty when born abroad),
//! `birthcountry` the INSEE code of the country (`99100` for France). The first two are the
//! usagers `idp demo seed` creates, with the same subjects, so that the demo upstream finds
//! them again rather than making new ones.

use serde_json::{json, Value};

pub struct Citizen {
    /// The `sub` the demo upstream gives them.
    pub subject: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub birthdate: &'static str,
    pub gender: &'static str,
    pub birthplace: &'static str,
    pub birthcountry: &'static str,
    pub email: &'static str,
    /// The usage name (nom d'usage), when it differs from the birth name.
    pub preferred_username: Option<&'static str>,
    /// Where they were born, in words, for the page.
    pub born_in: &'static str,
}

pub static CITIZENS: [Citizen; 6] = [
    Citizen {
        subject: "demo-usager-1",
        given_name: "Angela Claire Louise",
        family_name: "DUBOIS",
        birthdate: "1962-08-24",
        gender: "female",
        birthplace: "75107",
        birthcountry: "99100",
        email: "angela.dubois@example.fr",
        preferred_username: Some("DUPONT"),
        born_in: "Paris 7e arrondissement",
    },
    Citizen {
        subject: "demo-usager-2",
        given_name: "João",
        family_name: "SILVA",
        birthdate: "1948-00-00",
        gender: "male",
        birthplace: "",
        birthcountry: "99139",
        email: "joao.silva@example.fr",
        preferred_username: None,
        born_in: "Portugal",
    },
    Citizen {
        subject: "demo-usager-3",
        given_name: "Lucie",
        family_name: "MOREAU",
        birthdate: "1975-04-00",
        gender: "female",
        birthplace: "69123",
        birthcountry: "99100",
        email: "lucie.moreau@example.fr",
        preferred_username: None,
        born_in: "Lyon",
    },
    Citizen {
        subject: "demo-usager-4",
        given_name: "Fatoumata",
        family_name: "DIALLO",
        birthdate: "1983-06-15",
        gender: "female",
        birthplace: "",
        birthcountry: "99341",
        email: "fatoumata.diallo@example.fr",
        preferred_username: None,
        born_in: "Sénégal",
    },
    Citizen {
        subject: "demo-usager-5",
        given_name: "Jean-Pierre Marcel",
        family_name: "LEFEBVRE",
        birthdate: "1955-11-03",
        gender: "male",
        birthplace: "59350",
        birthcountry: "99100",
        email: "jean-pierre.lefebvre@example.fr",
        preferred_username: None,
        born_in: "Lille",
    },
    Citizen {
        subject: "demo-usager-6",
        given_name: "Marie-Thérèse",
        family_name: "ROUSSEAU",
        birthdate: "1940-02-29",
        gender: "female",
        birthplace: "69381",
        birthcountry: "99100",
        email: "marie-therese.rousseau@example.fr",
        preferred_username: Some("BERNARD"),
        born_in: "Lyon 1er arrondissement",
    },
];

impl Citizen {
    pub fn find(subject: &str) -> Option<&'static Citizen> {
        CITIZENS.iter().find(|c| c.subject == subject)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// `née le 24 août 1962 à Paris 7e arrondissement`, for the page.
    pub fn birth_description(&self) -> String {
        let born = if self.gender == "female" { "née" } else { "né" };
        let date = crate::web::dates::birthdate_with_unknowns(crate::web::Lang::Fr, self.birthdate);
        let on = if self.birthdate.ends_with("-00") { "en" } else { "le" };
        let at = if self.birthcountry == "99100" { "à" } else { "au" };
        format!("{born} {on} {date}, {at} {}", self.born_in)
    }

    /// One of their claims, if they have it (FranceConnect sends no empty usage name).
    pub fn claim(&self, name: &str) -> Option<Value> {
        Some(match name {
            "given_name" => json!(self.given_name),
            "family_name" => json!(self.family_name),
            "birthdate" => json!(self.birthdate),
            "gender" => json!(self.gender),
            "birthplace" => json!(self.birthplace),
            "birthcountry" => json!(self.birthcountry),
            "email" => json!(self.email),
            "preferred_username" => json!(self.preferred_username?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_citizens_cover_the_formats_a_relying_party_must_handle() {
        assert!(CITIZENS.iter().any(|c| c.birthplace.is_empty() && c.birthcountry != "99100"), "born abroad");
        assert!(CITIZENS.iter().any(|c| c.birthdate.ends_with("-00") && !c.birthdate.ends_with("-00-00")));
        for c in &CITIZENS {
            assert!(c.gender == "male" || c.gender == "female");
            assert_eq!(c.birthcountry.len(), 5);
            assert_eq!(c.birthplace.is_empty(), c.birthcountry != "99100", "{}", c.subject);
        }
        assert_eq!(
            Citizen::find("demo-usager-2").unwrap().birth_description(),
            "né en 1948 (jour et mois inconnus), au Portugal"
        );
        assert_eq!(
            Citizen::find("demo-usager-1").unwrap().birth_description(),
            "née le 24 août 1962, à Paris 7e arrondissement"
        );
    }
}
