//! Where webhooks may point: the policy, the check of a webhook's URL, and the address filter.
//!
//! The filter is the one place that says which IP addresses a webhook may reach. It is applied to a
//! literal address in a URL (`check_url`) and to every address a name resolves to (the delivery client's
//! resolver), so both paths refuse the same ranges. The ranges are those of the IANA special-purpose
//! registries that do not reach the public internet, and IPv6 forms that carry an IPv4 address are
//! judged by the IPv4 address they reach.

use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where webhooks may point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// When not empty, the only hosts allowed: exact names, or `*.example.com` for any subdomain.
    pub allowed_hosts: Vec<String>,
    /// Allow loopback, private and link-local targets, and plain HTTP (an internal SIEM, tests).
    pub allow_private: bool,
}

impl WebhookPolicy {
    /// Whether a webhook may connect to `ip`: any address when private targets are allowed, else only a
    /// public one. The refusal names the range.
    pub(crate) fn check_address(&self, ip: IpAddr) -> Result<(), Refused> {
        match refusal(ip) {
            Some(refused) if !self.allow_private => Err(refused),
            _ => Ok(()),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty()
            || self.allowed_hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => allowed.eq_ignore_ascii_case(host),
            })
    }
}

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The address is in a range that does not reach the public internet (its name).
    Range(&'static str),
    /// An IPv6 address that carries a refused IPv4 address: how it carries it, the address, its range.
    Wraps(&'static str, Ipv4Addr, &'static str),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Range(range) => f.write_str(range),
            Self::Wraps(how, v4, range) => write!(f, "{how} wrapping {range} {v4}"),
        }
    }
}

/// IPv4 ranges refused, more specific first where they overlap (0.0.0.0 is in 0/8, 255.255.255.255 in
/// 240/4), so the name given is the most precise one.
const V4_REFUSED: &[(Ipv4Addr, u32, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 32, "unspecified"),
    (Ipv4Addr::new(255, 255, 255, 255), 32, "broadcast"),
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "carrier-grade NAT"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    // Protocol assignments (DS-Lite, NAT64 discovery, ...): not destinations on the internet.
    (Ipv4Addr::new(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    // The deprecated 6to4 relay anycast (RFC 7526): whoever answers there is not the receiver.
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay anycast"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

/// IPv6 ranges refused outright. The forms that carry an IPv4 address are in `carried_v4`.
const V6_REFUSED: &[(Ipv6Addr, u32, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, "unspecified"),
    (Ipv6Addr::LOCALHOST, 128, "loopback"),
    // Local-use NAT64 (RFC 8215): the operator picks where the IPv4 address sits (prefixes of /48 to
    // /96), so which IPv4 address it reaches cannot be told from the address. Refused whatever it wraps.
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, "local-use NAT64"),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard-only"),
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, "benchmarking"),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, "documentation"),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, "documentation"),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique-local"),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

fn v4_refusal(ip: Ipv4Addr) -> Option<&'static str> {
    V4_REFUSED.iter().find(|(net, len, _)| in_v4(ip, *net, *len)).map(|(_, _, name)| *name)
}

/// The IPv4 address an IPv6 address carries, and how, for the forms that reach an IPv4 host.
fn carried_v4(ip: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let octets = ip.octets();
    let [.., l0, l1, l2, l3] = octets;
    let low = Ipv4Addr::new(l0, l1, l2, l3);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(("IPv4-mapped", v4))
    } else if in_v6(ip, Ipv6Addr::UNSPECIFIED, 96) {
        // IPv4-compatible (deprecated, RFC 4291): judged like the mapped form, by the IPv4 address, so an
        // automatic tunnel to it can reach nothing a plain IPv4 webhook could not.
        Some(("IPv4-compatible", low))
    } else if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        // The well-known NAT64 prefix (RFC 6052) reaches the IPv4 address in its low 32 bits through the
        // network's translator: a public one is allowed, as it would be over IPv4.
        Some(("NAT64", low))
    } else if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        // 6to4 (RFC 3056): a relay forwards to the IPv4 address in bits 16..48, so that address decides,
        // and a public one is allowed.
        let [_, _, a, b, c, d, ..] = octets;
        Some(("6to4", Ipv4Addr::new(a, b, c, d)))
    } else if in_v6(ip, Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32) {
        // Teredo (RFC 4380): a relay forwards to the client's IPv4 address, stored inverted in the low 32
        // bits, so that address decides, and a public one is allowed.
        Some(("Teredo", Ipv4Addr::from(!u32::from(low))))
    } else {
        None
    }
}

