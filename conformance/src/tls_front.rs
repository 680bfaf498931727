//! The TLS-terminating front the provider runs behind, as in a deployment: it listens on
//! `https://127.0.0.1:<port>` with a certificate generated for this run (for `127.0.0.1` and
//! `localhost`) and relays each connection's bytes, once the handshake is done, to the
//! provider's plain-http address. HTTP/1.1 passes through unchanged.
//!
//! The harness's HTTP clients trust exactly this certificate ([`TlsFront::certificate`]).
//! The front stops when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;
use url::Url;

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TlsFront {
    addr: SocketAddr,
    certificate: CertificateDer<'static>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsFront {
    /// Starts a front on a free port of 127.0.0.1 forwarding to `backend` (which need not be
    /// listening yet: a connection made before it is closed after the handshake).
    pub fn start(backend: SocketAddr) -> anyhow::Result<TlsFront> {
        let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .context("generating the front's certificate")?;
        let certificate = generated.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.clone()], key)
            .context("the front's certificate and key")?;
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tls-front")
            .enable_io()
            .enable_time()
            .build()
            .context("starting the TLS front's runtime")?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).context("binding the TLS front")?;
        let addr = listener.local_addr()?;
        runtime.spawn(accept_loop(listener, acceptor, backend));
        Ok(TlsFront { addr, certificate, runtime: Some(runtime) })
    }

    /// `https://127.0.0.1:<port>`: the public URL of the deployment, its issuer.
    pub fn url(&self) -> Url {
        Url::parse(&format!("https://{}", self.addr)).expect("an https URL")
    }

    /// The run's certificate, to add as the only root a client trusts.
    pub fn certificate(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_der(&self.certificate).expect("a DER certificate")
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, backend: SocketAddr) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A failed handshake or an absent backend closes this connection only.
            let _ = relay(client, acceptor, backend).await;
        });
    }
}

async fn relay(client: TcpStream, acceptor: TlsAcceptor, backend: SocketAddr) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let mut tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(client))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))??;
    let mut server = TcpStream::connect(backend).await?;
    let _ = server.set_nodelay(true);
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}

/// A blocking HTTP client builder that trusts `root` only, when one is given (the TLS front's
/// certificate), and otherwise the built-in roots.
pub fn client_builder(root: Option<&reqwest::Certificate>) -> reqwest::blocking::ClientBuilder {
    let builder = reqwest::blocking::Client::builder();
    match root {
        Some(certificate) => builder.tls_built_in_root_certs(false).add_root_certificate(certificate.clone()),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// A one-shot plain-http backend answering `body`.
    fn backend(body: &'static str) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let mut request = Vec::new();
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buf[..n]);
            }
            let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            stream.write_all(reply.as_bytes()).unwrap();
        });
        addr
    }

    #[test]
    fn relays_https_to_the_backend_for_a_client_that_trusts_the_certificate() {
        let front = TlsFront::start(backend("hello over tls")).unwrap();
        assert_eq!(front.url().scheme(), "https");
        let client = client_builder(Some(&front.certificate())).build().unwrap();
        let text = client.get(front.url()).send().unwrap().text().unwrap();
        assert_eq!(text, "hello over tls");
    }

    #[test]
    fn a_client_with_the_built_in_roots_refuses_the_certificate() {
        let front = TlsFront::start(backend("never read")).unwrap();
        let client = client_builder(None).build().unwrap();
        let error = client.get(front.url()).send().unwrap_err();
        assert!(error.is_connect(), "{error:?}");
    }

    #[test]
    fn a_client_trusting_another_run_s_certificate_refuses_it() {
        let front = TlsFront::start(backend("never read")).unwrap();
        let other = TlsFront::start(backend("never read")).unwrap();
        let client = client_builder(Some(&other.certificate())).build().unwrap();
        assert!(client.get(front.url()).send().is_err());
    }
}
