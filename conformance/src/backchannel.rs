//! A small listener on 127.0.0.1 that receives back-channel logout requests
//! (OIDC Back-Channel Logout 1.0 §2.5: a form POST with `logout_token`).

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One request received on the back-channel URI.
#[derive(Clone, Debug)]
pub struct LogoutDelivery {
    pub method: String,
    pub content_type: Option<String>,
    pub form: Vec<(String, String)>,
}

pub struct LogoutReceiver {
    pub uri: String,
    received: Arc<(Mutex<Vec<LogoutDelivery>>, Condvar)>,
}

impl LogoutReceiver {
    /// Binds a random port and answers 200 to every request, remembering it.
    pub fn start() -> std::io::Result<Arc<LogoutReceiver>> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or_default();
        let received: Arc<(Mutex<Vec<LogoutDelivery>>, Condvar)> = Arc::default();
        let sink = received.clone();
        std::thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let content_type = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Content-Type"))
                    .map(|h| h.value.as_str().to_owned());
                let delivery = LogoutDelivery {
                    method: request.method().as_str().to_owned(),
                    content_type,
                    form: url::form_urlencoded::parse(body.as_bytes()).into_owned().collect(),
                };
                let (list, signal) = &*sink;
                list.lock().unwrap_or_else(|e| e.into_inner()).push(delivery);
                signal.notify_all();
                let _ = request.respond(tiny_http::Response::empty(200));
            }
        });
        Ok(Arc::new(LogoutReceiver { uri: format!("http://127.0.0.1:{port}/backchannel-logout"), received }))
    }

    /// Forgets what was received so far.
    pub fn clear(&self) {
        self.received.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Waits up to `timeout` for a delivery.
    pub fn wait(&self, timeout: Duration) -> Option<LogoutDelivery> {
        let deadline = Instant::now() + timeout;
        let (list, signal) = &*self.received;
        let mut guard = list.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(first) = guard.first() {
                return Some(first.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            guard = signal.wait_timeout(guard, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// Serves `body` at a random loopback URL for a minute (request objects by reference).
pub fn serve_once(body: String, content_type: &'static str) -> std::io::Result<String> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
    let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or_default();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match server.recv_timeout(left) {
                Ok(Some(request)) => {
                    let header = tiny_http::Header::from_bytes("Content-Type", content_type).expect("static header");
                    let _ = request.respond(tiny_http::Response::from_string(body.clone()).with_header(header));
                }
                _ => break,
            }
        }
    });
    Ok(format!("http://127.0.0.1:{port}/request-object"))
}
