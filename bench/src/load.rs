//! Running one case: `c` virtual browsers repeating a flow as fast as the server answers, a
//! warm-up that is not counted, then the measured time, with the server's CPU time and memory
//! read around it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::browser::Browser;
use crate::flows::{self, CodeBook, RelyingParty};
use crate::population::Helper;
use crate::server::{own_cpu, Running};
use crate::stats::{CaseResult, Tally};

/// The flows measured, in the order a run takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Login,
    Sso,
    ExchangeRs256,
    ExchangeEs256,
    Discovery,
    Jwks,
}

impl Flow {
    pub const ALL: [Flow; 6] =
        [Flow::Login, Flow::Sso, Flow::ExchangeRs256, Flow::ExchangeEs256, Flow::Discovery, Flow::Jwks];

    pub fn key(self) -> &'static str {
        match self {
            Flow::Login => "login",
            Flow::Sso => "sso",
            Flow::ExchangeRs256 => "code_exchange_rs256",
            Flow::ExchangeEs256 => "code_exchange_es256",
            Flow::Discovery => "discovery",
            Flow::Jwks => "jwks",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flow::Login => "login (password + one-time code, 4 requests)",
            Flow::Sso => "SSO, session live (authorize, choice page, choice, token, userinfo)",
            Flow::ExchangeRs256 => "code exchange alone, RS256 ID token",
            Flow::ExchangeEs256 => "code exchange alone, ES256 ID token",
            Flow::Discovery => "discovery document",
            Flow::Jwks => "JWKS",
        }
    }
}

/// What every virtual browser of a backend's run shares.
pub struct Shared {
    pub http: reqwest::Client,
    pub base: String,
    pub rs256: RelyingParty,
    pub es256: RelyingParty,
    pub choice: String,
    pub login_helpers: Vec<Helper>,
    pub codes: CodeBook,
}

/// A virtual browser holding a session helper's session, kept from case to case.
pub struct SessionBrowser {
    pub browser: Browser,
    pub csrf: Option<String>,
    pub name: String,
    pub flows: u64,
}

impl SessionBrowser {
    fn next_state(&mut self) -> String {
        self.flows += 1;
        format!("{}-{}", self.name, self.flows)
    }
}

/// Times for one case.
#[derive(Clone, Copy)]
pub struct Timing {
    pub warm_up: Duration,
    pub measure: Duration,
}

/// Server and generator CPU time, and the server's memory, around a measured stretch.
struct Sampler {
    server_cpu: Duration,
    own_cpu: Duration,
    at: Instant,
}

impl Sampler {
    fn start(server: &Running) -> Sampler {
        Sampler { server_cpu: server.cpu(), own_cpu: own_cpu(), at: Instant::now() }
    }

    /// Adds this stretch's CPU time to `server` and `own`, returns its wall time.
    fn stop(self, server: &Running, server_total: &mut Duration, own_total: &mut Duration) -> Duration {
        *server_total += server.cpu().saturating_sub(self.server_cpu);
        *own_total += own_cpu().saturating_sub(self.own_cpu);
        self.at.elapsed()
    }
}

fn finish(
    flow: Flow,
    concurrency: usize,
    tally: &Tally,
    wall: Duration,
    (server_cpu, own): (Duration, Duration),
    server: &Running,
    waited: Duration,
) -> CaseResult {
    let seconds = wall.as_secs_f64().max(1e-9);
    let mut result = CaseResult::from_tally(flow.key(), concurrency, seconds, tally);
    result.server_cores = server_cpu.as_secs_f64() / seconds;
    result.generator_cores = own.as_secs_f64() / seconds;
    if let Ok(memory) = server.memory() {
        result.peak_mib = memory.peak_kib as f64 / 1024.0;
        result.end_mib = memory.now_kib as f64 / 1024.0;
    }
    result.waited_for_codes_seconds = waited.as_secs_f64();
    result
}

