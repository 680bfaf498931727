//! A module run: the conditions it records, and the steps every code-flow module shares, each
//! recorded under the suite's condition names. The steps live beside this file by protocol
//! step: the provider's configuration and keys (`configuration`), the authorization request and
//! its callback (`authorization`), the token endpoint (`token`), the ID token (`id_token`),
//! userinfo (`userinfo`) and a whole code flow (`flow`). What a run adds up to (conditions,
//! module results, the table) is in `report`.

mod authorization;
mod configuration;
mod flow;
mod id_token;
mod token;
mod userinfo;

use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::blocking::Client;
use serde_json::{json, Value};
use url::Url;

pub use authorization::AuthRequest;
pub use flow::Flow;
pub use token::{TokenHttp, Tokens};
pub use userinfo::UserinfoCall;

use crate::browser::Browser;
use crate::checks::{self, Check};
use crate::jose::{self, Jwt};
use crate::report::{Condition, ModuleResult, Severity};
use crate::target::Target;

use Severity::{Failure as F, Info as I};

/// Why a module stopped early.
pub enum Abort {
    /// A condition that stops the module did not hold (already recorded).
    Stop,
    /// The module does not apply (the suite skips it).
    Skip(String),
}

pub type Step<T = ()> = Result<T, Abort>;

/// Response mode variant of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    Default,
    FormPost,
}

/// A module: its exact suite name and what it does.
pub struct Module {
    pub name: &'static str,
    pub run: fn(&mut Test<'_>) -> Step,
    /// Modules that check discovery themselves skip the common configuration steps.
    pub configure: bool,
}

/// Runs one module and folds its conditions into a result.
pub fn run_module(
    plan: &str,
    module: &Module,
    target: &Target,
    browser: &mut Browser,
    mode: ResponseMode,
) -> ModuleResult {
    let mut test = Test::new(target, browser, mode);
    let outcome =
        if module.configure { test.configure().and_then(|_| (module.run)(&mut test)) } else { (module.run)(&mut test) };
    let skipped = match outcome {
        Err(Abort::Skip(reason)) => Some(reason),
        _ => None,
    };
    ModuleResult::from_conditions(plan, module.name, test.conditions, skipped)
}

pub fn random(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

pub struct Test<'a> {
    pub target: &'a Target,
    pub browser: &'a mut Browser,
    pub mode: ResponseMode,
    pub conditions: Vec<Condition>,
    pub http: Client,
    pub disc: Value,
    pub jwks: Value,
}

impl<'a> Test<'a> {
    pub fn new(target: &'a Target, browser: &'a mut Browser, mode: ResponseMode) -> Test<'a> {
        let http = crate::tls_front::client_builder(target.tls_root.as_ref())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Test { target, browser, mode, conditions: Vec::new(), http, disc: Value::Null, jwks: Value::Null }
    }

    // ------------------------------------------------------------ recording

    /// Records a condition; returns whether it held.
    pub fn check(&mut self, name: &str, severity: Severity, result: Check) -> bool {
        let (passed, message) = match result {
            Ok(m) => (true, m),
            Err(m) => (false, m),
        };
        self.conditions.push(Condition { name: name.to_owned(), severity, passed, message });
        passed
    }

    /// Records a failure-level condition and stops the module when it does not hold.
    pub fn require<T>(&mut self, name: &str, result: Result<T, String>) -> Step<T> {
        match result {
            Ok(v) => {
                self.check(name, F, Ok("ok".into()));
                Ok(v)
            }
            Err(m) => {
                self.check(name, F, Err(m));
                Err(Abort::Stop)
            }
        }
    }

    pub fn info(&mut self, name: &str, message: impl Into<String>) {
        self.check(name, I, Ok(message.into()));
    }

    pub fn issuer(&self) -> &str {
        self.disc.get("issuer").and_then(Value::as_str).unwrap_or(self.target.issuer.as_str())
    }

    pub fn endpoint(&self, member: &str) -> Result<Url, String> {
        checks::endpoint(&self.disc, member)
    }
}

/// The first characters of a body, for messages.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        flat.chars().take(200).collect::<String>() + "…"
    } else {
        flat
    }
}

/// The visible text of an HTML page.
pub fn page_text(body: &str) -> String {
    let html = scraper::Html::parse_document(body);
    let selector = scraper::Selector::parse("body").expect("static selector");
    html.select(&selector).next().map(|b| b.text().collect::<Vec<_>>().join(" ")).unwrap_or_else(|| body.to_owned())
}

/// Integer claim.
pub fn int_claim(jwt: &Jwt, name: &str) -> Option<i64> {
    jwt.claim(name).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Claims of a JWT, for checks that compare two tokens.
pub fn jose_unsigned_copy(jwt: &Jwt) -> String {
    jose::unsigned(json!({"typ": "JWT"}), &jwt.claims)
}
