//! The DNS resolver's configuration, shared by the authentication checks
//! and MX routing: one configured server (`ip:port`, tests point it at a
//! DNS server on loopback), else the system's.

use std::net::SocketAddr;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};

pub fn resolver_config(
    nameserver: Option<SocketAddr>,
) -> std::io::Result<(ResolverConfig, ResolverOpts)> {
    match nameserver {
        Some(ns) => {
            let mut server = NameServerConfig::udp_and_tcp(ns.ip());
            for connection in &mut server.connections {
                connection.port = ns.port();
            }
            Ok((
                ResolverConfig::from_name_servers(vec![server]),
                ResolverOpts::default(),
            ))
        }
        None => hickory_resolver::system_conf::read_system_conf().map_err(std::io::Error::other),
    }
}
