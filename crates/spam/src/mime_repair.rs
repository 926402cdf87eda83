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
/// `boundaries` are the message's multipart boundaries: a part whose own
/// end the parser missed stops at the next of them.
pub(crate) fn repair(
    part: &MessagePart<'_>,
    raw: &[u8],
    boundaries: &[String],
) -> Option<Repaired> {
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
    // Encoded text is at most 4/3 of what the filter reads of it.
    let body = &body[..body.len().min(crate::message::MAX_TEXT * 2)];
    let encoding = part
        .content_transfer_encoding()?
        .trim()
        .to_ascii_lowercase();
    let lines = part_lines(body, boundaries);
    let bytes = match encoding.as_str() {
        "base64" => lenient_base64(lines),
        "quoted-printable" => lenient_quoted_printable(lines),
        _ => return None,
    };
    let text = decode_charset(content_type.attribute("charset"), &bytes);
    Some(Repaired {
        html,
        ascii_in_base64: encoding == "base64" && plain_ascii(&text) && !text.trim().is_empty(),
        text,
    })
}

/// ASCII text, not a 7-bit encoding of other scripts (ISO-2022-JP and
/// its kin switch scripts with escape sequences, RFC 1468).
pub(crate) fn plain_ascii(text: &str) -> bool {
    text.is_ascii() && !text.contains('\x1b')
}

/// Bytes in a charset (UTF-8 when it names none or one we do not know).
fn decode_charset(charset: Option<&str>, bytes: &[u8]) -> String {
    match charset.and_then(|c| mail_parser::decoders::charsets::map::charset_decoder(c.as_bytes()))
    {
        Some(decode) => decode(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The lines of a part's body up to the first line that is one of the
/// message's boundaries (`--boundary`).
fn part_lines<'b>(body: &'b [u8], boundaries: &'b [String]) -> impl Iterator<Item = &'b [u8]> {
    body.split(|&b| b == b'\n').take_while(move |line| {
        !line.strip_prefix(b"--").is_some_and(|rest| {
            boundaries
                .iter()
                .any(|b| !b.is_empty() && rest.starts_with(b.as_bytes()))
        })
    })
}

/// A header value with RFC 2047 `B` encoded words whose text, all of it
/// decoded together (one subject may be split over several), is plain
/// ASCII: mail programs encode words only for what ASCII cannot carry.
pub(crate) fn header_hides_ascii(value: &str) -> bool {
    let mut decoded = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        rest = &rest[start + 2..];
        let mut fields = rest.splitn(3, '?');
        let (Some(charset), Some(encoding), Some(tail)) =
            (fields.next(), fields.next(), fields.next())
        else {
            break;
        };
        let Some(end) = tail.find("?=") else {
            break;
        };
        if encoding.eq_ignore_ascii_case("b") {
            // RFC 2231 4.1: `charset*language`.
            let charset = charset.split('*').next().unwrap_or(charset);
            let bytes = lenient_base64(std::iter::once(&tail.as_bytes()[..end]));
            decoded.push_str(&decode_charset(Some(charset), &bytes));
        }
        rest = &tail[end + 2..];
    }
    plain_ascii(&decoded) && decoded.chars().any(|c| c.is_ascii_alphabetic())
}

/// Base64 (RFC 2045 6.8) skipping whatever is not in its alphabet; each
/// `=` ends a group (some encoders pad every line), and a line starting
/// `--` is a boundary (base64 has no `-`), where the part ends.
pub(crate) fn lenient_base64<'l>(lines: impl Iterator<Item = &'l [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut group, mut count) = (0u32, 0);
    let flush = |out: &mut Vec<u8>, group: u32, count: i32| match count {
        // A last group of two or three letters holds one or two bytes.
        2 => out.push((group >> 4) as u8),
        3 => out.extend_from_slice(&((group >> 2) as u16).to_be_bytes()),
        _ => {}
    };
    for line in lines.take_while(|line| !line.starts_with(b"--")) {
        for &byte in line {
            let value = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    flush(&mut out, group, count);
                    (group, count) = (0, 0);
                    continue;
                }
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
    flush(&mut out, group, count);
    out
}

/// Quoted-printable (RFC 2045 6.7); a broken escape is kept as written.
fn lenient_quoted_printable<'l>(lines: impl Iterator<Item = &'l [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        // RFC 2045 6.7 (3): whitespace at a line's end is not the text's.
        let line = line.trim_ascii_end();
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
            .filter_map(|p| repair(p, raw, &["b1".to_string()]))
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
        // Japanese in ISO-2022-JP is 7-bit bytes, yet not ASCII text.
        assert!(!header_hides_ascii("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="));
        // A subject split over words: one all-ASCII piece is not hiding.
        assert!(!header_hides_ascii(
            "=?UTF-8?B?WW91ciBvcmRlciA=?= =?UTF-8?B?Q2Fmw6k=?="
        ));
    }

    fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
        part_lines(text, &[])
    }

    #[test]
    fn lenient_decoders() {
        assert_eq!(
            lenient_base64(lines(b"aGVs\r\nbG8=\r\n--next\r\nZm9v")),
            b"hello"
        );
        assert_eq!(lenient_base64(lines(b"aGk")), b"hi");
        // Padded line by line.
        assert_eq!(lenient_base64(lines(b"aGk=\r\nIHRoZXJl\r\n")), b"hi there");
        assert_eq!(
            lenient_quoted_printable(lines(b"caf=E9 = \r\nau lait=ZZ\r\n-- \r\nAnn")),
            b"caf\xe9 au lait=ZZ\n--\nAnn\n"
        );
        // The next part's boundary ends a part whose end the parser missed.
        let boundaries = ["inner".to_string()];
        let qp: Vec<&[u8]> =
            part_lines(b"one\r\n--inner\r\nContent-Type: x", &boundaries).collect();
        assert_eq!(qp, [&b"one\r"[..]]);
    }
}
