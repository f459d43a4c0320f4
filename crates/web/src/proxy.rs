//! The client's address behind a reverse proxy.
//!
//! Sign-in locks, rate limits and the audit log key on the client's address. Behind a load balancer the
//! TCP peer is the balancer, so everyone would share one address: one client could lock the whole company
//! out, and the log would record the proxy. A peer in `trusted_proxies` may say who its client is, in
//! `X-Forwarded-For` or `Forwarded`; the address taken is the rightmost hop that is not itself a trusted
//! proxy (hops further left were written by the client and prove nothing). Without the setting, or from
//! any other peer, those headers are ignored.

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// A network, `10.0.0.0/8` or `fd00::/8` (a bare address is the network of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the network (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
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

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let net: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an address or network"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("`{s}`: a prefix is 0 to {max}"))?
            }
        };
        Ok(Self { net, prefix })
    }
}

/// The addresses a request's forwarding headers name, nearest hop last (`X-Forwarded-For` lists, then
/// `Forwarded` `for=` values). An unreadable entry ends the list there: nothing left of it can be trusted.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return vec![None] };
        hops.extend(text.split(',').map(|h| read_hop(h.trim())));
    }
    for value in headers.get_all("forwarded") {
        let Ok(text) = value.to_str() else { return vec![None] };
        for element in text.split(',') {
            let found = element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| read_hop(v.trim()))
            });
            hops.push(found.flatten());
        }
    }
    hops
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"` or `2001:db8::1`.
fn read_hop(text: &str) -> Option<IpAddr> {
    let t = text.trim_matches('"');
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    t.rsplit_once(':').and_then(|(ip, _port)| ip.parse().ok())
}

/// The client of a request that arrived from `peer`: the peer itself, unless it is a trusted proxy, in
/// which case the rightmost forwarded hop that is not a trusted proxy.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_hops(headers).into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return ip,
            // An unreadable hop: the last address vouched for is as far as anyone can tell.
            None => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_contain_their_addresses() {
        let lan: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(lan.contains("10.2.3.4".parse().unwrap()) && !lan.contains("11.0.0.1".parse().unwrap()));
        assert!(lan.contains("::ffff:10.0.0.9".parse().unwrap()), "IPv4-mapped");
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()) && !one.contains("192.0.2.8".parse().unwrap()));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_may_name_the_client_and_the_rightmost_untrusted_hop_wins() {
        let proxies: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.0.0.9")]);
        assert_eq!(
            client_of(peer, &xff, &proxies),
            "198.51.100.4".parse::<IpAddr>().unwrap(),
            "the client's own claim (6.6.6.6) is ignored"
        );
        let outsider: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(client_of(outsider, &xff, &proxies), outsider, "an untrusted peer's header is ignored");
        assert_eq!(client_of(peer, &xff, &[]), peer, "without trusted proxies, headers are ignored");
        let fwd = headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::7]:4711\"")]);
        assert_eq!(client_of(peer, &fwd, &proxies), "2001:db8::7".parse::<IpAddr>().unwrap());
        let junk = headers(&[("x-forwarded-for", "198.51.100.4, not-an-ip")]);
        assert_eq!(client_of(peer, &junk, &proxies), peer, "an unreadable nearest hop gives the peer");
        assert_eq!(client_of(peer, &HeaderMap::new(), &proxies), peer);
    }
}
