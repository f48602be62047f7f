//! The egress policy: which addresses Toolhub may connect to on a server's behalf. Cloud
//! metadata and link-local addresses are refused by default; operators add allow and deny rules.

use std::net::{IpAddr, SocketAddr};

use toolhub_domain::upstream::UpstreamError;

/// An address block (`10.0.0.0/8`, `fe80::/10`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| format!("bad address in '{text}'"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("bad prefix in '{text}'"))?
            }
            None => max,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Refused unless allowed: link-local (which holds most cloud metadata endpoints), the
/// metadata addresses outside it, and unspecified addresses.
pub const DEFAULT_DENY: [&str; 6] =
    ["169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128", "0.0.0.0/32", "::/128"];

#[derive(Debug, Clone)]
pub struct EgressPolicy {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self { allow: Vec::new(), deny: DEFAULT_DENY.iter().filter_map(|c| Cidr::parse(c).ok()).collect() }
    }
}

impl EgressPolicy {
    /// The default policy plus extra rules; allow rules win over deny rules.
    pub fn new(allow: &[String], deny: &[String]) -> Result<Self, String> {
        let mut policy =
            Self { allow: allow.iter().map(|c| Cidr::parse(c)).collect::<Result<_, _>>()?, ..Self::default() };
        for rule in deny {
            policy.deny.push(Cidr::parse(rule)?);
        }
        Ok(policy)
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|c| c.contains(ip)) || !self.deny.iter().any(|c| c.contains(ip))
    }

    /// Resolves the URL's host and checks every address; returns the host and the addresses
    /// to pin the connection to (so a second lookup cannot swap in a refused address).
    pub async fn check_url(&self, url: &str) -> Result<(String, Vec<SocketAddr>), UpstreamError> {
        let parsed = url::Url::parse(url).map_err(|e| UpstreamError::Unavailable(format!("bad URL: {e}")))?;
        let host = parsed.host_str().ok_or_else(|| UpstreamError::Unavailable("URL without host".into()))?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| UpstreamError::Unavailable(format!("cannot resolve {bare}: {e}")))?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(UpstreamError::Unavailable(format!("{bare} has no address")));
        }
        if let Some(refused) = addresses.iter().find(|a| !self.permits(a.ip())) {
            return Err(UpstreamError::Refused(format!("{bare} ({})", refused.ip())));
        }
        Ok((bare.to_owned(), addresses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_and_link_local_are_refused_by_default() {
        let policy = EgressPolicy::default();
        for refused in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "0.0.0.0",
        ] {
            assert!(!policy.permits(ip(refused)), "{refused}");
        }
        for permitted in ["127.0.0.1", "10.1.2.3", "93.184.216.34", "::1", "2001:db8::1"] {
            assert!(policy.permits(ip(permitted)), "{permitted}");
        }
    }

    #[test]
    fn allow_rules_win_and_deny_rules_add() {
        let policy = EgressPolicy::new(&["169.254.10.0/24".into()], &["10.0.0.0/8".into()]).unwrap();
        assert!(policy.permits(ip("169.254.10.5")));
        assert!(!policy.permits(ip("169.254.169.254")));
        assert!(!policy.permits(ip("10.9.9.9")));
        assert!(EgressPolicy::new(&["nope".into()], &[]).is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[tokio::test]
    async fn urls_are_checked_after_resolution() {
        let policy = EgressPolicy::default();
        assert!(matches!(policy.check_url("http://169.254.169.254/latest").await, Err(UpstreamError::Refused(_))));
        assert!(matches!(policy.check_url("http://[fe80::1]:8080/mcp").await, Err(UpstreamError::Refused(_))));
        let (host, addresses) = policy.check_url("http://127.0.0.1:9/mcp").await.unwrap();
        assert_eq!((host.as_str(), addresses[0].port()), ("127.0.0.1", 9));
        assert!(policy.check_url("http://localhost:9/").await.is_ok());
    }
}
