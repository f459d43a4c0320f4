//! How webhook hosts are resolved: one seam, [`HostLookup`], that webhook creation and the delivery
//! client's resolver both go through, and [`allowed_addresses`], the one function that turns what a name
//! resolves to into the addresses a webhook may connect to (or the refusal both paths give).

use super::address::WebhookPolicy;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;

/// What a lookup answers: every address the name has, or why none could be found.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Resolves a host name to its addresses. The application holds one ([`crate::App::with_host_lookup`]);
/// creation and delivery both use it, so what one refuses the other refuses.
pub trait HostLookup: Send + Sync + fmt::Debug {
    /// The addresses `host` (a domain name, never a literal address) resolves to.
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a>;
}

/// The system resolver (`getaddrinfo` through tokio): the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl HostLookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        // Port 0: only the addresses matter; the connector puts in the URL's port.
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// A fixed table of names and their addresses, for tests and air-gapped deployments. Names compare
/// without case and without a trailing dot; a name not in the table does not resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticLookup {
    /// A table of `(name, addresses)` pairs.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, Vec<IpAddr>)>) -> Self {
        Self { names: pairs.into_iter().map(|(name, addrs)| (normal(name), addrs)).collect() }
    }
}

fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl HostLookup for StaticLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        let found =
            self.names.get(&normal(host)).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{host} is not in the static host table"))
            });
        Box::pin(std::future::ready(found))
    }
}

/// Why a webhook host gives no address to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The name did not resolve, or resolved to nothing: perhaps only for now (delivery retries).
    Unresolved(String),
    /// Every address the name resolves to is refused by the policy (each is named with its range).
    Refused(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unresolved(why) | Self::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HostError {}

/// The addresses of `host` (a domain name) that `policy` lets a webhook connect to, resolved through
/// `lookup`: what webhook creation checks and what the delivery client's resolver hands the connector.
pub async fn allowed_addresses(
    lookup: &dyn HostLookup,
    policy: &WebhookPolicy,
    host: &str,
) -> Result<Vec<IpAddr>, HostError> {
    let found = lookup.lookup(host).await.map_err(|e| HostError::Unresolved(format!("cannot resolve {host}: {e}")))?;
    filter(policy, host, found)
}

/// The addresses in `found` that `policy` allows, or why there are none (naming every refused address).
pub(crate) fn filter(policy: &WebhookPolicy, host: &str, found: Vec<IpAddr>) -> Result<Vec<IpAddr>, HostError> {
    let mut refused = Vec::new();
    let mut allowed = Vec::new();
    for ip in found {
        match policy.check_address(ip) {
            Ok(()) => allowed.push(ip),
            Err(why) => refused.push(format!("{ip} ({why})")),
        }
    }
    if allowed.is_empty() {
        return Err(if refused.is_empty() {
            HostError::Unresolved(format!("{host} has no address"))
        } else {
            HostError::Refused(format!("{host} resolves only to refused addresses: {}", refused.join(", ")))
        });
    }
    if !refused.is_empty() {
        tracing::warn!(host, refused = %refused.join(", "), "webhook host also resolves to refused addresses, skipped");
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_filter_keeps_only_allowed_addresses() {
        let strict = WebhookPolicy::default();
        let internal = WebhookPolicy { allow_private: true, ..WebhookPolicy::default() };
        let found = vec![ip("127.0.0.1"), ip("8.8.8.8"), ip("fd00::1")];
        assert_eq!(filter(&strict, "mixed.example", found.clone()), Ok(vec![ip("8.8.8.8")]));
        assert_eq!(filter(&internal, "mixed.example", found.clone()), Ok(found));
        let err = filter(&strict, "inside.example", vec![ip("10.0.0.1")]).unwrap_err();
        assert_eq!(
            err,
            HostError::Refused("inside.example resolves only to refused addresses: 10.0.0.1 (private)".into())
        );
        let err = filter(&strict, "empty.example", Vec::new()).unwrap_err();
        assert_eq!(err, HostError::Unresolved("empty.example has no address".into()));
    }

    #[tokio::test]
    async fn a_static_table_answers_its_names_and_no_other() {
        let table = StaticLookup::new([("Siem.Example.com", vec![ip("93.184.215.14")])]);
        assert_eq!(table.lookup("siem.example.com.").await.unwrap(), vec![ip("93.184.215.14")]);
        let strict = WebhookPolicy::default();
        let err = allowed_addresses(&table, &strict, "other.example.com").await.unwrap_err();
        assert!(
            matches!(&err, HostError::Unresolved(why) if why.starts_with("cannot resolve other.example.com")),
            "{err}"
        );
    }
}
