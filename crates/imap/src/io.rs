//! Reading IMAP messages (command lines with their literals) and writing
//! responses. Literals are bounded; a synchronising literal is agreed to
//! with a continuation request only when it fits (RFC 3501 7.5, RFC 7888).

use std::io;
use std::time::Duration;

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::imap_types::core::LiteralMode;
use mailroom_net::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;

/// One complete message, or why there is none.
pub enum Received {
    /// A whole message is in [`ImapIo::message`].
    Message,
    /// The client announced a literal larger than we take; for a
    /// synchronising one, it has been told no and the message skipped.
    /// A literal too long to even count: the connection must end.
    Unreadable {
        tag: Option<String>,
    },
    TooBig {
        tag: Option<String>,
    },
    Closed,
}

pub struct ImapIo {
    stream: Stream,
    fragments: Fragmentizer,
    out: Vec<u8>,
    max_literal: u32,
    /// Bytes handed to the fragmentizer and not yet part of a finished
    /// message; `None` once a skipped message made the count unknown.
    queued: Option<usize>,
}

/// Messages larger than this leave buffers behind worth giving back.
const LARGE_MESSAGE: usize = 64 * 1024;

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timeout")
}

impl ImapIo {
    pub fn new(stream: Stream, max_literal: u32) -> Self {
        Self {
            stream,
            fragments: Self::fragmentizer(max_literal),
            out: Vec::new(),
            max_literal,
            queued: Some(0),
        }
    }

    fn fragmentizer(max_literal: u32) -> Fragmentizer {
        // Room for the largest literal plus its command line.
        Fragmentizer::new(max_literal.saturating_add(64 * 1024))
    }

    /// Before the next message: the previous one is handled. After a
    /// large one (an APPEND), the fragmentizer's buffers keep its capacity,
    /// so they are replaced when nothing else is waiting in them.
    fn previous_done(&mut self) {
        if !self.fragments.is_message_complete() {
            return;
        }
        let length = self.fragments.message_bytes().len();
        self.queued = self.queued.and_then(|q| q.checked_sub(length));
        if length > LARGE_MESSAGE && self.queued == Some(0) {
            self.fragments = Self::fragmentizer(self.max_literal);
        }
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub fn write_str(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// Bytes queued but not yet sent.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
            // A large response's buffer is not kept by an idle session.
            self.out.shrink_to(16 * 1024);
        }
        self.stream.flush().await
    }

    /// The bytes of the message [`ImapIo::receive`] just completed.
    pub fn message(&self) -> &[u8] {
        self.fragments.message_bytes()
    }

    pub fn fragments(&self) -> &Fragmentizer {
        &self.fragments
    }

    async fn next_fragment(&mut self, deadline: Instant) -> io::Result<Option<FragmentInfo>> {
        // An idle connection waits with a small buffer, so thousands of
        // them in IDLE cost little; a read that fills it switches to a
        // large one until the burst (an APPEND, say) is over.
        let mut small = [0u8; 512];
        let mut large: Vec<u8> = Vec::new();
        loop {
            if let Some(fragment) = self.fragments.progress() {
                return Ok(Some(fragment));
            }
            timeout_at(deadline, self.flush())
                .await
                .map_err(|_| timed_out())??;
            let buf: &mut [u8] = if large.is_empty() {
                &mut small
            } else {
                &mut large
            };
            let n = timeout_at(deadline, self.stream.read(buf))
                .await
                .map_err(|_| timed_out())??;
            if n == 0 {
                return Ok(None);
            }
            let full = n == buf.len();
            self.fragments.enqueue_bytes(&buf[..n]);
            self.queued = self.queued.map(|q| q + n);
            if full && large.is_empty() {
                large = vec![0; 16 * 1024];
            } else if !full && !large.is_empty() {
                large = Vec::new();
            }
        }
    }

    /// Reads the next whole message, answering literal announcements.
    pub async fn receive(&mut self, wait: Duration) -> io::Result<Received> {
        self.previous_done();
        let deadline = Instant::now() + wait;
        loop {
            let Some(fragment) = self.next_fragment(deadline).await? else {
                return Ok(Received::Closed);
            };
            if let FragmentInfo::Line {
                announcement: Some(LiteralAnnouncement { mode, length }),
                ..
            } = fragment
            {
                let tag = self.fragments.decode_tag().map(|t| t.inner().to_string());
                if length > self.max_literal {
                    if mode == LiteralMode::Sync {
                        // The client waits for our go-ahead, which it will
                        // not get: drop the message and answer.
                        self.fragments.skip_message();
                        self.queued = None;
                        return Ok(Received::TooBig { tag });
                    }
                    // LITERAL+ data comes regardless: read and discard it.
                    self.fragments.poison_message();
                    self.queued = None;
                } else if mode == LiteralMode::Sync {
                    self.write_str("+ Ready for literal data\r\n");
                }
            }
            if let FragmentInfo::Line {
                announcement: None, ..
            } = fragment
                && let Some(mode) = huge_literal(self.fragments.fragment_bytes(fragment))
            {
                let tag = self.fragments.decode_tag().map(|t| t.inner().to_string());
                if mode == LiteralMode::Sync {
                    // Its client waits for a go-ahead it will not get: the
                    // command is over, the session goes on.
                    self.fragments.skip_message();
                    self.queued = None;
                    return Ok(Received::TooBig { tag });
                }
                // A non-synchronizing literal longer than any count we
                // read: its bytes follow and must never be taken for
                // commands (RFC 7888 4).
                return Ok(Received::Unreadable { tag });
            }
            if self.fragments.is_message_complete() {
                if self.fragments.is_message_poisoned() {
                    let tag = self.fragments.decode_tag().map(|t| t.inner().to_string());
                    return Ok(Received::TooBig { tag });
                }
                return Ok(Received::Message);
            }
        }
    }

    /// STARTTLS (RFC 3501 6.2.1 / RFC 2595 3.1): pending plaintext input is
    /// discarded, never read as commands after the handshake.
    pub async fn start_tls(mut self, acceptor: &TlsAcceptor) -> io::Result<ImapIo> {
        self.flush().await?;
        let max = self.max_literal;
        Ok(ImapIo::new(self.stream.upgrade(acceptor).await?, max))
    }

    pub async fn close(mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }
}

/// A line ending in a literal announcement (`{n}` or `{n+}`) whose length
/// does not fit in 32 bits, and whether the client waits before sending.
fn huge_literal(line: &[u8]) -> Option<LiteralMode> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))
        .unwrap_or(line);
    let inside = line.strip_suffix(b"}").and_then(|l| {
        let open = l.iter().rposition(|&b| b == b'{')?;
        Some(&l[open + 1..])
    })?;
    let (digits, mode) = match inside
        .strip_suffix(b"+")
        .or_else(|| inside.strip_suffix(b"-"))
    {
        Some(digits) => (digits, LiteralMode::NonSync),
        None => (inside, LiteralMode::Sync),
    };
    let huge = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(digits).is_ok_and(|d| d.parse::<u32>().is_err());
    huge.then_some(mode)
}
