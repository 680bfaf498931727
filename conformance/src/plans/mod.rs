//! The test plans, named as the certification suite names them (plus our delegation plan).

pub mod basic;
pub mod config;
pub mod delegation;
pub mod logout;

use crate::module::{Module, ResponseMode};

pub struct Plan {
    pub name: &'static str,
    pub mode: ResponseMode,
    pub modules: Vec<Module>,
}

pub fn all() -> Vec<Plan> {
    vec![
        Plan { name: "oidcc-config-certification-test-plan", mode: ResponseMode::Default, modules: config::modules() },
        Plan { name: "oidcc-basic-certification-test-plan", mode: ResponseMode::Default, modules: basic::modules() },
        Plan {
            name: "oidcc-formpost-basic-certification-test-plan",
            mode: ResponseMode::FormPost,
            modules: basic::modules(),
        },
        Plan {
            name: "oidcc-rp-initiated-logout-certification-test-plan",
            mode: ResponseMode::Default,
            modules: logout::rp_initiated_modules(),
        },
        Plan {
            name: "oidcc-backchannel-rp-initiated-logout-certification-test-plan",
            mode: ResponseMode::Default,
            modules: logout::backchannel_modules(),
        },
        Plan { name: "aidants-delegation-test-plan", mode: ResponseMode::Default, modules: delegation::modules() },
    ]
}
