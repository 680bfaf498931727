//! The words the pages show, in French (default) and English (`ui_locales=en`).

use mandate_store::Demarche;

use crate::protocol::request::AuthorizationRequest;

/// The cookie that keeps a browser's language choice (not a secret, not personal).
pub const LANG_COOKIE: &str = "idp_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// The page language for a `ui_locales` list (OIDC Core §3.1.2.1): the first of French or
    /// English it names; French when it names neither.
    pub fn from_ui_locales(ui_locales: Option<&str>) -> Lang {
        for tag in ui_locales.unwrap_or("").split_whitespace() {
            match tag.split('-').next().unwrap_or("").to_ascii_lowercase().as_str() {
                "fr" => return Lang::Fr,
                "en" => return Lang::En,
                _ => continue,
            }
        }
        Lang::Fr
    }

    /// The language this browser chose with the language link (French unless it chose
    /// English): for pages that serve no relying party's request.
    pub fn of_browser(req: &actix_web::HttpRequest) -> Lang {
        match req.cookie(LANG_COOKIE).as_ref().map(|c| c.value()) {
            Some("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language of the pages serving `request`.
    pub fn of_request(request: &AuthorizationRequest) -> Lang {
        Lang::from_ui_locales(request.ui_locales.as_deref())
    }

    pub fn demarche_label(self, demarche: Demarche) -> &'static str {
        match self {
            Lang::Fr => demarche.label_fr(),
            Lang::En => demarche.label_en(),
        }
    }
}

pub struct Texts {
    pub lang: &'static str,
    pub service: &'static str,
    pub republic: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub continue_label: &'static str,
    pub otp_title: &'static str,
    pub otp_intro: &'static str,
    pub otp: &'static str,
    pub bad_credentials: &'static str,
    pub bad_otp: &'static str,
    pub locked: &'static str,
    pub csrf_failed: &'static str,
    pub choose_usager_title: &'static str,
    pub choose_usager_intro: &'static str,
    pub search: &'static str,
    pub search_button: &'static str,
    pub organisation: &'static str,
    pub switch_organisation: &'static str,
    pub born_on: &'static str,
    pub choose_demarche_title: &'static str,
    pub choose_demarche_intro: &'static str,
    pub mandate_until: &'static str,
    pub confirm_title: &'static str,
    pub confirm_you_act_for: &'static str,
    pub confirm_for_demarche: &'static str,
    pub confirm_on_service: &'static str,
    pub confirm_button: &'static str,
    pub nothing_title: &'static str,
    pub no_mandate: &'static str,
    pub no_mandate_search: &'static str,
    pub mandate_expired: &'static str,
    pub mandate_revoked: &'static str,
    pub demarche_not_covered: &'static str,
    pub back_to_service: &'static str,
    pub choose_another_usager: &'static str,
    pub error_title: &'static str,
    pub unknown_client: &'static str,
    pub bad_redirect_uri: &'static str,
    pub request_expired: &'static str,
    pub server_error: &'static str,
    pub bad_form: &'static str,
    pub logout_title: &'static str,
    pub logout_question: &'static str,
    pub logout_button: &'static str,
    pub logged_out: &'static str,
    pub bad_logout_request: &'static str,
    pub home_title: &'static str,
    pub home_connected_as: &'static str,
    pub redirecting: &'static str,
    pub not_found: &'static str,
    pub not_your_organisation: &'static str,
    pub draft_gone: &'static str,
    pub cannot_renew: &'static str,
}

pub static FR: Texts = Texts {
    lang: "fr",
    service: "Aidants IdP",
    republic: "République Française",
    login_title: "Connexion aidant",
    login_intro: "Identifiez-vous avec votre adresse e-mail professionnelle et votre mot de passe.",
    email: "Adresse e-mail",
    password: "Mot de passe",
    continue_label: "Continuer",
    otp_title: "Code à usage unique",
    otp_intro: "Saisissez le code à 6 chiffres affiché par votre carte ou votre application.",
    otp: "Code à 6 chiffres",
    bad_credentials: "Adresse e-mail ou mot de passe incorrect.",
    bad_otp: "Ce code n'est pas valide ou a déjà été utilisé.",
    locked: "Trop d'essais infructueux : votre compte est bloqué temporairement. Réessayez plus tard ou contactez votre référent.",
    csrf_failed: "Le formulaire a expiré. Merci de recommencer.",
    choose_usager_title: "Pour qui faites-vous cette démarche ?",
    choose_usager_intro: "Choisissez la personne accompagnée parmi celles qui ont un mandat en cours avec votre structure.",
    search: "Rechercher un nom",
    search_button: "Rechercher",
    organisation: "Structure",
    switch_organisation: "Changer de structure",
    born_on: "née ou né le",
    choose_demarche_title: "Quelle démarche ?",
    choose_demarche_intro: "Seules les démarches couvertes par un mandat en cours et acceptées par ce service sont proposées.",
    mandate_until: "mandat valable jusqu'au",
    confirm_title: "Confirmation",
    confirm_you_act_for: "Vous allez agir pour le compte de",
    confirm_for_demarche: "pour la démarche",
    confirm_on_service: "sur le service",
    confirm_button: "Confirmer et continuer",
    nothing_title: "Aucune démarche possible",
    no_mandate: "Aucune personne n'a de mandat en cours avec votre structure.",
    no_mandate_search: "Aucune personne avec un mandat en cours ne correspond à cette recherche.",
    mandate_expired: "Le mandat de cette personne a expiré : il faut en signer un nouveau.",
    mandate_revoked: "Le mandat de cette personne a été révoqué.",
    demarche_not_covered: "Le mandat de cette personne ne couvre aucune des démarches de ce service.",
    back_to_service: "Retour au service",
    choose_another_usager: "Choisir une autre personne",
    error_title: "Une erreur est survenue",
    unknown_client: "Ce service n'est pas connu d'Aidants IdP. Vérifiez l'adresse du service.",
    bad_redirect_uri: "L'adresse de retour demandée n'est pas enregistrée pour ce service : par sécurité, nous ne vous y renvoyons pas.",
    request_expired: "Cette demande de connexion a expiré ou a déjà servi. Retournez sur le site du service et relancez la connexion depuis celui-ci.",
    server_error: "Le service rencontre un problème. Réessayez dans quelques instants.",
    bad_form: "Le formulaire envoyé est incomplet. Revenez à la page précédente et recommencez.",
    logout_title: "Déconnexion",
    logout_question: "Voulez-vous vous déconnecter d'Aidants IdP ?",
    logout_button: "Se déconnecter",
    logged_out: "Vous êtes déconnecté.",
    bad_logout_request: "Cette demande de déconnexion n'est pas valide.",
    home_title: "Aidants IdP",
    home_connected_as: "Vous êtes connecté en tant que",
    redirecting: "Redirection vers le service…",
    not_found: "Cette page n'existe pas ou plus. Revenez à l'accueil de votre espace.",
    not_your_organisation: "Cette page concerne une autre structure que la vôtre : vous ne pouvez pas l'ouvrir.",
    draft_gone: "Ce mandat en préparation a expiré ou n'existe pas (un brouillon dure une heure). Recommencez depuis « Créer un mandat ».",
    cannot_renew: "Ce mandat a été révoqué ou renouvelé : il ne peut plus être renouvelé. Créez un nouveau mandat avec la personne.",
};

pub static EN: Texts = Texts {
    lang: "en",
    service: "Aidants IdP",
    republic: "French Republic",
    login_title: "Helper sign-in",
    login_intro: "Sign in with your work email address and your password.",
    email: "Email address",
    password: "Password",
    continue_label: "Continue",
    otp_title: "One-time code",
    otp_intro: "Enter the 6-digit code shown by your card or your app.",
    otp: "6-digit code",
    bad_credentials: "Wrong email address or password.",
    bad_otp: "This code is not valid or was already used.",
    locked: "Too many failed attempts: your account is locked for a while. Try again later or contact your manager.",
    csrf_failed: "The form expired. Please start again.",
    choose_usager_title: "Who are you acting for?",
    choose_usager_intro: "Choose the person among those with a live mandate with your organisation.",
    search: "Search a name",
    search_button: "Search",
    organisation: "Organisation",
    switch_organisation: "Switch organisation",
    born_on: "born on",
    choose_demarche_title: "Which formality?",
    choose_demarche_intro: "Only formalities covered by a live mandate and accepted by this service are offered.",
    mandate_until: "mandate valid until",
    confirm_title: "Confirmation",
    confirm_you_act_for: "You are about to act on behalf of",
    confirm_for_demarche: "for the formality",
    confirm_on_service: "on the service",
    confirm_button: "Confirm and continue",
    nothing_title: "Nothing can be done",
    no_mandate: "Nobody has a live mandate with your organisation.",
    no_mandate_search: "Nobody with a live mandate matches this search.",
    mandate_expired: "This person's mandate has expired: a new one must be signed.",
    mandate_revoked: "This person's mandate was revoked.",
    demarche_not_covered: "This person's mandate covers none of this service's formalities.",
    back_to_service: "Back to the service",
    choose_another_usager: "Choose another person",
    error_title: "Something went wrong",
    unknown_client: "This service is not known to Aidants IdP. Check the service's address.",
    bad_redirect_uri:
        "The return address asked for is not registered for this service: for your safety we do not send you there.",
    request_expired:
        "This sign-in request expired or was already used. Go back to the service's site and start signing in again from there.",
    server_error: "The service has a problem. Try again in a moment.",
    bad_form: "The form sent is incomplete. Go back to the previous page and try again.",
    logout_title: "Sign out",
    logout_question: "Do you want to sign out of Aidants IdP?",
    logout_button: "Sign out",
    logged_out: "You are signed out.",
    bad_logout_request: "This sign-out request is not valid.",
    home_title: "Aidants IdP",
    home_connected_as: "You are signed in as",
    redirecting: "Redirecting to the service…",
    not_found: "This page does not exist, or no longer does. Go back to your space's home page.",
    not_your_organisation: "This page belongs to another organisation than yours: you cannot open it.",
    draft_gone: "This mandate in preparation has expired or does not exist (a draft lasts one hour). Start again from “Create a mandate”.",
    cannot_renew: "This mandate was revoked or renewed: it cannot be renewed any more. Create a new mandate with the person.",
};

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn ui_locales_pick_the_first_known_language() {
        assert_eq!(Lang::from_ui_locales(Some("en-GB fr")), Lang::En);
        assert_eq!(Lang::from_ui_locales(Some("fr-FR en")), Lang::Fr);
        assert_eq!(Lang::from_ui_locales(Some("se en")), Lang::En);
        assert_eq!(Lang::from_ui_locales(Some("se")), Lang::Fr);
        assert_eq!(Lang::from_ui_locales(None), Lang::Fr);
    }
}
