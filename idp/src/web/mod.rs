//! The web layer every browser-facing handler stands on: the browser session and its cookie,
//! CSRF, the page language, the frame of every page (header and footer) and the design system's
//! files, page rendering and page errors, the answer sent back to a relying
//! party at the end of a login, and the extractors that say in a handler's signature who may
//! run it (`BrowserSession`, `SignedInHelper`, `PendingAuthorization`, `CheckedForm`). Around
//! every handler: the security headers (`headers`) and the answer to what no route or surface
//! answered in its own words (`fallback`: 404, 405, bare 500).
//!
//! Protocol endpoints (`oidc`) and page groups (`pages`) both build on this layer and on the
//! protocol core (`protocol`); neither imports the other.

pub mod address_limits;
pub mod assets;
pub mod authorization_response;
pub mod body_limits;
pub mod cache;
pub mod client_address;
pub mod csrf;
pub mod dates;
pub mod deactivated;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod forwarded;
pub mod frame;
pub mod habilitation;
pub mod headers;
pub mod housekeeping;
pub mod i18n;
pub mod places;
pub mod render;
pub mod session;
pub mod state;
pub mod templates;
pub mod usager_session;

pub use client_address::ClientAddress;
pub use error::{Message, PageError};
pub use extract::{
    CheckedForm, ExistingSession, HabilitatedHelper, MaybePendingAuthorization, PendingAuthorization,
    SignedInForCharter, SignedInHelper, SignedInManager,
};
pub use frame::Frame;
pub use habilitation::HabilitationTexts;
pub use i18n::{Lang, Texts};
pub use render::{html, html_with_status, see_other};
pub use session::BrowserSession;
pub use state::AppState;
pub use usager_session::{MaybeSignedInUsager, SignedInUsager, UsagerForm};