/// The reason `ip` is refused when private targets are not allowed; `None` for a public address.
pub(crate) fn refusal(ip: IpAddr) -> Option<Refused> {
    match ip {
        IpAddr::V4(v4) => v4_refusal(v4).map(Refused::Range),
        IpAddr::V6(v6) => {
            if let Some((_, _, name)) = V6_REFUSED.iter().find(|(net, len, _)| in_v6(v6, *net, *len)) {
                return Some(Refused::Range(name));
            }
            if let Some((how, v4)) = carried_v4(v6) {
                return v4_refusal(v4).map(|range| Refused::Wraps(how, v4, range));
            }
            // Everything else outside global unicast is unassigned or reserved: nothing to deliver to.
            let global_unicast = in_v6(v6, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);
            (!global_unicast).then_some(Refused::Range("outside global unicast"))
        }
    }
}

/// Checks a webhook address against the policy before any resolution: scheme, credentials, host, the
/// allow list, and a literal address by the address filter (a literal address is never resolved, so the
/// delivery client's resolver would not see it).
pub(crate) fn check_url(url: &str, policy: &WebhookPolicy) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_private => {}
        _ => return Err("webhooks are delivered over https only".into()),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put credentials in the signing secret, not the URL".into());
    }
    // The URL parser has already lowercased names and turned every IPv4 spelling (`0x7f.1`, `2130706433`)
    // into dotted form, and it is the same parsed URL that is delivered to.
    // A trailing dot names the same host (`localhost.` is `localhost`).
    let host =
        parsed.host_str().unwrap_or_default().trim_matches(['[', ']']).trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    if !policy.host_allowed(&host) {
        return Err(format!("{host} is not among the allowed webhook hosts"));
    }
    // `localhost` names this machine whatever a resolver says (RFC 6761): refused by name.
    if !policy.allow_private && (host == "localhost" || host.ends_with(".localhost")) {
        return Err(format!("{host} is this machine: webhooks go to public addresses"));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        policy.check_address(ip).map_err(|why| format!("{ip} is refused ({why}): webhooks go to public addresses"))?;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, point 11: numeric host forms and `localhost` by name.
    #[test]
    fn regression_14_11_numeric_hosts_are_read_as_addresses_and_localhost_is_refused_by_name() {
        let strict = WebhookPolicy::default();
        for bad in [
            "https://2130706433/hook",
            "https://0x7f000001/hook",
            "https://0177.0.0.1/hook",
            "https://127.1/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
            "https://LOCALHOST./hook",
        ] {
            let err = check_url(bad, &strict).unwrap_err();
            assert!(err.contains("127.0.0.1") || err.contains("localhost"), "{bad}: {err}");
        }
        let internal = WebhookPolicy { allow_private: true, ..strict };
        assert!(check_url("http://localhost:9000/hook", &internal).is_ok(), "tests and internal SIEMs");
    }

    #[test]
    fn only_public_https_targets_are_allowed_by_default() {
        let strict = WebhookPolicy::default();
        assert!(check_url("https://siem.example.com/hook", &strict).is_ok());
        for bad in [
            "http://siem.example.com/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://0x7f.1/hook",
            "https://2130706433/hook",
            "https://user:pw@siem.example.com/",
            "https://user@siem.example.com/",
            "ftp://siem.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, &strict).is_err(), "{bad}");
        }
        assert!(check_url("https://8.8.8.8/hook", &strict).is_ok(), "a public literal address is allowed");
        let listed =
            WebhookPolicy { allowed_hosts: vec!["*.example.com".into(), "siem.corp".into()], ..strict.clone() };
        assert!(check_url("https://a.example.com/", &listed).is_ok());
        assert!(check_url("https://siem.corp/", &listed).is_ok());
        assert!(check_url("https://SIEM.corp/", &listed).is_ok(), "names compare without case");
        assert!(check_url("https://example.com.evil.net/", &listed).is_err());
        let internal = WebhookPolicy { allow_private: true, ..strict };
        assert!(check_url("http://127.0.0.1:9000/hook", &internal).is_ok());
        assert!(check_url("https://[::1]:9000/hook", &internal).is_ok());
    }

    #[test]
    fn a_refused_literal_address_is_named_with_its_range() {
        let err = check_url("https://[fd00::1]/hook", &WebhookPolicy::default()).unwrap_err();
        assert!(err.contains("fd00::1") && err.contains("unique-local"), "{err}");
    }

    /// Every refused range with an example address and the name the refusal gives, then public addresses
    /// (`None`) that must be allowed.
    const TABLE: &[(&str, Option<&str>)] = &[
        ("127.0.0.1", Some("loopback")),
        ("127.255.255.254", Some("loopback")),
        ("::1", Some("loopback")),
        ("10.0.0.1", Some("private")),
        ("172.16.0.1", Some("private")),
        ("172.31.255.254", Some("private")),
        ("192.168.1.1", Some("private")),
        ("169.254.169.254", Some("link-local")),
        ("fe80::1", Some("link-local")),
        ("febf::1", Some("link-local")),
        ("100.64.0.1", Some("carrier-grade NAT")),
        ("100.127.255.254", Some("carrier-grade NAT")),
        ("224.0.0.1", Some("multicast")),
        ("239.255.255.250", Some("multicast")),
        ("ff02::1", Some("multicast")),
        ("240.0.0.1", Some("reserved")),
        ("255.255.255.254", Some("reserved")),
        ("255.255.255.255", Some("broadcast")),
        ("0.0.0.0", Some("unspecified")),
        ("::", Some("unspecified")),
        ("0.1.2.3", Some("this network")),
        ("198.18.0.1", Some("benchmarking")),
        ("198.19.255.254", Some("benchmarking")),
        ("2001:2::1", Some("benchmarking")),
        ("192.0.0.8", Some("IETF protocol assignments")),
        ("192.0.2.1", Some("documentation")),
        ("198.51.100.1", Some("documentation")),
        ("203.0.113.1", Some("documentation")),
        ("2001:db8::1", Some("documentation")),
        ("3fff::1", Some("documentation")),
        ("192.88.99.1", Some("6to4 relay anycast")),
        ("100::1", Some("discard-only")),
        ("::ffff:127.0.0.1", Some("IPv4-mapped wrapping loopback 127.0.0.1")),
        ("::ffff:10.0.0.1", Some("IPv4-mapped wrapping private 10.0.0.1")),
        ("::ffff:169.254.169.254", Some("IPv4-mapped wrapping link-local 169.254.169.254")),
        ("::127.0.0.1", Some("IPv4-compatible wrapping loopback 127.0.0.1")),
        ("::192.168.0.1", Some("IPv4-compatible wrapping private 192.168.0.1")),
        ("64:ff9b::7f00:1", Some("NAT64 wrapping loopback 127.0.0.1")),
        ("64:ff9b::a9fe:a9fe", Some("NAT64 wrapping link-local 169.254.169.254")),
        ("64:ff9b:1::1", Some("local-use NAT64")),
        ("64:ff9b:1::808:808", Some("local-use NAT64")),
        ("2002:7f00:1::1", Some("6to4 wrapping loopback 127.0.0.1")),
        ("2002:a00:1::", Some("6to4 wrapping private 10.0.0.1")),
        // Teredo: server 65.54.227.120, client 192.0.2.45 inverted in the last 32 bits (RFC 4380's example).
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some("Teredo wrapping documentation 192.0.2.45")),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", Some("Teredo wrapping loopback 127.0.0.1")),
        ("fc00::1", Some("unique-local")),
        ("fd12:3456:789a::1", Some("unique-local")),
        ("fec0::1", Some("site-local")),
        ("4000::1", Some("outside global unicast")),
        // Public: allowed.
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
        ("172.32.0.1", None),
        ("198.20.0.1", None),
        ("223.255.255.254", None),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001::200e", None),
        ("::ffff:8.8.8.8", None),
        ("::8.8.8.8", None),
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
    ];

    #[test]
    fn the_address_filter_refuses_every_range_that_does_not_reach_the_internet() {
        for (text, expected) in TABLE {
            let ip: IpAddr = text.parse().unwrap();
            let got = refusal(ip).map(|r| r.to_string());
            assert_eq!(got.as_deref(), *expected, "{text}");
            let strict = WebhookPolicy::default().check_address(ip);
            assert_eq!(strict.is_ok(), expected.is_none(), "{text}");
        }
    }

    #[test]
    fn with_private_targets_allowed_every_address_passes() {
        let internal = WebhookPolicy { allow_private: true, ..WebhookPolicy::default() };
        for (text, _) in TABLE {
            assert_eq!(internal.check_address(text.parse().unwrap()), Ok(()), "{text}");
        }
    }
}
