//! The message body as it arrives: DATA lines (dot-unstuffed, RFC 5321
//! 4.5.2) or BDAT chunks (RFC 3030), with the checks that protect us and
//! the recipients: size, line length, header limits, mail loops and SMTP
//! smuggling.
//!
//! Smuggling works by hiding a second message behind a line ending that
//! one server takes for the end of DATA and another does not. Only
//! `<CRLF>.<CRLF>` ends DATA here, and a message with a bare CR or LF next
//! to a dot is refused outright, so no other server down the line can be
//! tricked by what we pass on.

use crate::reply::Reply;

#[derive(Debug, Clone)]
pub struct BodyLimits {
    pub max_size: usize,
    /// RFC 5321 4.5.3.1.6: 1000 octets including CRLF.
    pub max_line: usize,
    /// Refuse any bare CR or LF, not only those next to a dot.
    pub strict_line_endings: bool,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// More `Received:` headers than this means a mail loop.
    pub max_hops: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_size: 50 << 20,
            max_line: 1000,
            strict_line_endings: false,
            max_header_bytes: 1 << 20,
            max_headers: 1000,
            max_hops: 50,
        }
    }
}

/// Why a body is refused. Reading goes on to the end of the body anyway, so
/// the session stays in step with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    TooBig,
    LineTooLong,
    Smuggling,
    BareLineEnding,
    HeaderTooLarge,
    TooManyHops,
}

impl Problem {
    pub fn reply(self, limits: &BodyLimits) -> Reply {
        match self {
            Problem::TooBig => Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ),
            Problem::LineTooLong => Reply::new(
                554,
                "5.5.2",
                format!(
                    "Message refused: a line is longer than {} octets (RFC 5321 4.5.3.1.6)",
                    limits.max_line
                ),
            ),
            Problem::Smuggling => Reply::new(
                554,
                "5.5.2",
                "Message refused: bare CR or LF next to \".\" (possible SMTP smuggling); end every line with CRLF",
            ),
            Problem::BareLineEnding => Reply::new(
                554,
                "5.5.2",
                "Message refused: bare CR or LF in message; end every line with CRLF",
            ),
            Problem::HeaderTooLarge => Reply::new(552, "5.3.4", "Message header too large"),
            Problem::TooManyHops => Reply::new(554, "5.4.6", "Too many hops (mail loop?)"),
        }
    }
}

pub struct BodyDecoder {
    limits: BodyLimits,
    body: Vec<u8>,
    problem: Option<Problem>,
    /// The previous line ended in a bare LF.
    after_bare_lf: bool,
    header: HeaderScan,
    /// The unfinished BDAT line (chunks split lines anywhere), at most a
    /// line's limit of it, and its whole length.
    partial: Vec<u8>,
    partial_len: usize,
    /// BDAT octets received so far.
    chunk_octets: usize,
}

#[derive(Default)]
struct HeaderScan {
    done: bool,
    bytes: usize,
    count: usize,
    received: usize,
}

impl BodyDecoder {
    pub fn new(limits: BodyLimits) -> Self {
        Self {
            limits,
            body: Vec::with_capacity(16 * 1024),
            problem: None,
            after_bare_lf: false,
            header: HeaderScan::default(),
            partial: Vec::new(),
            partial_len: 0,
            chunk_octets: 0,
        }
    }

    fn flag(&mut self, problem: Problem) {
        self.problem.get_or_insert(problem);
        if problem == Problem::TooBig {
            // Keep reading to stay in step, but hold nothing more.
            self.body = Vec::new();
        }
    }

    /// Feeds one DATA line including its line ending (the line reader ends
    /// lines at LF). Returns true at the end of data.
    pub fn feed_line(&mut self, line: &[u8]) -> bool {
        let (content, ending, follows_bare_lf) = self.check_line(line, line.len());
        // RFC 5321 4.1.1.4: only <CRLF>.<CRLF> ends the data.
        if content == b"." && ending == Ending::Crlf && !follows_bare_lf {
            return true;
        }
        // RFC 5321 4.5.2: remove the leading dot a client added.
        let content = content.strip_prefix(b".").unwrap_or(content);
        self.scan_header_line(content, line.len());
        self.store(content, true);
        false
    }

