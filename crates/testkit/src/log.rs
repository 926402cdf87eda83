//! The server's log (standard error), kept in a file and followed line by
//! line, so a test can wait for something the server says it did instead
//! of polling for its effect.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::process::ChildStderr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub(crate) struct LogFollower {
    lines: Mutex<Log>,
    grew: Condvar,
}

#[derive(Default)]
struct Log {
    lines: Vec<String>,
    /// The server closed its standard error (it exited).
    closed: bool,
}

impl LogFollower {
    /// Copies `stderr` into `file` and into memory until the server exits.
    pub(crate) fn follow(stderr: ChildStderr, mut file: File) -> Arc<Self> {
        let follower = Arc::new(Self::default());
        let shared = follower.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file, "{line}");
                let _ = file.flush();
                shared
                    .lines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .lines
                    .push(line);
                shared.grew.notify_all();
            }
            shared
                .lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .closed = true;
            shared.grew.notify_all();
        });
        follower
    }

    /// The first line containing `needle`, waiting for the server to write
    /// it; panics with the log after `limit`.
    pub(crate) fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let mut log = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(line) = log.lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero() && !log.closed,
                "the server did not log {needle:?} within {limit:?}:\n{}",
                log.lines.join("\n")
            );
            log = self
                .grew
                .wait_timeout(log, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until everything the exited server wrote is in the file.
    pub(crate) fn wait_closed(&self, limit: Duration) {
        let log = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .grew
            .wait_timeout_while(log, limit, |log| !log.closed)
            .unwrap_or_else(|e| e.into_inner());
    }
}