/// Runs `flow` with `concurrency` browsers: the session browsers for the flows that need a
/// session (taken from `sessions` and given back), fresh ones otherwise.
pub async fn run(
    flow: Flow,
    concurrency: usize,
    timing: Timing,
    shared: &Arc<Shared>,
    sessions: &mut Vec<SessionBrowser>,
    server: &Running,
) -> CaseResult {
    server.reset_peak();
    match flow {
        Flow::ExchangeRs256 | Flow::ExchangeEs256 => {
            exchange_rounds(flow, concurrency, timing, shared, sessions, server).await
        }
        _ => timed(flow, concurrency, timing, shared, sessions, server).await,
    }
}

async fn timed(
    flow: Flow,
    concurrency: usize,
    timing: Timing,
    shared: &Arc<Shared>,
    sessions: &mut Vec<SessionBrowser>,
    server: &Running,
) -> CaseResult {
    let start = Instant::now();
    let (count_from, stop_at) = (start + timing.warm_up, start + timing.warm_up + timing.measure);
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let shared = shared.clone();
        let mut session = if flow == Flow::Sso { Some(sessions.remove(0)) } else { None };
        tasks.push(tokio::spawn(async move {
            let mut fresh = Browser::new(shared.http.clone(), &shared.base);
            let mut waited = Duration::ZERO;
            loop {
                let now = Instant::now();
                if now >= stop_at {
                    break;
                }
                let browser = match &mut session {
                    Some(s) => &mut s.browser,
                    None => &mut fresh,
                };
                browser.tally.counting = now >= count_from;
                let began = Instant::now();
                let outcome = match flow {
                    Flow::Login => match shared.codes.take() {
                        Some((helper, step)) => match flows::code_of(&shared.login_helpers[helper], step) {
                            Ok(code) => flows::login(browser, &shared.login_helpers[helper], &code).await,
                            Err(e) => Err(e),
                        },
                        None if waited.is_zero() => {
                            // Every helper of the pool spent its codes: wait once for the next
                            // step, and say so (the rate is then understated).
                            let pause = CodeBook::until_next_step().min(stop_at.saturating_duration_since(now));
                            tokio::time::sleep(pause).await;
                            waited += pause;
                            continue;
                        }
                        None => Err(anyhow::anyhow!(
                            "the login flow's {} helpers spent every one-time code they may give",
                            shared.login_helpers.len()
                        )),
                    },
                    Flow::Sso => {
                        let s = session.as_mut().expect("a session browser");
                        let state = s.next_state();
                        flows::sso(&mut s.browser, &shared.rs256, &shared.choice, &state, &mut s.csrf).await
                    }
                    Flow::Discovery => flows::document(browser, "/.well-known/openid-configuration").await,
                    Flow::Jwks => flows::document(browser, "/jwks").await,
                    Flow::ExchangeRs256 | Flow::ExchangeEs256 => unreachable!("exchanges run in rounds"),
                };
                let browser = match &mut session {
                    Some(s) => &mut s.browser,
                    None => &mut fresh,
                };
                match outcome {
                    Ok(()) => browser.tally.flow(began.elapsed()),
                    Err(e) => {
                        browser.tally.error(&e);
                        break;
                    }
                }
            }
            let tally = match &mut session {
                Some(s) => std::mem::take(&mut s.browser.tally),
                None => std::mem::take(&mut fresh.tally),
            };
            let _ = i;
            (session, tally, waited)
        }));
    }
    tokio::time::sleep_until(count_from.into()).await;
    let sampler = Sampler::start(server);
    let mut tally = Tally::default();
    let mut waited = Duration::ZERO;
    for task in tasks {
        match task.await {
            Ok((session, t, w)) => {
                tally.add(&t);
                waited += w;
                if let Some(s) = session {
                    sessions.push(s);
                }
            }
            Err(e) => tally.error(&anyhow::anyhow!("a virtual browser panicked: {e}")),
        }
    }
    let (mut server_cpu, mut own) = (Duration::ZERO, Duration::ZERO);
    let wall = sampler.stop(server, &mut server_cpu, &mut own);
    finish(flow, concurrency, &tally, wall, (server_cpu, own), server, waited)
}

