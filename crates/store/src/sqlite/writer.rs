//! The group-commit writer.
//!
//! One thread owns the write connection. Writes queue up while it commits;
//! it then runs everything queued in one transaction (each write in its own
//! savepoint, so one failure does not spoil the others) and pays one fsync
//! for the whole batch. A caller hears back only after the commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::stats::PendingStats;

use crate::{Result, StoreError};

/// Upper bound on writes per transaction, to keep latency bounded.
const MAX_BATCH: usize = 512;

type Finisher = Box<dyn FnOnce(Option<&str>) + Send>;

trait Job: Send {
    /// Runs the write inside the open transaction; the returned finisher is
    /// called with the commit error, if any, once the batch is committed.
    fn run(self: Box<Self>, conn: &Connection) -> Finisher;
    fn fail(self: Box<Self>, error: StoreError);
}

struct TypedJob<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(self: Box<Self>, conn: &Connection) -> Finisher {
        let TypedJob { work, reply } = *self;
        let outcome = conn
            .execute_batch("SAVEPOINT job")
            .map_err(StoreError::from)
            .and_then(|()| {
                catch_unwind(AssertUnwindSafe(|| work(conn)))
                    .unwrap_or_else(|_| Err(StoreError::CommitFailed("a write panicked".into())))
            });
        let outcome = match outcome {
            Ok(value) => conn
                .execute_batch("RELEASE job")
                .map(|()| value)
                .map_err(StoreError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(value) => Box::new(move |commit_error| {
                let _ = reply.send(match commit_error {
                    None => Ok(value),
                    Some(e) => Err(StoreError::CommitFailed(e.to_string())),
                });
            }),
            Err(error) => {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                Box::new(move |_| {
                    let _ = reply.send(Err(error));
                })
            }
        }
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

pub(crate) struct Writer {
    queue: Mutex<Option<Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub(crate) fn start(conn: Connection, stats: std::sync::Arc<PendingStats>) -> Self {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(conn, jobs, &stats))
            .expect("spawn the store writer thread");
        Self {
            queue: Mutex::new(Some(queue)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Runs `work` in the next batch; resolves once it is durable.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(TypedJob { work, reply });
        {
            let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let sender = queue.as_ref().ok_or(StoreError::Closed)?;
            sender.send(job).map_err(|_| StoreError::Closed)?;
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Finishes every queued write, then stops the thread.
    pub(crate) fn close(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_loop(conn: Connection, jobs: Receiver<Box<dyn Job>>, stats: &PendingStats) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let message = e.to_string();
            for job in batch {
                job.fail(StoreError::CommitFailed(message.clone()));
            }
            continue;
        }
        // Counts ride along with the batch; a failure loses only them.
        if let Err(error) = conn
            .execute_batch("SAVEPOINT stats")
            .map_err(StoreError::from)
            .and_then(|()| stats.write(&conn))
            .and_then(|()| Ok(conn.execute_batch("RELEASE stats")?))
        {
            tracing::warn!(%error, "message counts not recorded");
            let _ = conn.execute_batch("ROLLBACK TO stats; RELEASE stats");
        }
        let finishers: Vec<Finisher> = batch.into_iter().map(|job| job.run(&conn)).collect();
        let commit_error = conn.execute_batch("COMMIT").err().map(|e| e.to_string());
        if commit_error.is_some() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishers {
            finish(commit_error.as_deref());
        }
    }
    // Closing: what was counted since the last batch is kept too.
    if let Err(error) = stats.write(&conn) {
        tracing::warn!(%error, "message counts not recorded at close");
    }
}
