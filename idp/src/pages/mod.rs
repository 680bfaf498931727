//! Server-rendered pages for helpers (French by default, English on request): login and
//! second factor, the choice of usager and démarche, the home page. Each handler says in its
//! signature who may run it (see `web::extract`).

pub mod attestation;
pub mod charter;
pub mod delegation;
pub mod enrolment;
pub mod helper_space;
pub mod home;
pub mod language;
pub mod legal;
pub mod login;
pub mod manager_space;
pub mod organisation_journal;
pub mod second_factor;
pub mod stats;
pub mod templates;
pub mod usager_space;
