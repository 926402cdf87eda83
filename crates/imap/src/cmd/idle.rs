//! IDLE (RFC 2177): changes are pushed as they happen until DONE.

use crate::io::Received;
use crate::session::{Done, Session};

impl Session {
    pub(crate) async fn idle(&mut self, _tag: &str) -> Done {
        self.io().write_str("+ idling\r\n");
        if let Err(e) = self.io().flush().await {
            tracing::debug!(error = %e, "idle: client gone");
            self.logout = true;
            return Done::silent();
        }
        let wait = self.server.settings.idle_timeout;
        loop {
            let received = {
                let io = self.io.as_mut().expect("the session has its connection");
                match self.selected.as_mut() {
                    Some(view) => tokio::select! {
                        r = io.receive(wait) => Some(r),
                        _ = view.changed() => None,
                    },
                    None => Some(io.receive(wait).await),
                }
            };
            match received {
                None => {
                    if self.selected_mailbox_deleted() {
                        let _ = self.io().flush().await;
                        return Done::silent();
                    }
                    // Something changed: announce it now (expunges allowed).
                    self.sync_selected(true).await;
                    if self.io().flush().await.is_err() {
                        self.logout = true;
                        return Done::silent();
                    }
                }
                Some(Ok(Received::Message)) => {
                    let line = self.io().message().to_vec();
                    let word = String::from_utf8_lossy(&line);
                    return if word.trim().eq_ignore_ascii_case("DONE") {
                        Done::ok("IDLE terminated")
                    } else {
                        Done::bad("Expected DONE")
                    };
                }
                Some(Ok(Received::TooBig { .. })) => return Done::bad("Expected DONE"),
                Some(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    // RFC 3501 7.1.5: an autologout is announced.
                    self.untagged("BYE Autologout; idle for too long");
                    let _ = self.io().flush().await;
                    self.logout = true;
                    return Done::silent();
                }
                Some(Ok(Received::Closed | Received::Unreadable { .. })) | Some(Err(_)) => {
                    self.logout = true;
                    return Done::silent();
                }
            }
        }
    }
}
