//! Places of birth as people read them: FranceConnect sends INSEE codes (a commune, a country),
//! which the pages name where the name is known here, and show as codes otherwise.

use super::i18n::Lang;

/// Countries of birth by INSEE code (Code officiel géographique), named in each language of the
/// mandate text: the countries most usagers of France Services were born in. Others are shown
/// by their code.
pub const COUNTRIES: [(&str, [&str; 5]); 30] = [
    ("99100", ["France", "France", "Francia", "França", "فرنسا"]),
    ("99109", ["Allemagne", "Germany", "Alemania", "Alemanha", "ألمانيا"]),
    ("99114", ["Roumanie", "Romania", "Rumanía", "Roménia", "رومانيا"]),
    ("99122", ["Pologne", "Poland", "Polonia", "Polónia", "بولندا"]),
    ("99127", ["Italie", "Italy", "Italia", "Itália", "إيطاليا"]),
    ("99131", ["Belgique", "Belgium", "Bélgica", "Bélgica", "بلجيكا"]),
    ("99132", ["Royaume-Uni", "United Kingdom", "Reino Unido", "Reino Unido", "المملكة المتحدة"]),
    ("99134", ["Espagne", "Spain", "España", "Espanha", "إسبانيا"]),
    ("99139", ["Portugal", "Portugal", "Portugal", "Portugal", "البرتغال"]),
    ("99140", ["Suisse", "Switzerland", "Suiza", "Suíça", "سويسرا"]),
    ("99155", ["Ukraine", "Ukraine", "Ucrania", "Ucrânia", "أوكرانيا"]),
    ("99206", ["Syrie", "Syria", "Siria", "Síria", "سوريا"]),
    ("99208", ["Turquie", "Turkey", "Turquía", "Turquia", "تركيا"]),
    ("99212", ["Afghanistan", "Afghanistan", "Afganistán", "Afeganistão", "أفغانستان"]),
    ("99216", ["Chine", "China", "China", "China", "الصين"]),
    ("99243", ["Vietnam", "Vietnam", "Vietnam", "Vietname", "فيتنام"]),
    ("99301", ["Égypte", "Egypt", "Egipto", "Egito", "مصر"]),
    (
        "99312",
        [
            "République démocratique du Congo",
            "Democratic Republic of the Congo",
            "República Democrática del Congo",
            "República Democrática do Congo",
            "جمهورية الكونغو الديمقراطية",
        ],
    ),
    ("99322", ["Cameroun", "Cameroon", "Camerún", "Camarões", "الكاميرون"]),
    ("99324", ["Congo", "Republic of the Congo", "República del Congo", "República do Congo", "جمهورية الكونغو"]),
    ("99326", ["Côte d'Ivoire", "Côte d'Ivoire", "Costa de Marfil", "Costa do Marfim", "ساحل العاج"]),
    ("99330", ["Guinée", "Guinea", "Guinea", "Guiné", "غينيا"]),
    ("99335", ["Mali", "Mali", "Malí", "Mali", "مالي"]),
    ("99341", ["Sénégal", "Senegal", "Senegal", "Senegal", "السنغال"]),
    ("99350", ["Maroc", "Morocco", "Marruecos", "Marrocos", "المغرب"]),
    ("99351", ["Tunisie", "Tunisia", "Túnez", "Tunísia", "تونس"]),
    ("99352", ["Algérie", "Algeria", "Argelia", "Argélia", "الجزائر"]),
    ("99397", ["Comores", "Comoros", "Comoras", "Comores", "جزر القمر"]),
    ("99410", ["Haïti", "Haiti", "Haití", "Haiti", "هايتي"]),
    ("99416", ["Brésil", "Brazil", "Brasil", "Brasil", "البرازيل"]),
];

/// Communes of birth by INSEE code: the largest cities, and Paris, Lyon and Marseille by
/// arrondissement (as birth certificates give them). Others are shown by their code.
const COMMUNES: [(&str, &str); 44] = [
    ("75101", "Paris 1er"),
    ("75102", "Paris 2e"),
    ("75103", "Paris 3e"),
    ("75104", "Paris 4e"),
    ("75105", "Paris 5e"),
    ("75106", "Paris 6e"),
    ("75107", "Paris 7e"),
    ("75108", "Paris 8e"),
    ("75109", "Paris 9e"),
    ("75110", "Paris 10e"),
    ("75111", "Paris 11e"),
    ("75112", "Paris 12e"),
    ("75113", "Paris 13e"),
    ("75114", "Paris 14e"),
    ("75115", "Paris 15e"),
    ("75116", "Paris 16e"),
    ("75117", "Paris 17e"),
    ("75118", "Paris 18e"),
    ("75119", "Paris 19e"),
    ("75120", "Paris 20e"),
    ("69123", "Lyon"),
    ("13055", "Marseille"),
    ("31555", "Toulouse"),
    ("06088", "Nice"),
    ("44109", "Nantes"),
    ("34172", "Montpellier"),
    ("67482", "Strasbourg"),
    ("33063", "Bordeaux"),
    ("59350", "Lille"),
    ("35238", "Rennes"),
    ("51454", "Reims"),
    ("42218", "Saint-Étienne"),
    ("83137", "Toulon"),
    ("76351", "Le Havre"),
    ("38185", "Grenoble"),
    ("21231", "Dijon"),
    ("49007", "Angers"),
    ("30189", "Nîmes"),
    ("93066", "Saint-Denis"),
    ("63113", "Clermont-Ferrand"),
    ("72181", "Le Mans"),
    ("13001", "Aix-en-Provence"),
    ("29019", "Brest"),
    ("37261", "Tours"),
];

/// The country an INSEE code names, in the page language; the code when not known here.
pub fn country_name(code: &str, lang: Lang) -> String {
    let index = match lang {
        Lang::Fr => 0,
        Lang::En => 1,
    };
    COUNTRIES.iter().find(|(c, _)| *c == code).map_or_else(|| code.to_owned(), |(_, names)| names[index].to_owned())
}

/// Where a usager was born, in words: `Paris 7e`, `Portugal` (born abroad: no commune), or the
/// INSEE code of a commune not known here.
pub fn birthplace(birthplace: &str, birthcountry: &str, lang: Lang) -> String {
    if birthplace.is_empty() {
        return country_name(birthcountry, lang);
    }
    COMMUNES.iter().find(|(c, _)| *c == birthplace).map_or_else(|| birthplace.to_owned(), |(_, n)| (*n).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_named_where_known_and_coded_otherwise() {
        assert_eq!(birthplace("75107", "99100", Lang::Fr), "Paris 7e");
        assert_eq!(birthplace("", "99139", Lang::Fr), "Portugal");
        assert_eq!(birthplace("", "99352", Lang::En), "Algeria");
        assert_eq!(birthplace("12345", "99100", Lang::Fr), "12345");
        assert_eq!(birthplace("", "99999", Lang::Fr), "99999");
    }
}