    /// The line rules DATA and BDAT share: its length (`len`, of which
    /// `line` may hold only the start) and its line endings. Returns the
    /// content, how it ended and whether the line before ended in a bare LF.
    fn check_line<'l>(&mut self, line: &'l [u8], len: usize) -> (&'l [u8], Ending, bool) {
        let (content, ending) = split_ending(line);
        let follows_bare_lf = std::mem::replace(&mut self.after_bare_lf, ending == Ending::BareLf);
        if len > self.limits.max_line {
            self.flag(Problem::LineTooLong);
        }
        self.check_line_endings(content, ending, follows_bare_lf);
        (content, ending, follows_bare_lf)
    }

    fn check_line_endings(&mut self, content: &[u8], ending: Ending, follows_bare_lf: bool) {
        let bare_lf = ending == Ending::BareLf;
        let bare_cr = content.contains(&b'\r');
        let dot_next_to_bare_cr = content
            .windows(2)
            .any(|w| (w[0] == b'\r' && w[1] == b'.') || (w[0] == b'.' && w[1] == b'\r'));
        let smuggling = dot_next_to_bare_cr
            || (bare_lf && content.ends_with(b"."))
            || (follows_bare_lf && content.starts_with(b"."));
        if smuggling {
            self.flag(Problem::Smuggling);
        } else if (bare_lf || bare_cr) && self.limits.strict_line_endings {
            self.flag(Problem::BareLineEnding);
        }
    }

    /// Feeds a BDAT chunk. There is no dot-unstuffing (RFC 3030 2), but
    /// without BINARYMIME the text keeps the rules of DATA (RFC 3030 3):
    /// lines of at most 1000 octets, no bare CR or LF next to a dot (a
    /// message relayed on by DATA must not end early anywhere), and, as
    /// DATA lines are, each line stored ending in CRLF.
    pub fn feed_chunk(&mut self, chunk: &[u8]) {
        self.chunk_octets += chunk.len();
        if self.chunk_octets > self.limits.max_size {
            self.flag(Problem::TooBig);
        }
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.take_piece(&rest[..=end]);
            let line = std::mem::take(&mut self.partial);
            let len = std::mem::take(&mut self.partial_len);
            self.chunk_line(&line, len);
            rest = &rest[end + 1..];
        }
        self.take_piece(rest);
    }

    /// Keeps a piece of the current BDAT line, up to what a line may hold
    /// (a longer one is refused anyway).
    fn take_piece(&mut self, piece: &[u8]) {
        self.partial_len += piece.len();
        let room = (self.limits.max_line + 2).saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }

    /// One whole BDAT line (or the last, unterminated one).
    fn chunk_line(&mut self, line: &[u8], len: usize) {
        let (content, ending, _) = self.check_line(line, len);
        self.scan_header_line(content, len);
        self.store(content, ending != Ending::None);
    }

    /// Adds a line to the message, unless it is already too big to keep.
    fn store(&mut self, content: &[u8], crlf: bool) {
        if self.problem == Some(Problem::TooBig) {
            return;
        }
        self.body.extend_from_slice(content);
        if crlf {
            self.body.extend_from_slice(b"\r\n");
        }
        if self.body.len() > self.limits.max_size {
            self.flag(Problem::TooBig);
        }
    }

    fn scan_header_line(&mut self, content: &[u8], raw_len: usize) {
        let header = &mut self.header;
        if header.done {
            return;
        }
        if content.is_empty() {
            header.done = true;
            return;
        }
        header.bytes += raw_len;
        if !matches!(content[0], b' ' | b'\t') {
            header.count += 1;
            if content.len() >= 9 && content[..9].eq_ignore_ascii_case(b"received:") {
                header.received += 1;
            }
        }
        let problem = if header.bytes > self.limits.max_header_bytes
            || header.count > self.limits.max_headers
        {
            Some(Problem::HeaderTooLarge)
        } else if header.received > self.limits.max_hops {
            Some(Problem::TooManyHops)
        } else {
            None
        };
        if let Some(p) = problem {
            self.flag(p);
        }
    }

    /// Marks a DATA line that was too long to even buffer.
    pub fn line_too_long(&mut self) {
        self.after_bare_lf = false;
        self.flag(Problem::LineTooLong);
    }

    /// Octets received: the BDAT chunks' sum, or the DATA body kept.
    pub fn size(&self) -> usize {
        self.chunk_octets.max(self.body.len())
    }

    /// The message, or why it is refused.
    pub fn finish(mut self) -> Result<Vec<u8>, Problem> {
        if self.partial_len > 0 {
            // The last BDAT line, without a line ending.
            let line = std::mem::take(&mut self.partial);
            let len = self.partial_len;
            self.chunk_line(&line, len);
        }
        match self.problem {
            Some(p) => Err(p),
            None => Ok(self.body),
        }
    }
}

