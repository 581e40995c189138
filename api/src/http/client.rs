//! The client's address: the one answer to "who is on the other end", used
//! for everything keyed by client (the cost budget of anonymous callers, the
//! login-failure counters). Two readings of it once let a proxy's address
//! stand for every client behind it: 30 failed logins from anyone locked
//! sign-in for everyone.
//!
//! The TCP peer is the client unless it is one of `TRUSTED_PROXIES`. Then
//! `X-Forwarded-For` is read right to left (each proxy appends the address
//! it received from): trusted proxies are skipped, and so are hops that are
//! not addresses (`unknown`, garbage a client sent), so the client is the
//! right-most parsable hop that is not a trusted proxy. Nothing left of the
//! header: the peer itself.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;

/// A request's client address (`None` only when the peer is unknown, which
/// a real connection never is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client of `req`, given the proxies whose forwarding is believed.
    pub fn of(req: &HttpRequest, trusted: &[IpAddr]) -> ClientAddr {
        let peer = req.peer_addr().map(|a| a.ip());
        let hops = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
        ClientAddr(client_addr(peer, hops, trusted))
    }

    /// The key of everything counted per client: an IPv4 address, or an
    /// IPv6 client by its /64 (one customer's allocation: counting per
    /// address would give each of them 2^64 fresh counters).
    pub fn key(&self) -> String {
        match self.0 {
            None => "unknown".into(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// The client address from the peer and the `X-Forwarded-For` values (in
/// header order). Addresses are compared in canonical form, so an
/// IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`) matches the proxy `10.0.0.1`.
pub fn client_addr<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer.map(|p| p.to_canonical())?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let client = hops.into_iter().rev().filter_map(hop).find(|ip| !is_trusted(ip));
    Some(client.unwrap_or(peer))
}

/// One hop: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let ip = text.parse::<IpAddr>().ok().or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(peer: &str, xff: &[&str], trusted: &[&str]) -> Option<IpAddr> {
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| ip(t)).collect();
        client_addr(Some(ip(peer)), xff.iter().copied(), &trusted)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client("203.0.113.9", &["198.51.100.1"], &["10.0.0.1"]), Some(ip("203.0.113.9")));
        assert_eq!(client("203.0.113.9", &[], &[]), Some(ip("203.0.113.9")));
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_right_most_untrusted_hop() {
        let proxies = ["10.0.0.1", "10.0.0.2"];
        // A client-supplied left part is never believed over what the proxies appended.
        assert_eq!(client("10.0.0.1", &["6.6.6.6, 198.51.100.7, 10.0.0.2"], &proxies), Some(ip("198.51.100.7")));
        // Several header lines are one list, in order.
        assert_eq!(client("10.0.0.1", &["6.6.6.6", "198.51.100.7", "10.0.0.2"], &proxies), Some(ip("198.51.100.7")));
        // Only proxies: the peer.
        assert_eq!(client("10.0.0.1", &["10.0.0.2"], &proxies), Some(ip("10.0.0.1")));
        assert_eq!(client("10.0.0.1", &[], &proxies), Some(ip("10.0.0.1")));
    }

    #[test]
    fn unparsable_hops_are_skipped_not_the_end_of_the_walk() {
        let proxies = ["10.0.0.1"];
        assert_eq!(client("10.0.0.1", &["198.51.100.7, garbage"], &proxies), Some(ip("198.51.100.7")));
        assert_eq!(
            client("10.0.0.1", &["nope, 198.51.100.7, unknown, , 10.0.0.1"], &proxies),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client("10.0.0.1", &["garbage"], &proxies), Some(ip("10.0.0.1")), "nothing usable: the peer");
        // Ports and IPv6 brackets are read.
        assert_eq!(client("10.0.0.1", &["198.51.100.7:4711"], &proxies), Some(ip("198.51.100.7")));
        assert_eq!(client("10.0.0.1", &["[2001:db8::5]:443"], &proxies), Some(ip("2001:db8::5")));
    }

    #[test]
    fn ipv4_mapped_addresses_are_the_same_address() {
        assert_eq!(client("::ffff:10.0.0.1", &["198.51.100.7"], &["10.0.0.1"]), Some(ip("198.51.100.7")));
        assert_eq!(client("10.0.0.1", &["::ffff:198.51.100.7"], &["::ffff:10.0.0.1"]), Some(ip("198.51.100.7")));
    }

    #[test]
    fn keys_group_ipv6_clients_by_their_64() {
        assert_eq!(ClientAddr(Some(ip("198.51.100.7"))).key(), "198.51.100.7");
        assert_eq!(ClientAddr(Some(ip("2001:db8:1:2:aaaa::1"))).key(), "2001:db8:1:2::/64");
        assert_eq!(ClientAddr(Some(ip("2001:db8:1:2:bbbb::9"))).key(), "2001:db8:1:2::/64");
        assert_eq!(ClientAddr(None).key(), "unknown");
    }

    #[test]
    fn the_request_is_read_through_the_same_function() {
        let req = actix_web::test::TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.7, junk"))
            .to_http_request();
        assert_eq!(ClientAddr::of(&req, &[ip("10.0.0.1")]).0, Some(ip("198.51.100.7")));
        assert_eq!(ClientAddr::of(&req, &[]).0, Some(ip("10.0.0.1")));
    }
}
