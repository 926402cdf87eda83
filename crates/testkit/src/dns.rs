//! A real DNS server on loopback (hickory-server) answering for test
//! zones, so mail routing is tested against real DNS answers (MX, A,
//! TXT, null MX) instead of mocked lookups.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// Serves its zones over UDP and TCP on one loopback port until dropped.
pub struct DnsServer {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl DnsServer {
    /// `zones` are (origin, records in zone-file syntax relative to the
    /// origin); each gets an SOA, e.g.
    /// `("far.test", "@ MX 10 mx\nmx A 127.0.0.1")`.
    pub fn start(zones: &[(&str, &str)]) -> DnsServer {
        let mut catalog = Catalog::new();
        // The root zone too, so names outside the test zones get NXDOMAIN
        // (as on the Internet) instead of a refusal that reads as a DNS
        // failure.
        let root = [(".", "")];
        for (origin, records) in root.iter().chain(zones) {
            let (origin, soa) = if *origin == "." {
                (String::new(), "ns.invalid. hostmaster.invalid.")
            } else {
                ((*origin).to_string(), "ns hostmaster")
            };
            let text = format!(
                "$ORIGIN {origin}.\n$TTL 60\n@ IN SOA {soa} 1 3600 600 86400 60\n{records}\n"
            );
            let origin = Name::from_ascii(format!("{origin}.")).expect("zone name");
            let (origin, records) = Parser::new(text, None, Some(origin))
                .parse()
                .expect("zone text parses");
            let zone =
                InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
                    origin.clone(),
                    records,
                    ZoneType::Primary,
                    AxfrPolicy::Deny,
                )
                .expect("zone loads");
            catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let addr = runtime.block_on(async {
            // The same port over UDP and TCP (for answers too large for
            // UDP); another test may hold that TCP port, so try again.
            let (udp, tcp, addr) = loop {
                let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .expect("bind udp");
                let addr = udp.local_addr().expect("udp addr");
                match tokio::net::TcpListener::bind(addr).await {
                    Ok(tcp) => break (udp, tcp, addr),
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                    Err(e) => panic!("bind tcp: {e}"),
                }
            };
            let mut server = Server::new(catalog);
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 16);
            tokio::spawn(async move {
                let _ = server.block_until_done().await;
            });
            addr
        });
        DnsServer {
            addr,
            _runtime: runtime,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A DNS server with no zones, shared by the tests of a process: every
/// lookup gets a quick NXDOMAIN, so no test waits on, or depends on, the
/// machine's resolver.
pub fn empty_dns() -> SocketAddr {
    static EMPTY: std::sync::OnceLock<DnsServer> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| DnsServer::start(&[])).addr()
}
