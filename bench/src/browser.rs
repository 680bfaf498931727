//! A virtual browser, kept cheap because it shares the cores with the server: one HTTP client
//! for all of them (its connection pool), cookies and redirects handled by hand, and the one
//! value a page is read for found with `str::find` rather than an HTML parser.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use reqwest::header::{HeaderMap, AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};

use crate::stats::Tally;

/// What came back: status, `Location`, body.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Answer {
    /// The redirect's target, if the answer is the redirect expected.
    pub fn redirect(&self, what: &str) -> anyhow::Result<&str> {
        match (&self.location, self.status.is_redirection()) {
            (Some(location), true) => Ok(location),
            _ => bail!("{what}: expected a redirect, got {} {}", self.status, excerpt(&self.body)),
        }
    }

    pub fn ok(&self, what: &str) -> anyhow::Result<&str> {
        if self.status != StatusCode::OK {
            bail!("{what}: expected 200, got {} {}", self.status, excerpt(&self.body));
        }
        Ok(&self.body)
    }
}

fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(300).collect()
}

/// The value of the form field `name` on a page (`name="NAME" value="VALUE"`, as the
/// server's templates write hidden fields).
pub fn field<'a>(page: &'a str, name: &str) -> anyhow::Result<&'a str> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).ok_or_else(|| anyhow!("no field `{name}` on the page: {}", excerpt(page)))?;
    let rest = &page[start + marker.len()..];
    Ok(&rest[..rest.find('"').ok_or_else(|| anyhow!("field `{name}` not closed"))?])
}

/// The value of `name` in a URL's query (the code and state in a redirect to the client).
pub fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = &url[url.find('?')? + 1..];
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// `name=value` pairs, as the server last set them.
    cookies: Vec<(String, String)>,
    pub tally: Tally,
}

impl Browser {
    pub fn new(http: reqwest::Client, base: &str) -> Browser {
        Browser { http, base: base.to_owned(), cookies: Vec::new(), tally: Tally::default() }
    }

    /// Forgets the session: the next request starts a new one.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        self.send(Method::GET, path, None).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<Answer> {
        self.send(Method::POST, path, Some(form)).await
    }

    /// A relying party's request: no cookies, its own `Authorization`.
    pub async fn as_client(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        authorization: &str,
    ) -> anyhow::Result<Answer> {
        let started = Instant::now();
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header(AUTHORIZATION, authorization);
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await?;
        let answer = read(response).await?;
        self.tally.request(started.elapsed());
        Ok(answer)
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> anyhow::Result<Answer> {
        let started = Instant::now();
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = self.http.request(method, url);
        if !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(COOKIE, header.join("; "));
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await?;
        self.keep_cookies(response.headers());
        let answer = read(response).await?;
        self.tally.request(started.elapsed());
        Ok(answer)
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            let Some((name, val)) = pair.split_once('=') else { continue };
            let expired = value.to_ascii_lowercase().contains("max-age=0");
            self.cookies.retain(|(k, _)| k != name);
            if !expired && !val.is_empty() {
                self.cookies.push((name.to_owned(), val.to_owned()));
            }
        }
    }
}

async fn read(response: reqwest::Response) -> anyhow::Result<Answer> {
    let status = response.status();
    let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await?;
    Ok(Answer { status, location, body })
}

/// The one HTTP client every virtual browser shares: no redirects followed, no cookie store,
/// keep-alive connections. An idle connection is dropped after 2 s, before the server closes it
/// (actix-web's keep-alive is 5 s): otherwise a request sent as the server closes a connection
/// idle since the last round fails ("connection closed before message completed").
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(256)
        .build()
        .expect("HTTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_query_parameters_are_read_without_parsing_the_page() {
        let page =
            r#"<form><input type="hidden" name="csrf_token" value="abc-_1"><input name="request" value="r1"></form>"#;
        assert_eq!(field(page, "csrf_token").unwrap(), "abc-_1");
        assert_eq!(field(page, "request").unwrap(), "r1");
        assert!(field(page, "version").is_err());
        let callback = "http://127.0.0.1:9/callback?code=c0de&state=s1&iss=http%3A%2F%2F127.0.0.1";
        assert_eq!(query_param(callback, "code"), Some("c0de"));
        assert_eq!(query_param(callback, "state"), Some("s1"));
        assert_eq!(query_param(callback, "error"), None);
    }
}
