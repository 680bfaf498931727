//! The page of a deactivated helper account: shown (403) to a helper who gives the right password
//! for it, and to a helper whose session outlived the deactivation, at their next request. It says
//! the account is deactivated, why (a manager, or six months without sign-in) and what to do.
//! A wrong password never leads here: it says no more than for any account.

use chrono::NaiveDateTime;
use mandate_store::aidants::Aidant;

use super::dates::long_day;
use super::i18n::Lang;

/// What the page says about one account; no secret, nothing the helper does not know.
#[derive(Debug, Clone)]
pub struct Deactivation {
    pub reason: Option<DeactivationCause>,
    pub on: Option<NaiveDateTime>,
    /// The organisations the helper works for, by name: where to ask.
    pub organisations: Vec<String>,
    pub lang: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeactivationCause {
    Manager,
    Inactivity,
}

impl Deactivation {
    pub fn of(aidant: &Aidant, organisations: Vec<String>, lang: Lang) -> Deactivation {
        let reason = match aidant.deactivation_reason.as_deref() {
            Some("manager") => Some(DeactivationCause::Manager),
            Some("inactivity") => Some(DeactivationCause::Inactivity),
            _ => None,
        };
        Deactivation { reason, on: aidant.deactivated_at, organisations, lang }
    }

    pub fn texts(&self) -> &'static DeactivatedTexts {
        match self.lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// Why, in one sentence, with the day when it is known.
    pub fn why(&self) -> String {
        let t = self.texts();
        let why = match self.reason {
            Some(DeactivationCause::Manager) => t.by_manager,
            Some(DeactivationCause::Inactivity) => t.by_inactivity,
            None => t.no_reason,
        };
        let on = self.on.map(|on| format!(" {} {}", t.on, long_day(self.lang, on))).unwrap_or_default();
        why.replace("{on}", &on)
    }

    /// Where to ask: the organisations' names, joined as a sentence says them.
    pub fn organisations_in_words(&self) -> String {
        let t = self.texts();
        match self.organisations.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} {} {last}", rest.join(", "), t.or),
        }
    }
}

pub struct DeactivatedTexts {
    pub title: &'static str,
    /// Before the day: `le 29 novembre 2026`.
    pub on: &'static str,
    /// `{on}` is where the day goes, when known.
    pub by_manager: &'static str,
    pub by_inactivity: &'static str,
    pub no_reason: &'static str,
    pub what_to_do: &'static str,
    pub ask_manager_of: &'static str,
    pub to_reactivate: &'static str,
    pub ask_manager: &'static str,
    pub after: &'static str,
    pub home: &'static str,
    pub or: &'static str,
}

static FR: DeactivatedTexts = DeactivatedTexts {
    title: "Votre compte est désactivé",
    on: "le",
    by_manager: "Un responsable de votre structure a désactivé votre compte{on}.",
    by_inactivity: "Votre compte a été désactivé automatiquement{on}, parce qu'il n'a servi à aucune connexion \
                    pendant six mois.",
    no_reason: "Votre compte a été désactivé{on}.",
    what_to_do: "Que faire ?",
    ask_manager_of: "Demandez à un responsable de",
    to_reactivate: "de réactiver votre compte.",
    ask_manager: "Demandez à un responsable de votre structure de réactiver votre compte.",
    after: "Il le fait depuis son espace de responsable. Vous pourrez ensuite vous connecter comme \
            d'habitude, avec le même mot de passe. D'ici là, aucune démarche ne peut être faite avec ce compte.",
    home: "Retour à l'accueil",
    or: "ou de",
};

static EN: DeactivatedTexts = DeactivatedTexts {
    title: "Your account is deactivated",
    on: "on",
    by_manager: "A manager of your organisation deactivated your account{on}.",
    by_inactivity: "Your account was deactivated automatically{on}, as it was not used to sign in for six months.",
    no_reason: "Your account was deactivated{on}.",
    what_to_do: "What to do",
    ask_manager_of: "Ask a manager of",
    to_reactivate: "to reactivate your account.",
    ask_manager: "Ask a manager of your organisation to reactivate your account.",
    after: "They do it from their manager's space. You can then sign in as usual, with the same password. \
            Until then, no formality can be carried out with this account.",
    home: "Back to the home page",
    or: "or of",
};
