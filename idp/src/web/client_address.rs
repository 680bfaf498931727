//! Who is at the other end of a request, as the limits on sign-in attempts and the access log
//! name them: the connection's peer, or, when that peer is one of the trusted reverse proxies
//! (`http.trusted_proxies`), the client that proxy forwarded the request for.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::forwarded::{self, Hop};
use super::AppState;
use crate::configuration::TrustedProxies;

/// The client's address. A header anyone can send is believed only as far as trusted proxies
/// wrote it: see [`client_of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
    /// The client of `req`, by the server's settings (the peer alone where none are reachable:
    /// a request built in a test without the application).
    pub fn of(req: &HttpRequest) -> ClientAddress {
        // No peer address only in-process tests without a socket: one shared unknown client.
        let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ClientAddress(peer.to_canonical());
        };
        let http = &state.settings.http;
        if http.trusted_proxies.is_empty() {
            return ClientAddress(peer.to_canonical());
        }
        let hops = forwarded::hops(req.headers(), http.client_address_header);
        ClientAddress(client_of(peer, &http.trusted_proxies, &hops))
    }

    /// The address as limits count it: an IPv4 address as is, an IPv6 address as its /64 (one
    /// subscriber's network: a host picks any address inside it at no cost).
    pub fn counted(&self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
        }
    }

    /// [`Self::counted`] as text, as the store keeps it.
    pub fn key(&self) -> String {
        self.counted().to_string()
    }
}

/// The address itself, as the access log shows it.
impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The client behind `peer`: the peer itself unless it is a trusted proxy; then the hops of the
/// forwarding header are walked from the right (each proxy appends the address it received the
/// request from), past every trusted proxy, to the first address that is not one. Whatever lies
/// left of that address was written by the client and is never read. A hop that a trusted proxy
/// wrote but that names no address (`unknown`, junk) leaves the peer as the client: the chain
/// cannot be followed, and the peer is the one address known for sure. When every hop is a
/// trusted proxy, the leftmost is the client (a proxy's own request).
pub fn client_of(peer: IpAddr, trusted: &TrustedProxies, hops: &[Hop]) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(address) = hop else { return peer };
        client = address.to_canonical();
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

impl FromRequest for ClientAddress {
    type Error = Infallible;
    type Future = Ready<Result<ClientAddress, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientAddress::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_64_network() {
        let a = ClientAddress("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddress("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a.key(), "2001:db8:1:2::");
        assert_eq!(a.counted(), b.counted());
        assert_eq!(ClientAddress("::ffff:192.0.2.7".parse().unwrap()).key(), "192.0.2.7");
        assert_eq!(ClientAddress("192.0.2.7".parse().unwrap()).key(), "192.0.2.7");
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn hops(list: &[&str]) -> Vec<Hop> {
        list.iter().map(|h| h.parse().ok()).collect()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(client_of(ip("198.51.100.4"), &none, &hops(&["203.0.113.7"])), ip("198.51.100.4"));
        let other = proxies(&["10.0.0.0/8"]);
        assert_eq!(client_of(ip("198.51.100.4"), &other, &hops(&["203.0.113.7", "10.0.0.2"])), ip("198.51.100.4"));
    }

    #[test]
    fn the_chain_is_walked_from_the_right_past_trusted_proxies() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        // The client's own entries (left of what the proxies wrote) are never believed.
        let chain = hops(&["192.0.2.66", "203.0.113.7", "10.1.2.3"]);
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &chain), ip("203.0.113.7"));
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &hops(&["203.0.113.7"])), ip("203.0.113.7"));
        // A peer seen as an IPv4-mapped IPv6 address is its IPv4 self.
        assert_eq!(client_of(ip("::ffff:127.0.0.1"), &trusted, &hops(&["203.0.113.7"])), ip("203.0.113.7"));
        // Every hop a proxy: the leftmost, the one that sent the request.
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &hops(&["10.0.0.9", "10.0.0.2"])), ip("10.0.0.9"));
        // No header: the proxy itself (its health check).
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn an_unreadable_hop_written_by_a_proxy_leaves_the_peer() {
        let trusted = proxies(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &[None]), ip("127.0.0.1"));
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &[ip("203.0.113.7").into(), None]), ip("127.0.0.1"));
        assert_eq!(
            client_of(ip("127.0.0.1"), &trusted, &[ip("203.0.113.7").into(), None, ip("10.0.0.2").into()]),
            ip("127.0.0.1")
        );
        // Junk left of the first untrusted address is the client's own and changes nothing.
        assert_eq!(client_of(ip("127.0.0.1"), &trusted, &[None, ip("203.0.113.7").into()]), ip("203.0.113.7"));
    }
}
