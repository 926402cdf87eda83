//! Where mail for a domain goes: a configured smart host, or the domain's
//! MX hosts (RFC 5321 5.1), with the domain's own address when it has no
//! MX and nothing at all for a null MX (RFC 7505).

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::client::Credentials;

/// Why no host could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    pub permanent: bool,
    pub reason: String,
    /// RFC 3463 status for the report.
    pub status: &'static str,
}

/// A smart host that takes all outbound mail.
pub struct RelayHost {
    /// The name for messages and TLS.
    pub name: String,
    pub addr: SocketAddr,
    /// TLS from the first byte (port 465) instead of STARTTLS.
    pub implicit_tls: bool,
    pub credentials: Option<Credentials>,
}

pub enum Router {
    /// Everything to one host.
    Relay(RelayHost),
    Mx {
        resolver: Box<TokioResolver>,
        port: u16,
    },
}

impl Router {
    /// MX delivery through the system's resolver, or through `nameserver`
    /// (tests point it at a DNS server on loopback).
    pub fn mx(nameserver: Option<SocketAddr>, port: u16) -> std::io::Result<Self> {
        let (config, options) = mailroom_core::dns::resolver_config(nameserver)?;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Router::Mx {
            resolver: Box::new(resolver),
            port,
        })
    }

    /// What the per-destination connection limit counts: the relay, or
    /// the recipient domain.
    pub fn destination<'a>(&'a self, domain: &'a str) -> &'a str {
        match self {
            Router::Relay(relay) => &relay.name,
            Router::Mx { .. } => domain,
        }
    }

    /// How to connect and log in (a relay's settings; plain MX otherwise).
    pub fn relay(&self) -> Option<&RelayHost> {
        match self {
            Router::Relay(relay) => Some(relay),
            Router::Mx { .. } => None,
        }
    }

    /// Hosts to try, in order.
    pub async fn hosts(&self, domain: &str) -> Result<Vec<(String, SocketAddr)>, NoRoute> {
        match self {
            Router::Relay(relay) => Ok(vec![(relay.name.clone(), relay.addr)]),
            Router::Mx { resolver, port } => mx_hosts(resolver, domain, *port).await,
        }
    }
}

fn temporary(reason: String) -> NoRoute {
    NoRoute {
        permanent: false,
        reason,
        status: "4.4.3",
    }
}

async fn mx_hosts(
    resolver: &TokioResolver,
    domain: &str,
    port: u16,
) -> Result<Vec<(String, SocketAddr)>, NoRoute> {
    let fqdn = format!("{domain}.");
    let mut exchanges: Vec<(u16, String)> = match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(mx) => mx
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_utf8())),
                _ => None,
            })
            .collect(),
        Err(e) if e.is_no_records_found() => Vec::new(),
        Err(e) => return Err(temporary(format!("DNS lookup of {domain} failed: {e}"))),
    };
    // RFC 7505: a single MX of "." means the domain takes no mail.
    if exchanges.len() == 1 && exchanges[0].1.trim_end_matches('.').is_empty() {
        return Err(NoRoute {
            permanent: true,
            reason: format!("{domain} does not accept mail (null MX)"),
            status: "5.1.10",
        });
    }
    exchanges.sort();
    if exchanges.is_empty() {
        // RFC 5321 5.1: no MX, the domain itself is the host.
        exchanges.push((0, fqdn.clone()));
    }
    let mut hosts = Vec::new();
    let mut missing = 0;
    for (_, exchange) in &exchanges {
        match resolver.lookup_ip(exchange.as_str()).await {
            Ok(ips) => {
                let name = exchange.trim_end_matches('.').to_string();
                hosts.extend(
                    ips.iter()
                        .map(|ip: IpAddr| (name.clone(), SocketAddr::new(ip, port))),
                );
            }
            Err(e) if e.is_no_records_found() => missing += 1,
            Err(e) => return Err(temporary(format!("DNS lookup of {exchange} failed: {e}"))),
        }
    }
    if hosts.is_empty() {
        // Nothing resolves: if no name exists at all, nothing will change.
        let permanent = missing == exchanges.len();
        return Err(NoRoute {
            permanent,
            reason: format!("no mail host found for {domain}"),
            status: if permanent { "5.1.2" } else { "4.4.3" },
        });
    }
    Ok(hosts)
}
