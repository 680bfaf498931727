//! What every page's header and footer need, in one small struct built in one place: who is
//! signed in (name and organisation, with the sign-out form's CSRF token), the theme, the page
//! language and where the design system's files are.
//!
//! Handlers take a [`Frame`] as an extractor and pass it to their page, in the page's language
//! ([`Frame::in_lang`]). Error pages are rendered by `ResponseError::error_response`, which
//! sees neither the request nor the application's state: for them the theme and the design
//! system's path are provided for the duration of each request by [`provide_base`] (a
//! middleware), and [`Frame::anonymous`] reads them.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{FutureExt as _, LocalBoxFuture};
use mandate_store::{aidants, now, organisations};

use super::extract::{app_state, current_session};
use super::i18n::Lang;
use super::session::HelperRows;
use super::{AppState, BrowserSession, PageError};
use crate::blocking::with_conn;
use crate::configuration::Theme;
use crate::protocol::flow::{auth_state, AuthState};

/// The helper a page is shown to, as the header names them.
#[derive(Debug, Clone)]
pub struct HelperIdentity {
    pub name: String,
    pub organisation: String,
}

/// The header's and footer's inputs.
#[derive(Debug, Clone)]
pub struct Frame {
    /// A helper signed in with both factors; `None` for anyone else (no sign-out button).
    pub helper: Option<HelperIdentity>,
    /// For the sign-out form; empty when nobody is signed in.
    pub csrf_token: String,
    pub theme: Theme,
    pub lang: Lang,
    /// `/static/dsfr/{version}`; `None` outside a request served by the application.
    pub dsfr: Option<String>,
    /// The header's and footer's words in `lang`.
    pub f: &'static FrameTexts,
}

/// What every page shares and no request changes.
#[derive(Debug, Clone)]
struct FrameBase {
    theme: Theme,
    dsfr: Option<String>,
}

tokio::task_local! {
    static BASE: FrameBase;
}

impl FrameBase {
    fn of(state: &AppState) -> FrameBase {
        FrameBase { theme: state.settings.ui.theme, dsfr: Some(state.dsfr.base_path()) }
    }

    /// The one provided for this request; outside a request served by the application (a unit
    /// test rendering a page), the neutral theme, which shows nothing reserved to the State.
    fn current() -> FrameBase {
        BASE.try_with(Clone::clone).unwrap_or(FrameBase { theme: Theme::Neutral, dsfr: None })
    }
}

impl Frame {
    fn new(base: FrameBase, lang: Lang) -> Frame {
        Frame {
            helper: None,
            csrf_token: String::new(),
            theme: base.theme,
            lang,
            dsfr: base.dsfr,
            f: FrameTexts::of(lang),
        }
    }

    /// A frame naming nobody, for pages rendered without the request (error pages).
    pub fn anonymous(lang: Lang) -> Frame {
        Frame::new(FrameBase::current(), lang)
    }

    /// The frame of this browser's request: the helper named when signed in with both factors,
    /// in the language the browser chose (pages serving a relying party's request switch to its
    /// language with [`Frame::in_lang`]).
    pub async fn of_browser(
        browser: Option<&BrowserSession>,
        state: &AppState,
        lang: Lang,
    ) -> Result<Frame, PageError> {
        let mut frame = Frame::new(FrameBase::of(state), lang);
        let Some(browser) = browser else { return Ok(frame) };
        if auth_state(&browser.session, now(), state.idle_limits()) != AuthState::Authenticated {
            return Ok(frame);
        }
        let (Some(aidant_id), Some(organisation_id)) =
            (browser.session.aidant_id.clone(), browser.session.organisation_id.clone())
        else {
            return Ok(frame);
        };
        // Read with the session when it was looked up for this request (see `HelperRows`).
        let (aidant, organisation) = match browser.helper.as_deref() {
            Some(HelperRows { aidant, organisation: Some(organisation) }) => (aidant.clone(), organisation.clone()),
            _ => {
                with_conn(&state.store, move |conn| {
                    Ok::<_, PageError>((aidants::find(conn, &aidant_id)?, organisations::find(conn, &organisation_id)?))
                })
                .await?
            }
        };
        frame.helper = Some(HelperIdentity {
            name: format!("{} {}", aidant.given_name, aidant.family_name),
            organisation: organisation.name,
        });
        frame.csrf_token = browser.csrf_token(state);
        Ok(frame)
    }