/// The exchange alone: codes are made first (not timed), then exchanged by `concurrency`
/// relying-party connections at once (timed), in rounds until the measured time is reached. A
/// code lives 60 s, so a round makes no more codes than about 8 s of exchanges use.
async fn exchange_rounds(
    flow: Flow,
    concurrency: usize,
    timing: Timing,
    shared: &Arc<Shared>,
    sessions: &mut Vec<SessionBrowser>,
    server: &Running,
) -> CaseResult {
    let mut tally = Tally::default();
    let (mut wall, mut server_cpu, mut own) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut per_browser = 8usize;
    // A first round unmeasured, unless the case is a short one (the quick mode's).
    let mut warmed = timing.warm_up < Duration::from_secs(1);
    while wall < timing.measure && tally.errors == 0 {
        // Make the codes, with every session browser at once (making one takes longer than
        // exchanging it, and is not what is measured).
        let wanted = per_browser * concurrency;
        let makers = sessions.len();
        let mut tasks = Vec::new();
        for (m, mut s) in std::mem::take(sessions).into_iter().enumerate() {
            let shared = shared.clone();
            let mine = wanted / makers + usize::from(m < wanted % makers);
            tasks.push(tokio::spawn(async move {
                let rp = if flow == Flow::ExchangeRs256 { &shared.rs256 } else { &shared.es256 };
                let mut codes = Vec::with_capacity(mine);
                let mut error = None;
                s.browser.tally.counting = false;
                for _ in 0..mine {
                    let state = s.next_state();
                    match flows::prepare_code(&mut s.browser, rp, &shared.choice, &state, &mut s.csrf).await {
                        Ok(code) => codes.push(code),
                        Err(e) => {
                            error = Some(e.context("making a code to exchange"));
                            break;
                        }
                    }
                }
                (s, codes, error)
            }));
        }
        let mut codes = Vec::with_capacity(wanted);
        for task in tasks {
            let (s, made, error) = task.await.expect("a virtual browser panicked");
            if let Some(e) = error {
                tally.error(&e);
            }
            sessions.push(s);
            codes.extend(made);
        }
        if tally.errors > 0 {
            break;
        }
        let batches: Vec<Vec<String>> =
            (0..concurrency).map(|i| codes.iter().skip(i).step_by(concurrency).cloned().collect()).collect();
        // Exchange them, all browsers at once.
        let sampler = Sampler::start(server);
        let mut tasks = Vec::new();
        for codes in batches {
            let shared = shared.clone();
            let counting = warmed;
            tasks.push(tokio::spawn(async move {
                let rp = if flow == Flow::ExchangeRs256 { &shared.rs256 } else { &shared.es256 };
                let mut client = Browser::new(shared.http.clone(), &shared.base);
                client.tally.counting = counting;
                for code in codes {
                    let began = Instant::now();
                    match flows::exchange(&mut client, rp, &code).await {
                        Ok(_) => client.tally.flow(began.elapsed()),
                        Err(e) => {
                            client.tally.error(&e);
                            break;
                        }
                    }
                }
                client.tally
            }));
        }
        let mut round = Tally::default();
        for task in tasks {
            round.add(&task.await.expect("a relying party panicked"));
        }
        let (mut round_server, mut round_own) = (Duration::ZERO, Duration::ZERO);
        let took = sampler.stop(server, &mut round_server, &mut round_own);
        let rate = (per_browser * concurrency) as f64 / took.as_secs_f64().max(1e-6);
        if std::env::var_os("IDP_BENCH_DEBUG").is_some() {
            eprintln!(
                "round: {per_browser} x {concurrency} codes exchanged in {took:?} ({rate:.0}/s), warmed {warmed}"
            );
        }
        if warmed {
            tally.add(&round);
            wall += took;
            server_cpu += round_server;
            own += round_own;
        } else {
            tally.errors += round.errors;
            if tally.first_error.is_none() {
                tally.first_error = round.first_error;
            }
            warmed = true;
        }
        // Next round: about 8 s of exchanges, or what remains, at half the rate just seen (a
        // small round's rate flatters: it may end before the server's queues fill).
        let left = timing.measure.saturating_sub(wall).min(Duration::from_secs(8)).as_secs_f64();
        per_browser = ((0.5 * rate * left / concurrency as f64).ceil() as usize).clamp(4, 4000);
    }
    finish(flow, concurrency, &tally, wall, (server_cpu, own), server, Duration::ZERO)
}
