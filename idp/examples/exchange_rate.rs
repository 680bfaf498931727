//! How many authorization codes a running server exchanges per second, many clients at once.
//!
//! ```sh
//! IDP__DEMO__ENABLED=true IDP__DATABASE__URL=postgres://postgres@127.0.0.1/idp_rate ./target/debug/idp demo seed
//! IDP__DEMO__ENABLED=true IDP__DATABASE__URL=postgres://postgres@127.0.0.1/idp_rate ./target/debug/idp serve &
//! cargo run -p idp --example exchange_rate -- http://127.0.0.1:8080 USAGER_ID 1000 32
//! ```
//!
//! Signs the demo helper in once, makes N codes for the demo service (authorize, then the choice
//! of the demo usager), then exchanges them all at `/token`, C at a time, and prints the rate of
//! that last phase: the step that journals `authorisation_used`. Asserts nothing else than the
//! answers being 200. A code lives 60 s: keep N within what the server makes in that time.

use std::sync::Arc;
use std::time::Instant;

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET};
use tokio::sync::Semaphore;

const CALLBACK: &str = "http://127.0.0.1:8765/callback";

fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Follows the pages from `/authorize` to the callback; returns the code.
async fn code(client: &reqwest::Client, base: &str, usager: &str) -> anyhow::Result<String> {
    let params = [
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "rate"),
        ("nonce", "rate"),
    ];
    let mut response =
        client.get(reqwest::Url::parse_with_params(&format!("{base}/authorize"), &params)?).send().await?;
    for _ in 0..12 {
        if response.status().is_redirection() {
            let next = response.headers()["location"].to_str()?.to_owned();
            if let Some(query) = next.strip_prefix(&format!("{CALLBACK}?")) {
                let code = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "code");
                return code.map(|(_, v)| v.into_owned()).ok_or_else(|| anyhow::anyhow!("no code: {next}"));
            }
            let next = if next.starts_with('/') { format!("{base}{next}") } else { next };
            response = client.get(next).send().await?;
            continue;
        }
        let html = response.text().await?;
        let csrf = input_value(&html, "csrf_token").ok_or_else(|| anyhow::anyhow!("no form: {html}"))?;
        let request = input_value(&html, "request").unwrap_or_default();
        let (path, fields): (&str, Vec<(&str, String)>) = if html.contains("name=\"password\"") {
            ("/login", vec![("email", DEMO_EMAIL.into()), ("password", DEMO_PASSWORD.into())])
        } else if html.contains("name=\"otp\"") {
            let unix = chrono::Utc::now().timestamp() as u64;
            ("/login/otp", vec![("otp", idp::totp::code_at(DEMO_TOTP_SECRET, 30, unix)?)])
        } else if html.contains("name=\"choix\"") {
            ("/delegation/choix", vec![("choix", format!("{usager}:logement"))])
        } else {
            anyhow::bail!("unknown page: {html}");
        };
        let mut form = vec![("csrf_token", csrf), ("request", request)];
        form.extend(fields);
        response = client.post(format!("{base}{path}")).form(&form).send().await?;
    }
    anyhow::bail!("too many steps")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let usager = args.next().ok_or_else(|| anyhow::anyhow!("the demo usager's id (idp demo seed prints it)"))?;
    let count: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1000);
    let concurrency: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(32);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build()?;

    // The first code signs the helper in (one one-time code); the others find the session live.
    let mut codes = vec![code(&client, &base, &usager).await?];
    let made = Instant::now();
    let limit = Arc::new(Semaphore::new(8));
    let tasks: Vec<_> = (1..count)
        .map(|_| {
            let (client, base, usager, limit) = (client.clone(), base.clone(), usager.clone(), limit.clone());
            tokio::spawn(async move {
                let _permit = limit.acquire().await?;
                code(&client, &base, &usager).await
            })
        })
        .collect();
    for task in tasks {
        codes.push(task.await??);
    }
    eprintln!("{count} codes made in {:.1} s", made.elapsed().as_secs_f64());

    let limit = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let tasks: Vec<_> = codes
        .into_iter()
        .map(|code| {
            let (client, base, limit) = (client.clone(), base.clone(), limit.clone());
            tokio::spawn(async move {
                let _permit = limit.acquire().await?;
                let response = client
                    .post(format!("{base}/token"))
                    .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
                    .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)])
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == 200, "token: {}", response.text().await?);
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} code exchanges, {concurrency} at a time: {seconds:.2} s, {:.0} exchanges/s",
        count as f64 / seconds
    );
    Ok(())
}
