//! Buffered reading of lines and chunks, and batched writing of replies,
//! for the line-based protocols (SMTP, POP3).
//!
//! Replies are queued and flushed only when the server needs more input, so
//! a pipelining client (RFC 2920, RFC 2449) gets its answers in one packet.

use std::io;
use std::ops::Range;
use std::time::Duration;

use crate::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
pub use tokio::time::Instant;
use tokio::time::timeout_at;
use tokio_rustls::TlsAcceptor;

/// Read in steps of this size.
const READ_CHUNK: usize = 16 * 1024;

pub enum Line {
    /// The line's bytes, including its LF, in [`LineIo::bytes`].
    Complete(Range<usize>),
    /// Longer than allowed; it has been skipped up to its LF.
    TooLong,
    /// The client closed the connection.
    Closed,
}

pub struct LineIo {
    stream: Stream,
    buf: Vec<u8>,
    /// Start of unread input in `buf`.
    pos: usize,
    out: Vec<u8>,
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timeout")
}

impl LineIo {
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            pos: 0,
            out: Vec::with_capacity(1024),
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Queues bytes to send; they go out with the next flush.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The queue itself, for encoders that append to a buffer.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        self.stream.flush().await
    }

    pub fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Reads more input into the buffer, flushing queued replies first
    /// (the client may be waiting for them). Returns false at end of input.
    async fn fill(&mut self, deadline: Instant) -> io::Result<bool> {
        if !self.out.is_empty() {
            timeout_at(deadline, self.flush())
                .await
                .map_err(|_| timed_out())??;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let read = timeout_at(deadline, self.stream.read(&mut self.buf[start..])).await;
        let n = match read {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                self.buf.truncate(start);
                return Err(e);
            }
            Err(_) => {
                self.buf.truncate(start);
                return Err(timed_out());
            }
        };
        self.buf.truncate(start + n);
        Ok(n > 0)
    }

    /// Reads one line of at most `max` bytes (LF included). Longer lines
    /// are skipped so that the session stays in step.
    pub async fn read_line(&mut self, max: usize, wait: Duration) -> io::Result<Line> {
        let deadline = Instant::now() + wait;
        let mut skipping = false;
        let mut scanned = 0;
        loop {
            let unread = &self.buf[self.pos..];
            if let Some(i) = unread[scanned..].iter().position(|&b| b == b'\n') {
                let end = self.pos + scanned + i + 1;
                let range = self.pos..end;
                self.pos = end;
                if skipping || range.len() > max {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Complete(range));
            }
            if unread.len() > max {
                // Drop what we have of the over-long line and keep looking
                // for its end.
                skipping = true;
                self.pos = self.buf.len();
                scanned = 0;
            } else {
                scanned = unread.len();
            }
            if !self.fill(deadline).await? {
                return Ok(Line::Closed);
            }
        }
    }

    /// Reads exactly `size` bytes, handing them to `sink` piece by piece.
    /// Each read may wait `wait`, the whole chunk no longer than
    /// `deadline` (a client trickling bytes is cut off). Returns false if
    /// the client closed the connection first.
    pub async fn read_chunk(
        &mut self,
        mut size: u64,
        wait: Duration,
        deadline: Instant,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<bool> {
        while size > 0 {
            if self.pos == self.buf.len() {
                let until = (Instant::now() + wait).min(deadline);
                if !self.fill(until).await? {
                    return Ok(false);
                }
            }
            let available = (self.buf.len() - self.pos) as u64;
            let take = available.min(size) as usize;
            sink(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            size -= take as u64;
        }
        Ok(true)
    }

    /// RFC 3207 4.2 / RFC 2595 3.1: anything the client sent after
    /// STARTTLS/STLS and before the handshake is discarded, never read as a
    /// command.
    pub async fn start_tls(mut self, acceptor: &TlsAcceptor) -> io::Result<LineIo> {
        self.flush().await?;
        Ok(LineIo::new(self.stream.upgrade(acceptor).await?))
    }

    pub async fn close(mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }
}