/// A line's content and how it ended (the line reader ends lines at LF).
fn split_ending(line: &[u8]) -> (&[u8], Ending) {
    if let Some(c) = line.strip_suffix(b"\r\n") {
        (c, Ending::Crlf)
    } else if let Some(c) = line.strip_suffix(b"\n") {
        (c, Ending::BareLf)
    } else {
        (line, Ending::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Crlf,
    BareLf,
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits raw DATA input into lines ending at LF, as the reader does,
    /// and decodes until the end of data.
    fn decode(raw: &[u8], limits: BodyLimits) -> (Result<Vec<u8>, Problem>, bool, usize) {
        let mut decoder = BodyDecoder::new(limits);
        let mut consumed = 0;
        for line in raw.split_inclusive(|&b| b == b'\n') {
            consumed += line.len();
            if decoder.feed_line(line) {
                return (decoder.finish(), true, consumed);
            }
        }
        (decoder.finish(), false, consumed)
    }

    #[test]
    fn bodies_decode() {
        let ok = |s: &str| Ok(s.as_bytes().to_vec());
        type Case = (&'static str, Result<Vec<u8>, Problem>, bool);
        let cases: Vec<Case> = vec![
            (
                "Subject: x\r\n\r\nhi\r\n.\r\n",
                ok("Subject: x\r\n\r\nhi\r\n"),
                true,
            ),
            (".\r\n", ok(""), true),
            // Dot-unstuffing.
            ("a\r\n..b\r\n...\r\n.\r\n", ok("a\r\n.b\r\n..\r\n"), true),
            // Bare LF away from dots is accepted and made CRLF.
            ("a\nb\r\n.\r\n", ok("a\r\nb\r\n"), true),
            // Smuggling attempts: none of these ends the data, all refused.
            (
                "a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n",
                Err(Problem::Smuggling),
                true,
            ),
            (
                "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n",
                Err(Problem::Smuggling),
                true,
            ),
            ("a\n.\nb\r\n.\r\n", Err(Problem::Smuggling), true),
            ("a\r.\r\nb\r\n.\r\n", Err(Problem::Smuggling), true),
            ("a\r\n.\r\rb\r\n.\r\n", Err(Problem::Smuggling), true),
            // Only CRLF.CRLF ends it: without it we are still in data.
            ("a\r\n.\n", Err(Problem::Smuggling), false),
        ];
        for (raw, expected, ended) in cases {
            let (got, did_end, _) = decode(raw.as_bytes(), BodyLimits::default());
            assert_eq!((got, did_end), (expected, ended), "input {raw:?}");
        }
    }

    #[test]
    fn the_smuggled_part_is_not_mistaken_for_the_end() {
        let raw = b"Subject: a\r\n\r\nx\n.\r\nMAIL FROM:<evil@x>\r\n.\r\nNEXT";
        let (got, ended, consumed) = decode(raw, BodyLimits::default());
        assert_eq!(got, Err(Problem::Smuggling));
        assert!(ended);
        assert_eq!(&raw[consumed..], b"NEXT");
    }

    #[test]
    fn strict_mode_refuses_any_bare_line_ending() {
        let strict = BodyLimits {
            strict_line_endings: true,
            ..BodyLimits::default()
        };
        for raw in ["a\nb\r\n.\r\n", "a\rb\r\n.\r\n"] {
            let (got, _, _) = decode(raw.as_bytes(), strict.clone());
            assert_eq!(got, Err(Problem::BareLineEnding), "{raw:?}");
        }
        let (got, _, _) = decode(b"fine\r\n.\r\n", strict);
        assert!(got.is_ok());
    }

    #[test]
    fn limits_are_enforced() {
        let small = BodyLimits {
            max_size: 10,
            ..BodyLimits::default()
        };
        let (got, ended, _) = decode(b"0123456789abc\r\n.\r\n", small);
        assert_eq!((got, ended), (Err(Problem::TooBig), true));

        let long = format!("{}\r\n.\r\n", "x".repeat(999));
        let (got, _, _) = decode(long.as_bytes(), BodyLimits::default());
        assert_eq!(got, Err(Problem::LineTooLong));
        let fits = format!("{}\r\n.\r\n", "x".repeat(998));
        assert!(decode(fits.as_bytes(), BodyLimits::default()).0.is_ok());

        let hops = "Received: x\r\n".repeat(51) + "\r\nbody\r\n.\r\n";
        assert_eq!(
            decode(hops.as_bytes(), BodyLimits::default()).0,
            Err(Problem::TooManyHops)
        );
        let many = "X-A: x\r\n".repeat(1001) + "\r\n.\r\n";
        assert_eq!(
            decode(many.as_bytes(), BodyLimits::default()).0,
            Err(Problem::HeaderTooLarge)
        );
        // Received lines in the body do not count.
        let body = "\r\n".to_string() + &"Received: x\r\n".repeat(60) + ".\r\n";
        assert!(decode(body.as_bytes(), BodyLimits::default()).0.is_ok());
    }

    #[test]
    fn bdat_chunks_are_kept_verbatim_and_checked() {
        let mut d = BodyDecoder::new(BodyLimits::default());
        d.feed_chunk(b"Subject: a\r\nRecei");
        d.feed_chunk(b"ved: x\r\n\r\n.dot stays\r\n");
        assert_eq!(
            d.finish().unwrap(),
            b"Subject: a\r\nReceived: x\r\n\r\n.dot stays\r\n"
        );

        let mut d = BodyDecoder::new(BodyLimits::default());
        for _ in 0..51 {
            d.feed_chunk(b"Received: x\r\n");
        }
        assert_eq!(d.finish(), Err(Problem::TooManyHops));

        let mut d = BodyDecoder::new(BodyLimits {
            max_size: 4,
            ..BodyLimits::default()
        });
        d.feed_chunk(b"abc");
        d.feed_chunk(b"de");
        assert_eq!(d.finish(), Err(Problem::TooBig));
    }

    #[test]
    fn bdat_keeps_the_line_rules_of_data() {
        let chunks = |parts: &[&[u8]]| {
            let mut d = BodyDecoder::new(BodyLimits::default());
            for p in parts {
                d.feed_chunk(p);
            }
            d.finish()
        };
        // Smuggling, wherever the chunks split it.
        for hidden in [
            &b"hello\r.\rMAIL FROM:<ceo@bank.test>\r\n"[..],
            b"A\n.\nMAIL FROM:<x@y.test>\r\n",
            b"A\r\n.\nMAIL FROM:<x@y.test>\r\n",
        ] {
            let whole = [&b"Subject: x\r\n\r\n"[..], hidden].concat();
            assert_eq!(chunks(&[&whole]), Err(Problem::Smuggling), "{hidden:?}");
            let (a, b) = whole.split_at(whole.len() - 22);
            assert_eq!(chunks(&[a, b]), Err(Problem::Smuggling), "split {hidden:?}");
        }
        // A line over 1000 octets, even spread over chunks.
        let long = vec![b'a'; 700];
        assert_eq!(
            chunks(&[b"Subject: x\r\n\r\n", &long, &long, b"\r\n"]),
            Err(Problem::LineTooLong)
        );
        // A bare LF elsewhere is stored as the CRLF it stands for, as DATA
        // stores it; the last line may end without one.
        assert_eq!(
            chunks(&[b"Subject: x\n\nbody\nend"]).unwrap(),
            b"Subject: x\r\n\r\nbody\r\nend"
        );
    }
}
