//! The chain of addresses a request came through, as reverse proxies write it: in
//! `X-Forwarded-For` (a comma list, the client first, each proxy appending the address it
//! received the request from) or in the `for=` parameters of RFC 7239's `Forwarded`.
//!
//! Each hop is read on its own and the caller walks them from the right, nearest first: the
//! hops a trusted proxy wrote come last, and what lies left of them is whatever the client
//! chose to send. So a hop that cannot be read makes only that hop unreadable, never the whole
//! header: a client sending junk must not be able to make its request count as the proxy's.
//! Header values are read as bytes for the same reason (a non-ASCII byte anywhere would make
//! `HeaderValue::to_str` refuse all of it).

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::{HeaderMap, HeaderName};

use crate::configuration::ClientAddressHeader;

/// One hop: the address it names, or `None` when it names none that can be read (`unknown`,
/// an obfuscated `_name`, a host name, junk).
pub type Hop = Option<IpAddr>;

/// The hops of the configured header, in the order written (the client first, the nearest
/// proxy last), over all its field lines. Empty when the header is absent.
pub fn hops(headers: &HeaderMap, header: ClientAddressHeader) -> Vec<Hop> {
    type Parser = fn(&[u8]) -> Vec<Hop>;
    let (name, parse): (HeaderName, Parser) = match header {
        ClientAddressHeader::XForwardedFor => (HeaderName::from_static("x-forwarded-for"), x_forwarded_for),
        ClientAddressHeader::Forwarded => (actix_web::http::header::FORWARDED, forwarded),
    };
    // RFC 9110 §5.3: several field lines mean the same as one, their values joined by commas.
    headers.get_all(name).flat_map(|value| parse(value.as_bytes())).collect()
}

/// `X-Forwarded-For: 203.0.113.7, 10.0.0.2` (a port is tolerated: `203.0.113.7:4711`,
/// `[2001:db8::7]:4711`).
pub fn x_forwarded_for(value: &[u8]) -> Vec<Hop> {
    value.split(|b| *b == b',').filter(|part| !trim(part).is_empty()).map(|part| address(trim(part))).collect()
}

/// RFC 7239 §4: `Forwarded: for=203.0.113.7;proto=https, for="[2001:db8::7]:4711"`. Each
/// element's `for` parameter is its hop; an element without one is an unreadable hop.
pub fn forwarded(value: &[u8]) -> Vec<Hop> {
    split_outside_quotes(value, b',')
        .into_iter()
        .filter(|element| !trim(element).is_empty())
        .map(|element| {
            let pairs = split_outside_quotes(element, b';');
            let node = pairs.into_iter().find_map(|pair| {
                let (name, value) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
                trim(name).eq_ignore_ascii_case(b"for").then(|| unquote(trim(&value[1..])))
            })?;
            address(&node)
        })
        .collect()
}

/// RFC 7239 §6: a node is `a.b.c.d`, `"[v6]"`, either with `:port`, `unknown` or `_obfuscated`.
/// A bare IPv6 address (which the RFC would quote and bracket) is read too.
fn address(node: &[u8]) -> Hop {
    let text = std::str::from_utf8(node).ok()?;
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')?.strip_suffix(']')?.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// `value` cut at each `separator` that is not inside a quoted string (RFC 9110 §5.6.4).
fn split_outside_quotes(value: &[u8], separator: u8) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, byte) in value.iter().enumerate() {
        match (*byte, quoted, escaped) {
            (_, true, true) => escaped = false,
            (b'\\', true, false) => escaped = true,
            (b'"', _, false) => quoted = !quoted,
            (b, false, _) if b == separator => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// A token as is; a quoted string without its quotes and escapes.
fn unquote(value: &[u8]) -> Vec<u8> {
    let Some(inner) = value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")) else {
        return value.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for byte in inner {
        if !escaped && *byte == b'\\' {
            escaped = true;
        } else {
            out.push(*byte);
            escaped = false;
        }
    }
    out
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Hop {
        Some(text.parse().unwrap())
    }

    #[test]
    fn x_forwarded_for_is_read_hop_by_hop() {
        assert_eq!(x_forwarded_for(b"203.0.113.7, 10.0.0.2"), vec![ip("203.0.113.7"), ip("10.0.0.2")]);
        assert_eq!(x_forwarded_for(b"203.0.113.7:4711,[2001:db8::7]:80"), vec![ip("203.0.113.7"), ip("2001:db8::7")]);
        assert_eq!(x_forwarded_for(b"2001:db8::7"), vec![ip("2001:db8::7")]);
        // Junk written by the client spoils its own hop only.
        assert_eq!(x_forwarded_for(b"not an address, \xff\xfe, 198.51.100.1"), vec![None, None, ip("198.51.100.1")]);
        assert_eq!(x_forwarded_for(b""), vec![]);
        assert_eq!(x_forwarded_for(b" , "), vec![]);
    }

    #[test]
    fn forwarded_is_read_element_by_element() {
        let hops = forwarded(b"for=192.0.2.60;proto=http;by=203.0.113.43, For=\"[2001:db8:cafe::17]:4711\"");
        assert_eq!(hops, vec![ip("192.0.2.60"), ip("2001:db8:cafe::17")]);
        assert_eq!(forwarded(b"proto=https;for=\"198.51.100.17:443\""), vec![ip("198.51.100.17")]);
        // RFC 7239 §6.2 and §6.3: nodes that hide the address.
        assert_eq!(forwarded(b"for=unknown, for=_hidden, for=198.51.100.1"), vec![None, None, ip("198.51.100.1")]);
        // A quoted comma or semicolon does not cut the element.
        assert_eq!(forwarded(b"host=\"a,b;c\";for=192.0.2.1"), vec![ip("192.0.2.1")]);
        // An element without `for`, or unparseable, is an unreadable hop of its own.
        assert_eq!(forwarded(b"proto=https, for=\"[::1, for=192.0.2.9"), vec![None, None]);
        assert_eq!(forwarded(b"for=\"\\[2001:db8::1\\]\""), vec![ip("2001:db8::1")]);
    }

    #[test]
    fn every_field_line_of_the_configured_header_counts_and_the_other_header_none() {
        let mut headers = HeaderMap::new();
        headers.append(HeaderName::from_static("x-forwarded-for"), "203.0.113.7".parse().unwrap());
        headers.append(HeaderName::from_static("x-forwarded-for"), "10.0.0.2".parse().unwrap());
        headers.append(actix_web::http::header::FORWARDED, "for=198.51.100.9".parse().unwrap());
        assert_eq!(hops(&headers, ClientAddressHeader::XForwardedFor), vec![ip("203.0.113.7"), ip("10.0.0.2")]);
        assert_eq!(hops(&headers, ClientAddressHeader::Forwarded), vec![ip("198.51.100.9")]);
        assert_eq!(hops(&HeaderMap::new(), ClientAddressHeader::Forwarded), vec![]);
    }
}
