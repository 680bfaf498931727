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
    /// "Vous pourrez réessayer dans", followed by a wait in words.
    pub try_again_in: &'static str,
    pub less_than_a_minute: &'static str,
    pub minute: &'static str,
    pub minutes: &'static str,
    pub too_many_from_address: &'static str,
    pub password_checks_busy: &'static str,
    pub csrf_failed: &'static str,
    pub search: &'static str,
    pub search_button: &'static str,
    pub organisation: &'static str,
    pub switch_organisation: &'static str,
    pub confirm_you_act_for: &'static str,
    pub confirm_for_demarche: &'static str,
    pub confirm_on_service: &'static str,
    pub nothing_title: &'static str,
    pub no_mandate: &'static str,
    pub no_mandate_search: &'static str,
    pub mandate_expired: &'static str,
    pub mandate_revoked: &'static str,
    pub demarche_not_covered: &'static str,
    pub error_title: &'static str,
    pub unknown_client: &'static str,
    pub bad_redirect_uri: &'static str,
    pub malformed_request: &'static str,
    pub request_expired: &'static str,
    pub server_error: &'static str,
    pub bad_form: &'static str,
    pub form_too_large: &'static str,
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
    pub not_a_manager: &'static str,
    pub draft_gone: &'static str,
    pub cannot_renew: &'static str,
    pub choose_title: &'static str,
    pub choose_intro: &'static str,
    pub service_label: &'static str,
    pub for_usager: &'static str,
    pub on_service: &'static str,
    /// Before a usager's birth date and place on the choice page ("Naissance : 12 mars 1948, Lyon").
    pub born: &'static str,
    pub cancel_label: &'static str,
    pub cancelled_description: &'static str,
    pub argent_warning: &'static str,
    pub argent_confirm_title: &'static str,
    pub argent_confirm_button: &'static str,
    pub choose_something_else: &'static str,
    pub nothing_satisfiable: &'static str,
    pub nothing_satisfiable_hint: &'static str,
    pub open_space: &'static str,
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
    try_again_in: "Vous pourrez réessayer dans",
    less_than_a_minute: "moins d'une minute",
    minute: "minute",
    minutes: "minutes",
    too_many_from_address: "Trop de tentatives de connexion depuis votre réseau. Patientez avant de réessayer.",
    password_checks_busy: "Le service reçoit beaucoup de connexions en ce moment. Réessayez dans quelques secondes.",
    csrf_failed: "Le formulaire a expiré. Merci de recommencer.",
    search: "Rechercher un nom",
    search_button: "Rechercher",
    organisation: "Structure",
    switch_organisation: "Changer de structure",
    confirm_you_act_for: "Vous allez agir pour le compte de",
    confirm_for_demarche: "pour la démarche",
    confirm_on_service: "sur le service",
    nothing_title: "Aucune démarche possible",
    no_mandate: "Aucune personne n'a de mandat en cours avec votre structure.",
    no_mandate_search: "Aucune personne avec un mandat en cours ne correspond à cette recherche.",
    mandate_expired: "Le mandat de cette personne a expiré : il faut en signer un nouveau.",
    mandate_revoked: "Le mandat de cette personne a été révoqué.",
    demarche_not_covered: "Le mandat de cette personne ne couvre aucune des démarches de ce service.",
    error_title: "Une erreur est survenue",
    unknown_client: "Ce service n'est pas connu d'Aidants IdP. Vérifiez l'adresse du service.",
    bad_redirect_uri: "L'adresse de retour demandée n'est pas enregistrée pour ce service : par sécurité, nous ne vous y renvoyons pas.",
    malformed_request: "Cette demande de connexion est mal formée (une information y est répétée ou trop longue) : par sécurité, nous ne vous renvoyons pas vers le service. Retournez sur le site du service et relancez la connexion depuis celui-ci.",
    request_expired: "Cette demande de connexion a expiré ou a déjà servi. Retournez sur le site du service et relancez la connexion depuis celui-ci.",
    server_error: "Le service rencontre un problème. Réessayez dans quelques instants.",
    bad_form: "Le formulaire envoyé est incomplet. Revenez à la page précédente et recommencez.",
    form_too_large: "Le formulaire envoyé est trop volumineux pour être traité. Revenez à la page précédente et raccourcissez ce que vous avez saisi.",
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
    not_a_manager: "Cette page est réservée aux responsables de la structure. Demandez à votre responsable si vous avez besoin de ce qu'elle permet.",
    draft_gone: "Ce mandat en préparation a expiré ou n'existe pas (un brouillon dure une heure). Recommencez depuis « Créer un mandat ».",
    cannot_renew: "Ce mandat a été révoqué ou renouvelé : il ne peut plus être renouvelé. Créez un nouveau mandat avec la personne.",
    choose_title: "Pour qui et pour quelle démarche ?",
    choose_intro: "Choisissez la personne et la démarche : vous serez connecté au service en son nom.",
    service_label: "Service",
    for_usager: "pour",
    on_service: "sur",
    born: "Naissance :",
    cancel_label: "Annuler et revenir au service",
    cancelled_description: "the helper cancelled",
    argent_warning: "Attention : la démarche « Argent - Impôts - Consommation » donne accès aux impôts et aux finances de la personne.",
    argent_confirm_title: "Confirmer une démarche sensible",
    argent_confirm_button: "Je confirme, continuer",
    choose_something_else: "Choisir une autre personne ou démarche",
    nothing_satisfiable: "Aucune personne ayant un mandat en cours avec votre structure ne peut être représentée sur ce service pour les démarches qu'il demande.",
    nothing_satisfiable_hint: "Si la personne vous confie cette démarche, créez un mandat depuis votre espace, puis recommencez depuis le service.",
    open_space: "Ouvrir mon espace aidant",
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
    try_again_in: "You can try again in",
    less_than_a_minute: "less than a minute",
    minute: "minute",
    minutes: "minutes",
    too_many_from_address: "Too many sign-in attempts from your network. Wait before trying again.",
    password_checks_busy: "The service is receiving many sign-ins right now. Try again in a few seconds.",
    csrf_failed: "The form expired. Please start again.",
    search: "Search a name",
    search_button: "Search",
    organisation: "Organisation",
    switch_organisation: "Switch organisation",
    confirm_you_act_for: "You are about to act on behalf of",
    confirm_for_demarche: "for the formality",
    confirm_on_service: "on the service",
    nothing_title: "Nothing can be done",
    no_mandate: "Nobody has a live mandate with your organisation.",
    no_mandate_search: "Nobody with a live mandate matches this search.",
    mandate_expired: "This person's mandate has expired: a new one must be signed.",
    mandate_revoked: "This person's mandate was revoked.",
    demarche_not_covered: "This person's mandate covers none of this service's formalities.",
    error_title: "Something went wrong",
    unknown_client: "This service is not known to Aidants IdP. Check the service's address.",
    bad_redirect_uri:
        "The return address asked for is not registered for this service: for your safety we do not send you there.",
    malformed_request:
        "This sign-in request is malformed (something in it is repeated or too long): for your safety we do not send you back to the service. Go back to the service's site and start signing in again from there.",
    request_expired:
        "This sign-in request expired or was already used. Go back to the service's site and start signing in again from there.",
    server_error: "The service has a problem. Try again in a moment.",
    bad_form: "The form sent is incomplete. Go back to the previous page and try again.",
    form_too_large: "The form sent is too large to be handled. Go back to the previous page and shorten what you typed.",
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
    not_a_manager: "This page is for the organisation's managers. Ask your manager if you need what it offers.",
    draft_gone: "This mandate in preparation has expired or does not exist (a draft lasts one hour). Start again from “Create a mandate”.",
    cannot_renew: "This mandate was revoked or renewed: it cannot be renewed any more. Create a new mandate with the person.",
    choose_title: "For whom, and for which démarche?",
    choose_intro: "Choose the person and the démarche: you will be signed in to the service on their behalf.",
    service_label: "Service",
    for_usager: "for",
    on_service: "on",
    born: "Born:",
    cancel_label: "Cancel and go back to the service",
    cancelled_description: "the helper cancelled",
    argent_warning: "Warning: the “Money - Taxes - Consumer affairs” démarche gives access to the person's taxes and finances.",
    argent_confirm_title: "Confirm a sensitive démarche",
    argent_confirm_button: "I confirm, continue",
    choose_something_else: "Choose another person or démarche",
    nothing_satisfiable: "Nobody with a mandate in force with your organisation can be represented on this service for the démarches it asks for.",
    nothing_satisfiable_hint: "If the person entrusts this démarche to you, create a mandate from your space, then start again from the service.",
    open_space: "Open my helper space",
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
