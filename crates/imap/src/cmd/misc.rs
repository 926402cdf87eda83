//! CAPABILITY, ENABLE, STARTTLS.

use imap_codec::imap_types::extensions::enable::CapabilityEnable;

use crate::session::{Done, Session};

impl Session {
    /// What we support in the current state (RFC 3501 6.1.1).
    pub(crate) fn capabilities(&self) -> Vec<String> {
        let mut caps = vec![
            "IMAP4rev1",
            "IMAP4rev2",
            "LITERAL+",
            "SASL-IR",
            "ID",
            "ENABLE",
            "IDLE",
        ];
        if self.account.is_none() {
            if self.is_tls() {
                caps.push("AUTH=PLAIN");
            } else {
                // RFC 3501 6.2.3 / RFC 2595: no passwords in clear.
                caps.extend(["STARTTLS", "LOGINDISABLED"]);
            }
        } else {
            caps.extend([
                "NAMESPACE",
                "UNSELECT",
                "UIDPLUS",
                "MOVE",
                "SPECIAL-USE",
                "CREATE-SPECIAL-USE",
                "LIST-EXTENDED",
                "LIST-STATUS",
                "ESEARCH",
                "SEARCHRES",
                "BINARY",
                "CONDSTORE",
                "QRESYNC",
                "UTF8=ACCEPT",
                "QUOTA",
                "QUOTA=RES-STORAGE",
                "STATUS=SIZE",
                "SORT",
                "SORT=DISPLAY",
                "THREAD=ORDEREDSUBJECT",
                "THREAD=REFERENCES",
            ]);
        }
        let mut caps: Vec<String> = caps.into_iter().map(String::from).collect();
        if self.account.is_some() {
            // RFC 7889: the largest message APPEND takes.
            caps.push(format!("APPENDLIMIT={}", self.server.settings.max_literal));
        }
        caps
    }

    pub(crate) fn capability(&mut self) -> Done {
        let line = format!("CAPABILITY {}", self.capabilities().join(" "));
        self.untagged(&line);
        Done::ok("CAPABILITY completed")
    }

    pub(crate) fn enable(&mut self, wanted: &[CapabilityEnable<'_>]) -> Done {
        let mut turned_on = Vec::new();
        for capability in wanted {
            match capability {
                CapabilityEnable::CondStore if !self.enabled.condstore => {
                    self.enabled.condstore = true;
                    turned_on.push("CONDSTORE");
                }
                CapabilityEnable::Utf8(_) if !self.enabled.utf8 => {
                    self.enabled.utf8 = true;
                    turned_on.push("UTF8=ACCEPT");
                }
                CapabilityEnable::Other(_)
                    if capability.to_string().eq_ignore_ascii_case("IMAP4rev2")
                        && !self.enabled.rev2 =>
                {
                    // RFC 9051: mailbox names travel as UTF-8 from now on.
                    self.enabled.rev2 = true;
                    self.enabled.utf8 = true;
                    turned_on.push("IMAP4rev2");
                }
                CapabilityEnable::Other(_)
                    if capability.to_string().eq_ignore_ascii_case("QRESYNC")
                        && !self.enabled.qresync =>
                {
                    // RFC 7162 3.2.3: QRESYNC implies CONDSTORE.
                    self.enabled.qresync = true;
                    self.enabled.condstore = true;
                    turned_on.push("QRESYNC");
                }
                _ => {}
            }
        }
        let line = format!("ENABLED {}", turned_on.join(" "));
        self.untagged(line.trim_end());
        Done::ok("ENABLE completed")
    }

    pub(crate) async fn start_tls(&mut self, tag: &str) -> Done {
        if self.is_tls() {
            return Done::bad("TLS is already active");
        }
        if self.account.is_some() {
            return Done::bad("STARTTLS is only allowed before login");
        }
        let line = format!("{tag} OK Begin TLS negotiation now\r\n");
        self.io().write_str(&line);
        let acceptor = self.server.tls.acceptor();
        let io = self.io.take().expect("the session has its connection");
        match tokio::time::timeout(std::time::Duration::from_secs(60), io.start_tls(&acceptor))
            .await
        {
            Ok(Ok(io)) => self.io = Some(io),
            _ => {
                // The connection is unusable; end the session quietly.
                self.logout = true;
                self.io = None;
            }
        }
        // The tagged OK was sent before the handshake; nothing more to say.
        Done::silent()
    }
}