    /// The same frame for a page in `lang`.
    pub fn in_lang(mut self, lang: Lang) -> Frame {
        self.lang = lang;
        self.f = FrameTexts::of(lang);
        self
    }

    /// Whether the page shows the Marianne identity (the State's block, font and colours).
    pub fn marianne(&self) -> bool {
        self.theme == Theme::Dsfr
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

impl FromRequest for Frame {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Frame, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let current = current_session(req);
        let state = app_state(req);
        let lang = Lang::of_browser(req);
        async move { Frame::of_browser(current.await?.as_ref(), &state, lang).await }.boxed_local()
    }
}

/// Middleware: makes the theme and the design system's path known to whatever renders a page
/// while this request is served, error responses included.
pub async fn provide_base(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => BASE.scope(FrameBase::of(state), next.call(req)).await,
        None => next.call(req).await,
    }
}

/// The header's and footer's words.
#[derive(Debug)]
pub struct FrameTexts {
    pub service: &'static str,
    pub tagline: &'static str,
    pub home_title: &'static str,
    pub skip_links: &'static str,
    pub skip_to_content: &'static str,
    pub skip_to_footer: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub menu: &'static str,
    pub close: &'static str,
    pub footer_description: &'static str,
    pub footer_links: &'static str,
    pub accessibility: &'static str,
    pub legal_notice: &'static str,
    pub personal_data: &'static str,
    /// The link to the usager's own space (`/espace-usager`).
    pub usager_space: &'static str,
}

impl FrameTexts {
    pub fn of(lang: Lang) -> &'static FrameTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

static FR: FrameTexts = FrameTexts {
    service: "Aidants IdP",
    tagline: "Faire les démarches en ligne des personnes accompagnées, avec leur mandat",
    home_title: "Accueil — Aidants IdP",
    skip_links: "Accès rapide",
    skip_to_content: "Contenu",
    skip_to_footer: "Pied de page",
    signed_in_as: "Connecté en tant que",
    sign_out: "Se déconnecter",
    menu: "Menu",
    close: "Fermer",
    footer_description: "Aidants IdP permet aux aidants habilités (France Services, associations, services \
                         sociaux) de se connecter aux services en ligne pour le compte des personnes qui leur ont \
                         donné un mandat, et seulement pour les démarches de ce mandat.",
    footer_links: "Informations sur le service",
    accessibility: "Accessibilité : non conforme",
    legal_notice: "Mentions légales",
    personal_data: "Données personnelles",
    usager_space: "Personne accompagnée : voir mes mandats",
};

static EN: FrameTexts = FrameTexts {
    service: "Aidants IdP",
    tagline: "Doing online formalities for the people you help, under their mandate",
    home_title: "Home — Aidants IdP",
    skip_links: "Quick access",
    skip_to_content: "Content",
    skip_to_footer: "Footer",
    signed_in_as: "Signed in as",
    sign_out: "Sign out",
    menu: "Menu",
    close: "Close",
    footer_description: "Aidants IdP lets accredited helpers (France Services, associations, social services) \
                         sign in to online services on behalf of the people who gave them a mandate, and only for \
                         the formalities of that mandate.",
    footer_links: "About this service",
    accessibility: "Accessibility: not compliant",
    legal_notice: "Legal notice",
    personal_data: "Personal data",
    usager_space: "Person helped: see my mandates",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_request_the_frame_shows_nothing_reserved_to_the_state() {
        let frame = Frame::anonymous(Lang::En);
        assert!(!frame.marianne());
        assert_eq!(frame.dsfr, None);
        assert_eq!(frame.f.sign_out, "Sign out");
        assert_eq!(frame.in_lang(Lang::Fr).f.sign_out, "Se déconnecter");
    }
}
