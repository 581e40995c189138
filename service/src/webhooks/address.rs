//! Where a delivery may go (SSRF guard). An endpoint's URL is `https`, or
//! `http` to a host named in `WEBHOOK_ALLOW_HTTP_HOSTS`; it carries no user
//! name or password and no fragment. Every address its host resolves to must
//! be public (not loopback, private, link-local, shared, documentation,
//! multicast or reserved; IPv4 inside IPv6 is checked as IPv4) unless it lies
//! in `WEBHOOK_ALLOW_NETWORKS`. The check runs when the endpoint is created
//! (for an address written in the URL) and again before every attempt, in the
//! HTTP client's own resolver ([`GuardedResolver`]): the connection goes to
//! exactly the addresses checked, so a name that changes its answer between
//! check and connect (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

use super::WebhookSettings;

/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2000;

/// What the settings allow.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    allow_http_hosts: Vec<String>,
    allow_networks: Vec<ipnet::IpNet>,
}

impl AddressPolicy {
    pub fn new(settings: &WebhookSettings) -> AddressPolicy {
        AddressPolicy {
            allow_http_hosts: settings.allow_http_hosts.clone(),
            allow_networks: settings.allow_networks.clone(),
        }
    }

    /// An endpoint URL as it may be stored, or why not.
    pub fn check_url(&self, text: &str) -> Result<Url, String> {
        let text = text.trim();
        if text.chars().count() > MAX_URL_CHARS {
            return Err(format!("the URL is longer than {MAX_URL_CHARS} characters"));
        }
        let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("the URL has no host")?.to_ascii_lowercase();
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http_hosts.iter().any(|h| *h == host || *h == host.trim_matches(['[', ']'])) => {}
            "http" => return Err(format!("deliveries go over https only (`{host}` is not allowed plain http)")),
            other => return Err(format!("`{other}` URLs are not supported; use https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("the URL must not have a fragment (#…)".into());
        }
        if let Some(ip) = literal(&url) {
            self.check_ip(ip)?;
        }
        Ok(url)
    }

    /// Whether a delivery may connect to `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let ip = ip.to_canonical();
        if is_public(ip) || self.allow_networks.iter().any(|n| n.contains(&ip)) {
            Ok(())
        } else {
            Err(format!("{ip} is not a public address (loopback, private, link-local or reserved)"))
        }
    }

    /// The addresses `host` resolves to, all of them allowed, or why not.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_matches(['[', ']']);
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.check_ip(ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
        if found.is_empty() {
            return Err(format!("{host} has no address"));
        }
        for a in &found {
            self.check_ip(a.ip()).map_err(|e| format!("{host} resolves to {e}"))?;
        }
        Ok(found)
    }
}

/// The address written in a URL's host, if it is one.
pub fn literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The HTTP client's resolver: answers only with addresses the policy allows,
/// and refuses a name with any other.
pub struct GuardedResolver(pub Arc<AddressPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = policy.resolve(&host, 0).await.map_err(Box::<dyn std::error::Error + Send + Sync>::from)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0                                  // "this network"
        || (a == 100 && (64..128).contains(&b))    // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)          // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b))     // benchmarking
        || a >= 240) // reserved
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4 carried in IPv6: NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 inside.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    }
    if s[0] == 0x2002 {
        return public_v4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00                // unique local
        || (s[0] & 0xffc0) == 0xfe80                // link-local
        || (s[0] & 0xffc0) == 0xfec0                // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)       // documentation
        || (s[0] == 0x2001 && s[1] == 0)            // Teredo
        || (s[0] == 0x100 && s[1..4] == [0, 0, 0])  // discard
        || s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(http: &[&str], nets: &[&str]) -> AddressPolicy {
        AddressPolicy {
            allow_http_hosts: http.iter().map(|h| h.to_string()).collect(),
            allow_networks: nets.iter().map(|n| n.parse().unwrap_or_else(|e| panic!("{e}"))).collect(),
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2001:db8::1",
            "ff02::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"))), "{ip} counted as public");
        }
        for ip in ["1.1.1.1", "223.5.5.5", "2400:3200::1", "64:ff9b::101:101", "::ffff:1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"))), "{ip} refused");
        }
    }

    #[test]
    fn urls_must_be_https_public_and_without_credentials() {
        let p = policy(&["yuejiangping.intra"], &[]);
        assert!(p.check_url("https://hooks.example.cn/kaohe").is_ok());
        assert!(p.check_url("http://yuejiangping.intra:8080/hook").is_ok());
        for bad in [
            "http://hooks.example.cn/kaohe",
            "ftp://hooks.example.cn/",
            "https://user:pw@hooks.example.cn/",
            "https://hooks.example.cn/#x",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/hook",
            "https://[::ffff:192.168.0.1]/",
            "not a url",
        ] {
            assert!(p.check_url(bad).is_err(), "{bad} accepted");
        }
        let intranet = policy(&[], &["10.20.0.0/16"]);
        assert!(intranet.check_url("https://10.20.1.1/hook").is_ok());
        assert!(intranet.check_url("https://10.21.1.1/hook").is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let p = policy(&[], &[]);
        assert!(p.resolve("localhost", 80).await.is_err());
        let allowed = policy(&[], &["127.0.0.0/8", "::1/128"]);
        let addrs = allowed.resolve("localhost", 80).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    }
}
