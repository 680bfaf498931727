//! The OpenID certification test plans, run over HTTP against a running Aidants IdP.
//!
//! The crate plays the relying party and the person at the browser. It never links the
//! server's code: it reads discovery, drives the pages, and checks what comes back with the
//! conditions of the OpenID Foundation's conformance suite, under the suite's names.

pub mod backchannel;
pub mod browser;
pub mod checks;
pub mod jose;
pub mod module;
pub mod plans;
pub mod report;
pub mod server;
pub mod target;
pub mod tls_front;
pub mod totp;

use browser::Browser;
use report::ModuleResult;
use target::Target;

/// Runs the selected plans (all when `only` is empty) against `target`. Each module's result is
/// printed as it comes, after `label` (the backend: runs on several backends go on at once).
pub fn run_plans(target: &Target, label: &str, only_plans: &[String], only_modules: &[String]) -> Vec<ModuleResult> {
    let mut browser =
        Browser::new(&target.issuer, target.tls_root.clone(), target.aidants.clone(), target.choices.clone());
    let mut results = Vec::new();
    for plan in plans::all() {
        if !only_plans.is_empty() && !only_plans.iter().any(|p| p == plan.name) {
            continue;
        }
        for module in &plan.modules {
            if !only_modules.is_empty() && !only_modules.iter().any(|m| m == module.name) {
                continue;
            }
            let result = module::run_module(plan.name, module, target, &mut browser, plan.mode);
            eprintln!("  {label:<8} {:<70} {}", format!("{} / {}", short(plan.name), module.name), result.status);
            results.push(result);
        }
    }
    results
}

fn short(plan: &str) -> &str {
    plan.trim_end_matches("-certification-test-plan").trim_end_matches("-test-plan")
}
