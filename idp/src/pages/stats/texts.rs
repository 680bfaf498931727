//! The statistics page's words, in French (default) and English (language cookie).

use crate::web::Lang;

pub struct StatsTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub privacy: &'static str,
    pub computed_on: &'static str,
    pub other_language_code: &'static str,
    pub other_language_name: &'static str,
    pub other_language_hreflang: &'static str,
    /// Written instead of any count below the threshold.
    pub fewer_than: &'static str,
    /// The same, short enough to sit above a bar of the chart.
    pub fewer_than_short: &'static str,
    pub month: &'static str,
    pub count: &'static str,
    pub demarche: &'static str,
    pub region: &'static str,
    pub per_month: &'static str,
    pub by_demarche: &'static str,
    pub by_region: &'static str,
    pub organisation_type: &'static str,
    pub by_organisation_type: &'static str,
    /// (type key as stored, its name), in the order the page lists them.
    pub organisation_types: [(&'static str, &'static str); 6],
    pub helpers_title: &'static str,
    pub helpers_description: &'static str,
    pub helpers_caption: &'static str,
    pub helpers_kind: &'static str,
    pub habilitated: &'static str,
    pub in_habilitation: &'static str,
    pub habilitated_inactive: &'static str,
    pub chart_hint: &'static str,
    pub no_region: &'static str,
    pub mandates_title: &'static str,
    pub mandates_description: &'static str,
    pub usagers_title: &'static str,
    pub usagers_description: &'static str,
    pub accesses_title: &'static str,
    pub accesses_description: &'static str,
    /// Short month names for the chart and the wide tables, January first.
    pub short_months: [&'static str; 12],
    /// Thousands separator.
    pub thousands: char,
}

impl StatsTexts {
    /// The name of an organisation type, from its stored key (the key itself if unknown).
    pub fn organisation_type_name(&self, key: &str) -> String {
        self.organisation_types
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| key.to_owned(), |(_, name)| (*name).to_owned())
    }

    pub fn of(lang: Lang) -> &'static StatsTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

static FR: StatsTexts = StatsTexts {
    title: "Statistiques d'utilisation",
    intro: "Voici l'activité du service sur les 12 derniers mois, mois par mois.",
    privacy: "Pour que personne ne puisse être reconnu, un nombre plus petit que 5 n'est jamais affiché : \
              nous écrivons « moins de 5 ».",
    computed_on: "Chiffres calculés le",
    other_language_code: "en",
    other_language_name: "English",
    other_language_hreflang: "en",
    fewer_than: "moins de 5",
    fewer_than_short: "< 5",
    month: "Mois",
    count: "Nombre",
    demarche: "Démarche",
    region: "Région",
    per_month: "par mois",
    by_demarche: "par démarche et par mois",
    by_region: "par région et par mois",
    organisation_type: "Type de structure",
    by_organisation_type: "par type de structure et par mois",
    organisation_types: [
        ("france_services", "France Services"),
        ("ccas", "CCAS"),
        ("mairie", "Mairie"),
        ("departement", "Département"),
        ("association", "Association"),
        ("other", "Autre structure"),
    ],
    helpers_title: "Aidants",
    helpers_description: "Un aidant est habilité quand il a suivi la formation, obtenu la certification PIX et \
                          accepté la charte. Un aidant habilité est dit inactif s'il ne s'est connecté à aucun \
                          service pour une personne depuis 90 jours. Ces chiffres sont ceux du jour.",
    helpers_caption: "Aidants, aujourd'hui",
    helpers_kind: "Aidants",
    habilitated: "Habilités",
    in_habilitation: "En cours d'habilitation",
    habilitated_inactive: "Habilités mais inactifs depuis 90 jours",
    chart_hint: "Le tableau sous le graphique donne les mêmes chiffres.",
    no_region: "Aucune activité sur cette période.",
    mandates_title: "Mandats créés",
    mandates_description: "Un mandat permet à un aidant de faire des démarches en ligne à la place d'une personne. \
                           Un mandat qui couvre plusieurs démarches compte une fois pour chacune.",
    usagers_title: "Personnes aidées",
    usagers_description: "Le nombre de personnes différentes pour qui un aidant a fait au moins une démarche en ligne \
                          dans le mois, avec leur mandat.",
    accesses_title: "Connexions pour une personne",
    accesses_description: "Le nombre de fois où un aidant s'est connecté à un service en ligne à la place d'une \
                           personne, avec son mandat.",
    short_months: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    thousands: '\u{202f}',
};

static EN: StatsTexts = StatsTexts {
    title: "Usage statistics",
    intro: "The service's activity over the last 12 months, month by month.",
    privacy: "So that nobody can be singled out, a number smaller than 5 is never shown: we write “fewer than 5”.",
    computed_on: "Figures computed on",
    other_language_code: "fr",
    other_language_name: "Français",
    other_language_hreflang: "fr",
    fewer_than: "fewer than 5",
    fewer_than_short: "< 5",
    month: "Month",
    count: "Number",
    demarche: "Démarche",
    region: "Region",
    per_month: "per month",
    by_demarche: "by démarche and month",
    by_region: "by region and month",
    organisation_type: "Type of organisation",
    by_organisation_type: "by type of organisation and month",
    organisation_types: [
        ("france_services", "France Services"),
        ("ccas", "CCAS (social services)"),
        ("mairie", "Town hall"),
        ("departement", "Département"),
        ("association", "Association"),
        ("other", "Other organisation"),
    ],
    helpers_title: "Helpers",
    helpers_description: "A helper is habilitated once trained, PIX-certified and having accepted the charter. A \
                          habilitated helper counts as inactive after 90 days without signing in to a service on \
                          anyone's behalf. These figures are today's.",
    helpers_caption: "Helpers, today",
    helpers_kind: "Helpers",
    habilitated: "Habilitated",
    in_habilitation: "In habilitation",
    habilitated_inactive: "Habilitated but inactive for 90 days",
    chart_hint: "The table below the chart gives the same figures.",
    no_region: "No activity over this period.",
    mandates_title: "Mandates created",
    mandates_description: "A mandate lets a helper carry out online formalities on a person's behalf. A mandate \
                           covering several démarches counts once for each.",
    usagers_title: "People helped",
    usagers_description: "The number of different people for whom a helper carried out at least one online \
                          formality in the month, under their mandate.",
    accesses_title: "Sign-ins on a person's behalf",
    accesses_description: "The number of times a helper signed in to an online service on a person's behalf, under \
                           their mandate.",
    short_months: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    thousands: ',',
};
