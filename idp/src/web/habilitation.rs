//! Habilitation as the pages say it: what a helper still lacks before acting for usagers, in
//! plain words, and who records it. Shown on the helper's home, and wherever acting is refused
//! (the delegation flow, the new-mandate wizard).

use mandate_store::habilitation::Requirement;

use super::i18n::Lang;

pub struct HabilitationTexts {
    /// The status, as the home page shows it.
    pub in_habilitation: &'static str,
    pub home_intro: &'static str,
    /// The title of a refusal.
    pub refused_title: &'static str,
    pub refused_intro: &'static str,
    pub missing_label: &'static str,
    pub training: &'static str,
    pub pix: &'static str,
    pub charter: &'static str,
    pub read_charter: &'static str,
    pub who_records: &'static str,
    pub back_to_space: &'static str,
}

static FR: HabilitationTexts = HabilitationTexts {
    in_habilitation: "En cours d'habilitation",
    home_intro: "Vous ne pouvez pas encore agir pour un usager : ni créer de mandat, ni vous connecter à un service en son nom. Votre habilitation sera complète quand tout ce qui suit sera fait.",
    refused_title: "Vous ne pouvez pas encore agir pour un usager",
    refused_intro: "Votre compte est en cours d'habilitation. Pour agir au nom d'un usager, il faut avoir suivi la formation, obtenu la certification PIX et accepté la charte de l'aidant.",
    missing_label: "Il vous manque :",
    training: "la journée de formation des aidants",
    pix: "la certification PIX (compétences numériques)",
    charter: "l'acceptation de la charte de l'aidant",
    read_charter: "Lire et accepter la charte",
    who_records: "Le référent de votre structure enregistre la formation et la certification PIX dès que vous les avez obtenues : adressez-vous à lui si elles manquent encore ici.",
    back_to_space: "Retour à mon espace",
};

static EN: HabilitationTexts = HabilitationTexts {
    in_habilitation: "Habilitation in progress",
    home_intro: "You cannot act for a usager yet: neither create a mandate nor sign in to a service on their behalf. Your habilitation is complete once everything below is done.",
    refused_title: "You cannot act for a usager yet",
    refused_intro: "Your account's habilitation is in progress. To act on a usager's behalf, you must have attended the training, passed the PIX certification and accepted the helper's charter.",
    missing_label: "Still missing:",
    training: "the helpers' training day",
    pix: "the PIX certification (digital skills)",
    charter: "accepting the helper's charter",
    read_charter: "Read and accept the charter",
    who_records: "Your organisation's manager records the training and the PIX certification once you have them: ask them if these are still missing here.",
    back_to_space: "Back to my space",
};

impl HabilitationTexts {
    pub fn of(lang: Lang) -> &'static HabilitationTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    pub fn requirement(&self, requirement: Requirement) -> &'static str {
        match requirement {
            Requirement::Training => self.training,
            Requirement::Pix => self.pix,
            Requirement::Charter => self.charter,
        }
    }

    /// What is missing, in words, in the order the store gives.
    pub fn missing(&self, missing: &[Requirement]) -> Vec<&'static str> {
        missing.iter().map(|r| self.requirement(*r)).collect()
    }
}
