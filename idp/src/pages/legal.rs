//! The pages every page's footer links to: the accessibility statement, the legal notice and
//! what is done with personal data. Short and in plain words, in French (English when the
//! browser chose it); who operates, hosts and answers for the service comes from `[ui]` in the
//! configuration, and an unset value says so rather than inventing one.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::configuration::UiSettings;
use crate::web::{html, AppState, Frame, Lang, PageError};

/// The link to the same page in the other language (through `/langue/{code}`).
pub struct OtherLanguage {
    pub href: String,
    pub code: &'static str,
    pub name: &'static str,
}

impl OtherLanguage {
    fn of(lang: Lang, path: &str) -> OtherLanguage {
        let (code, name) = match lang {
            Lang::Fr => ("en", "English"),
            Lang::En => ("fr", "Français"),
        };
        OtherLanguage { href: format!("/langue/{code}?retour={path}"), code, name }
    }
}

/// Who answers for the service, as the pages name them: the configured values, or words that
/// say they are not set.
pub struct Operator {
    pub name: String,
    pub hosting: String,
    pub publication_director: String,
    /// `None` when `ui.contact_email` is unset: the pages then send people to their manager.
    pub contact_email: Option<String>,
}

impl Operator {
    fn of(ui: &UiSettings, lang: Lang) -> Operator {
        // Said in the middle of a sentence ("Aidants IdP est exploité par …").
        let (unset_name, unset) = match lang {
            Lang::Fr => ("l'opérateur de ce service (nom non renseigné)", "non renseigné"),
            Lang::En => ("the operator of this service (name not filled in)", "not filled in"),
        };
        let or = |value: &str, unset: &str| {
            if value.trim().is_empty() {
                unset.to_owned()
            } else {
                value.trim().to_owned()
            }
        };
        Operator {
            name: or(&ui.operator_name, unset_name),
            hosting: or(&ui.hosting, unset),
            publication_director: or(&ui.publication_director, unset),
            contact_email: Some(ui.contact_email.trim().to_owned()).filter(|e| !e.is_empty()),
        }
    }
}

#[derive(Template)]
#[template(path = "legal/accessibility.html")]
pub struct AccessibilityPage {
    pub frame: Frame,
    pub operator: Operator,
    pub other_language: OtherLanguage,
}

#[derive(Template)]
#[template(path = "legal/legal_notice.html")]
pub struct LegalNoticePage {
    pub frame: Frame,
    pub operator: Operator,
    pub other_language: OtherLanguage,
}

#[derive(Template)]
#[template(path = "legal/personal_data.html")]
pub struct PersonalDataPage {
    pub frame: Frame,
    pub operator: Operator,
    pub other_language: OtherLanguage,
    /// How long a helper stays signed in at most (`session.absolute_hours`).
    pub session_hours: i64,
}

impl AccessibilityPage {
    fn en(&self) -> bool {
        self.frame.lang == Lang::En
    }
}

impl LegalNoticePage {
    fn en(&self) -> bool {
        self.frame.lang == Lang::En
    }
}

impl PersonalDataPage {
    fn en(&self) -> bool {
        self.frame.lang == Lang::En
    }
}

/// `GET /accessibilite`: the accessibility statement ("non conforme" until an audit says
/// otherwise) and how to report a problem.
pub async fn accessibility(frame: Frame, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let lang = frame.lang;
    html(&AccessibilityPage {
        operator: Operator::of(&state.settings.ui, lang),
        other_language: OtherLanguage::of(lang, "/accessibilite"),
        frame,
    })
}

/// `GET /mentions-legales`: who publishes, directs and hosts the service.
pub async fn legal_notice(frame: Frame, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let lang = frame.lang;
    html(&LegalNoticePage {
        operator: Operator::of(&state.settings.ui, lang),
        other_language: OtherLanguage::of(lang, "/mentions-legales"),
        frame,
    })
}

/// `GET /donnees-personnelles`: what is kept, why, how long, people's rights and whom to write to.
pub async fn personal_data(frame: Frame, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let lang = frame.lang;
    html(&PersonalDataPage {
        operator: Operator::of(&state.settings.ui, lang),
        other_language: OtherLanguage::of(lang, "/donnees-personnelles"),
        session_hours: state.settings.session.absolute_hours,
        frame,
    })
}
