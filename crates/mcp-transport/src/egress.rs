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

/// IPv6 forms that carry an IPv4 address are judged as that address: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:AABB:CCDD::`), so none of them leads around a rule on the IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let bits = u128::from(v6);
    let embedded = |shift: u32| IpAddr::V4(std::net::Ipv4Addr::from((bits >> shift) as u32));
    match v6.segments() {
        // IPv4-compatible, but not `::` and `::1`, which are IPv6's own.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => embedded(0),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => embedded(0),
        [0x2002, _, _, _, _, _, _, _] => embedded(80),
        _ => ip,
    }
}

/// Refused unless allowed: link-local (which holds most cloud metadata endpoints), the
/// metadata addresses outside it, and unspecified addresses.
pub const DEFAULT_DENY: [&str; 6] =
    ["169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128", "0.0.0.0/32", "::/128"];

/// Loopback, private, shared (CGNAT), unique-local, multicast and reserved blocks: the host and
/// its networks, refused for tenants' servers unless the operator allows them (`--egress-allow`).
/// The operator's own tenant (`default`) reaches them, so a single-operator install reaches its
/// local servers out of the box.
pub const PRIVATE: [&str; 12] = [
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "ff00::/8",
    "198.18.0.0/15",
];

/// Whose server a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The operator's tenant: private networks are reachable.
    Operator,
    /// Another tenant: private networks need an explicit allow rule.
    Tenant,
}

impl Reach {
    /// The reach of a server of `tenant`.
    pub fn of(tenant: &str) -> Self {
        if tenant == toolhub_domain::DEFAULT_TENANT { Self::Operator } else { Self::Tenant }
    }
}

#[derive(Debug, Clone)]
pub struct EgressPolicy {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
    private: Vec<Cidr>,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        let parse = |list: &[&str]| list.iter().filter_map(|c| Cidr::parse(c).ok()).collect();
        Self { allow: Vec::new(), deny: parse(&DEFAULT_DENY), private: parse(&PRIVATE) }
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

    /// Whether a connection for a server of this reach may go to `ip`.
    pub fn permits(&self, ip: IpAddr, reach: Reach) -> bool {
        let denied = |rules: &[Cidr]| rules.iter().any(|c| c.contains(ip));
        self.allow.iter().any(|c| c.contains(ip))
            || !(denied(&self.deny) || (reach == Reach::Tenant && denied(&self.private)))
    }

    /// Resolves the URL's host and checks every address; returns the host and the addresses
    /// to pin the connection to (so a second lookup cannot swap in a refused address).
    pub async fn check_url(&self, url: &str, reach: Reach) -> Result<(String, Vec<SocketAddr>), UpstreamError> {
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
        if let Some(refused) = addresses.iter().find(|a| !self.permits(a.ip(), reach)) {
            return Err(UpstreamError::Refused(format!("{bare} ({})", refused.ip())));
        }
        Ok((bare.to_owned(), addresses))
    }

    /// An HTTP client builder for `url`'s host, pinned to the addresses this policy lets a
    /// server of `tenant` reach; no proxy and no redirects, either of which would bypass the
    /// check. Other hosts than `url`'s are not pinned: use the client for that host only.
    pub async fn pinned(&self, url: &str, tenant: &str) -> Result<reqwest::ClientBuilder, UpstreamError> {
        let (host, addresses) = self.check_url(url, Reach::of(tenant)).await?;
        Ok(reqwest::Client::builder()
            .no_proxy()
            .resolve_to_addrs(&host, &addresses)
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true))
    }

    /// A client for `url`'s host (see [`Self::pinned`]) that sends the server's headers and,
    /// when given, its OAuth bearer token with every request.
    pub async fn server_client(
        &self,
        server: &toolhub_domain::server::ToolServer,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<reqwest::Client, UpstreamError> {
        use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
        let mut headers = HeaderMap::new();
        for (name, value) in &server.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| UpstreamError::Unavailable(format!("bad header name {name}")))?;
            let value = HeaderValue::from_str(value.expose())
                .map_err(|_| UpstreamError::Unavailable(format!("bad value of header {name}")))?;
            headers.insert(name, value);
        }
        if let Some(token) = bearer {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| UpstreamError::Unavailable("bad OAuth token".into()))?;
            headers.insert(AUTHORIZATION, value);
        }
        let builder = self.pinned(url, &server.tenant).await?;
        builder.default_headers(headers).build().map_err(|e| UpstreamError::Unavailable(e.to_string()))
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
            assert!(!policy.permits(ip(refused), Reach::Operator), "{refused}");
        }
        for permitted in ["127.0.0.1", "10.1.2.3", "93.184.216.34", "::1", "2001:db8::1"] {
            assert!(policy.permits(ip(permitted), Reach::Operator), "{permitted}");
        }
    }

    #[test]
    fn tenants_do_not_reach_the_host_or_its_networks_in_any_spelling() {
        let policy = EgressPolicy::default();
        for refused in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "192.168.1.1",
            "172.20.0.1",
            "100.64.0.1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!policy.permits(ip(refused), Reach::Tenant), "{refused}");
        }
        assert!(policy.permits(ip("93.184.216.34"), Reach::Tenant));
        assert!(policy.permits(ip("2606:4700::1111"), Reach::Tenant));
        let opened = EgressPolicy::new(&["10.0.0.0/8".into()], &[]).unwrap();
        assert!(opened.permits(ip("10.1.2.3"), Reach::Tenant), "the operator opens ranges");
        assert_eq!(Reach::of("default"), Reach::Operator);
        assert_eq!(Reach::of("acme"), Reach::Tenant);
    }

    #[test]
    fn allow_rules_win_and_deny_rules_add() {
        let policy = EgressPolicy::new(&["169.254.10.0/24".into()], &["10.0.0.0/8".into()]).unwrap();
        assert!(policy.permits(ip("169.254.10.5"), Reach::Tenant));
        assert!(!policy.permits(ip("169.254.169.254"), Reach::Operator));
        assert!(!policy.permits(ip("10.9.9.9"), Reach::Operator));
        assert!(EgressPolicy::new(&["nope".into()], &[]).is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[tokio::test]
    async fn urls_are_checked_after_resolution() {
        let policy = EgressPolicy::default();
        let refused = |r| matches!(r, Err(UpstreamError::Refused(_)));
        assert!(refused(policy.check_url("http://169.254.169.254/latest", Reach::Operator).await));
        assert!(refused(policy.check_url("http://[fe80::1]:8080/mcp", Reach::Operator).await));
        let (host, addresses) = policy.check_url("http://127.0.0.1:9/mcp", Reach::Operator).await.unwrap();
        assert_eq!((host.as_str(), addresses[0].port()), ("127.0.0.1", 9));
        assert!(policy.check_url("http://localhost:9/", Reach::Operator).await.is_ok());
        assert!(refused(policy.check_url("http://localhost:9/", Reach::Tenant).await));
    }
}
