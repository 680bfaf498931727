//! Who is at the other end of the connection, as far as limits on sign-in attempts care.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

/// The client's address: the connection's peer. Behind a reverse proxy every request comes from
/// the proxy, so the limits per address then count the proxy as one client; reading the
/// client's address from the proxy's forwarding header, for proxies named in the settings only,
/// belongs here, in `from_request` (a later change: a header anyone can send must never be
/// believed by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(IpAddr);

impl ClientAddress {
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

impl FromRequest for ClientAddress {
    type Error = Infallible;
    type Future = Ready<Result<ClientAddress, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // No peer address only in-process tests without a socket: one shared unknown client.
        let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        ready(Ok(ClientAddress(peer)))
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
}
