//! Outbound delivery: a dispatcher takes due messages from the queue and
//! delivers many at once (each in its own task, within a global limit and
//! a per-destination one), reusing connections between messages to the
//! same host. Every reply is recorded; permanent failures go back to the
//! sender as a delivery status notification (the queue's rules are in
//! core).

mod client;
mod delivery;
mod pool;
mod route;
mod tls;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::queue::Queue;
use mailroom_net::Shutdown;
use tokio::sync::{Semaphore, mpsc};

pub use client::Credentials;
pub use route::{RelayHost, Router};

use pool::Pool;

/// Longest sleep between looks at the queue (the CLI changes it from
/// another process, so it is read again every few seconds).
const IDLE_WAIT: Duration = Duration::from_secs(5);

pub struct Outbound {
    pub queue: Queue,
    pub router: Router,
    /// The name we greet remote hosts with.
    pub hostname: String,
    /// Messages in delivery at once.
    pub max_deliveries: usize,
    /// Connections to one destination (domain, or the relay) at once.
    pub max_per_destination: usize,
}

/// What every delivery task shares.
struct Shared {
    queue: Queue,
    router: Router,
    hostname: String,
    pool: Pool,
}

impl Outbound {
    pub async fn run(self, shutdown: Shutdown) {
        let shared = Arc::new(Shared {
            pool: Pool::new(self.max_per_destination),
            queue: self.queue,
            router: self.router,
            hostname: self.hostname,
        });
        let slots = Arc::new(Semaphore::new(self.max_deliveries.max(1)));
        let mut in_flight: HashSet<i64> = HashSet::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<i64>();
        loop {
            let free = slots.available_permits();
            if free > 0 {
                let skip: Vec<i64> = in_flight.iter().copied().collect();
                match shared.queue.due(skip, free).await {
                    Ok(due) => {
                        for queued in due {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            in_flight.insert(queued.id);
                            let (shared, done) = (shared.clone(), done_tx.clone());
                            tokio::spawn(async move {
                                shared.deliver(&queued).await;
                                drop(permit);
                                let _ = done.send(queued.id);
                            });
                        }
                    }
                    Err(error) => tracing::error!(%error, "cannot read the outbound queue"),
                }
            }
            shared.pool.sweep();
            let wait = match shared.queue.next_due().await {
                Ok(Some(at)) => Duration::from_secs((at - shared.queue.now()).clamp(1, 5) as u64),
                _ => IDLE_WAIT,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shared.queue.woken() => {}
                Some(id) = done_rx.recv() => {
                    in_flight.remove(&id);
                    while let Ok(id) = done_rx.try_recv() {
                        in_flight.remove(&id);
                    }
                }
                _ = shutdown.triggered() => return,
            }
        }
    }
}
