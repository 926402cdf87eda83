//! Reading parts the MIME parser gave up on. Mass mailers often leave out
//! the closing boundary (RFC 2046 5.1.1 requires it) or break a line of
//! base64; the parser then hands the part over still encoded, and the
//! rules and the classifier would read base64 letters instead of the
//! words a mail program shows. A reader's program decodes such parts
//! anyway, so the filter does too.

use mail_parser::{MessagePart, MimeHeaders};

/// A part's text as a reader sees it, decoded despite the damage.
pub(crate) struct Repaired {
    pub html: bool,
    pub text: String,
    /// The part was base64 though its text is plain ASCII.
    pub ascii_in_base64: bool,
}

/// Decodes `part` (one the parser flagged as an encoding problem) from
/// the message's `raw` bytes; `None` when it is not damaged text.
pub(crate) fn repair(part: &MessagePart<'_>, raw: &[u8]) -> Option<Repaired> {
    if !part.is_encoding_problem {
        return None;
    }
    let content_type = part.content_type()?;
    if !content_type.ctype().eq_ignore_ascii_case("text") {
        return None;
    }
    let html = content_type
        .subtype()
        .is_some_and(|s| s.eq_ignore_ascii_case("html"));
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    let encoding = part
        .content_transfer_encoding()?
        .trim()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => lenient_base64(body),
        "quoted-printable" => lenient_quoted_printable(body),
        _ => return None,
    };
    let text = match content_type
        .attribute("charset")
        .and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c.as_bytes()))
    {
        Some(decode) => decode(&bytes),
        None => String::from_utf8_lossy(&bytes).into_owned(),
    };
    Some(Repaired {
        html,
        ascii_in_base64: encoding == "base64" && bytes.is_ascii() && !text.trim().is_empty(),
        text,
    })
}

/// Base64 (RFC 2045 6.8) skipping whatever is not in its alphabet, up to
/// the padding.
pub(crate) fn lenient_base64(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let (mut group, mut count) = (0u32, 0);
    // A line starting `--` is a boundary (base64 has no `-`): the part
    // ends there even when the parser did not see it.
    let lines = body
        .split(|&b| b == b'\n')
        .take_while(|line| !line.starts_with(b"--"));
    'lines: for line in lines {
        for &byte in line {
            let value = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => break 'lines,
                _ => continue,
            };
            group = group << 6 | u32::from(value);
            count += 1;
            if count == 4 {
                out.extend_from_slice(&group.to_be_bytes()[1..]);
                (group, count) = (0, 0);
            }
        }
    }
    // A last group of two or three letters holds one or two bytes.
    match count {
        2 => out.push((group >> 4) as u8),
        3 => out.extend_from_slice(&((group >> 2) as u16).to_be_bytes()),
        _ => {}
    }
    out
}

/// A header value with an RFC 2047 `B` encoded word whose text is plain
/// ASCII: mail programs encode words only for the characters ASCII lacks.
pub(crate) fn header_hides_ascii(value: &str) -> bool {
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        rest = &rest[start + 2..];
        let mut fields = rest.splitn(3, '?');
        let (Some(_charset), Some(encoding), Some(tail)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        let Some(end) = tail.find("?=") else {
            return false;
        };
        let text = &tail[..end];
        if encoding.eq_ignore_ascii_case("b") && !text.is_empty() {
            let decoded = lenient_base64(text.as_bytes());
            if decoded.is_ascii() && decoded.iter().any(u8::is_ascii_alphabetic) {
                return true;
            }
        }
        rest = &tail[end + 2..];
    }
    false
}

/// Quoted-printable (RFC 2045 6.7); a broken escape is kept as written.
fn lenient_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (line, soft_break) = match line.strip_suffix(b"=") {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let mut i = 0;
        while i < line.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if line[i] == b'='
                && let (Some(high), Some(low)) = (
                    line.get(i + 1).copied().and_then(hex),
                    line.get(i + 2).copied().and_then(hex),
                )
            {
                out.push((high * 16 + low) as u8);
                i += 3;
            } else {
                out.push(line[i]);
                i += 1;
            }
        }
        if !soft_break {
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_without_closing_boundary_is_read() {
        let raw = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\nPGI+QnV5IG5vdyE8L2I+\r\nIGNhZuk=\r\n";
        let message = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .expect("parsed");
        let repaired: Vec<Repaired> = message
            .parts
            .iter()
            .filter_map(|p| repair(p, raw))
            .collect();
        assert_eq!(repaired.len(), 1);
        assert!(repaired[0].html);
        assert_eq!(repaired[0].text, "<b>Buy now!</b> caf\u{e9}");
        assert!(!repaired[0].ascii_in_base64);
    }

    #[test]
    fn ascii_words_hidden_in_base64_headers() {
        assert!(header_hides_ascii("=?iso-8859-1?B?RnJlZSBvZmZlcg==?="));
        assert!(
            !header_hides_ascii("=?utf-8?B?Q2Fmw6k=?= menu"),
            "café needs it"
        );
        assert!(!header_hides_ascii("=?iso-8859-1?Q?Free_offer?="));
        assert!(!header_hides_ascii("Free offer =? not a word"));
    }

    #[test]
    fn lenient_decoders() {
        assert_eq!(lenient_base64(b"aGVs\r\nbG8=\r\n--next\r\nZm9v"), b"hello");
        assert_eq!(lenient_base64(b"aGk"), b"hi");
        assert_eq!(
            lenient_quoted_printable(b"caf=E9 =\r\nau lait=ZZ\r\n-- \r\nAnn"),
            b"caf\xe9 au lait=ZZ\n-- \nAnn\n"
        );
    }
}
