//! Connections worth keeping: a session that just carried a message stays
//! open for a moment so the next message to the same host skips the
//! connect, greeting, EHLO and TLS handshake; and a cap on how many
//! sessions one destination gets at once, so a burst to one domain does
//! not look like an attack to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::client::Session;

/// How long an unused session is kept (Postfix keeps 2 s by default).
const IDLE_LIMIT: Duration = Duration::from_secs(2);
/// Messages per session before it is closed and a new one opened.
const MAX_MESSAGES: u32 = 1000;

pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<(Instant, Session)>>>,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_destination: usize,
}

impl Pool {
    pub fn new(per_destination: usize) -> Self {
        Self {
            idle: Mutex::default(),
            destinations: Mutex::default(),
            per_destination: per_destination.max(1),
        }
    }

    /// Waits for one of the destination's connection slots.
    pub async fn slot(&self, destination: &str) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut all = self.destinations.lock().unwrap_or_else(|e| e.into_inner());
            all.entry(destination.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_destination)))
                .clone()
        };
        semaphore
            .acquire_owned()
            .await
            .expect("destination semaphores are never closed")
    }

    /// An open session to `addr`, if one is idle and fresh.
    pub fn take(&self, addr: SocketAddr) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let sessions = idle.get_mut(&addr)?;
        while let Some((since, session)) = sessions.pop() {
            if since.elapsed() < IDLE_LIMIT {
                return Some(session);
            }
            tokio::spawn(session.quit());
        }
        None
    }

    /// Keeps a session for the next message, or closes it.
    pub fn put(&self, addr: SocketAddr, session: Session) {
        if session.broken {
            return;
        }
        if session.messages >= MAX_MESSAGES {
            tokio::spawn(session.quit());
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.entry(addr)
            .or_default()
            .push((Instant::now(), session));
    }

    /// Closes sessions idle for too long.
    pub fn sweep(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        for sessions in idle.values_mut() {
            let (stale, fresh): (Vec<_>, Vec<_>) = sessions
                .drain(..)
                .partition(|(since, _)| since.elapsed() >= IDLE_LIMIT);
            *sessions = fresh;
            for (_, session) in stale {
                tokio::spawn(session.quit());
            }
        }
        idle.retain(|_, sessions| !sessions.is_empty());
    }
}
