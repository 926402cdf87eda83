//! ENVELOPE, BODYSTRUCTURE and body sections (RFC 3501 6.4.5, 7.4.2)
//! computed from the stored message with mail-parser.

use mail_parser::{Address, HeaderName, Message, MessagePart, MimeHeaders, PartType};

use crate::response::{nstring, string};

/// The message's MIME tree (dropped without recursion, however deep).
pub fn parse(raw: &[u8]) -> Option<mailroom_spam::mime_tree::MimeTree<'_>> {
    mailroom_spam::mime_tree::parse(raw)
}

// mail-parser's offsets, nested messages included, count from the start of
// the whole message, so every slice is taken from that root buffer (see
// `buffer_of` for attached messages).
fn raw_header<'a>(raw: &'a [u8], part: &MessagePart<'_>, name: HeaderName<'_>) -> Option<&'a [u8]> {
    part.headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| trim_header(slice(raw, h.offset_start, h.offset_end)))
}

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let end = (end as usize).min(raw.len());
    &raw[(start as usize).min(end)..end]
}

/// Unfolds and trims a raw header value.
fn trim_header(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &value[start..end]
}

fn unfold(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

fn nstring_header(out: &mut Vec<u8>, value: Option<&[u8]>) {
    nstring(out, value.map(unfold).as_deref());
}

/// RFC 2047 B-encoding for a decoded display name that is not ASCII.
fn encoded_word(text: &str) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::from("=?UTF-8?B?");
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push_str("?=");
    out
}

/// RFC 2231 4: `UTF-8''` and the value with every octet that is not an
/// attribute-char percent-encoded.
fn rfc2231(value: &str) -> String {
    let mut out = String::from("UTF-8''");
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn address_list(out: &mut Vec<u8>, address: Option<&Address<'_>>) {
    let Some(address) = address else {
        out.extend_from_slice(b"NIL");
        return;
    };
    let mut items = Vec::new();
    let one = |items: &mut Vec<u8>, name: Option<&str>, email: Option<&str>| {
        items.push(b'(');
        let name = name.map(|n| {
            if n.is_ascii() {
                n.to_string()
            } else {
                encoded_word(n)
            }
        });
        // A NIL host marks a group (RFC 3501 7.4.2), so an address without
        // a domain (`To: undisclosed`) gets a placeholder host instead, as
        // Dovecot writes it; a word with no address at all is its mailbox.
        let (name, email) = match (name, email) {
            (Some(n), None) if !n.is_empty() => (None, Some(n)),
            (name, email) => (name, email.map(str::to_string)),
        };
        let (route, local, host) = match email.as_deref().and_then(|e| e.rsplit_once('@')) {
            Some((l, h)) => {
                // An obsolete source route (`@relay:user@host`, RFC 5322 4.4).
                match l.strip_prefix('@').and_then(|r| r.split_once(':')) {
                    Some((route, local)) => (Some(format!("@{route}")), local.to_string(), h),
                    None => (None, l.to_string(), h),
                }
            }
            None => (
                None,
                email.clone().unwrap_or_else(|| "MISSING_MAILBOX".into()),
                "MISSING_DOMAIN",
            ),
        };
        nstring(items, name.as_deref().map(str::as_bytes));
        items.push(b' ');
        nstring(items, route.as_deref().map(str::as_bytes));
        items.push(b' ');
        string(items, local.as_bytes());
        items.push(b' ');
        string(items, host.as_bytes());
        items.push(b')');
    };
    match address {
        Address::List(list) => {
            for a in list {
                one(&mut items, a.name.as_deref(), a.address.as_deref());
            }
        }
        Address::Group(groups) => {
            for g in groups {
                match &g.name {
                    // RFC 3501 7.4.2: group start and end markers.
                    Some(name) => {
                        items.extend_from_slice(b"(NIL NIL ");
                        // Decoded by the parser; sent back as an encoded
                        // word when it is not ASCII, as display names are.
                        let name = if name.is_ascii() {
                            name.to_string()
                        } else {
                            encoded_word(name)
                        };
                        string(&mut items, name.as_bytes());
                        items.extend_from_slice(b" NIL)");
                        for a in &g.addresses {
                            one(&mut items, a.name.as_deref(), a.address.as_deref());
                        }
                        items.extend_from_slice(b"(NIL NIL NIL NIL)");
                    }
                    None => {
                        for a in &g.addresses {
                            one(&mut items, a.name.as_deref(), a.address.as_deref());
                        }
                    }
                }
            }
        }
    }
    if items.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        out.extend_from_slice(&items);
        out.push(b')');
    }
}

/// The ENVELOPE of a message.
pub fn envelope(out: &mut Vec<u8>, raw: &[u8], msg: &Message<'_>) {
    let root = msg.root_part();
    out.push(b'(');
    nstring_header(out, raw_header(raw, root, HeaderName::Date));
    out.push(b' ');
    // A subject written in raw UTF-8 (RFC 6532) goes out as an encoded
    // word, which every client reads, not as 8-bit text to clients that
    // did not ask for it (RFC 6855 7).
    let subject = raw_header(raw, root, HeaderName::Subject).map(unfold);
    match subject.as_deref().map(std::str::from_utf8) {
        Some(Ok(text)) if !text.is_ascii() => string(out, encoded_word(text).as_bytes()),
        _ => nstring(out, subject.as_deref()),
    }
    out.push(b' ');
    let from = msg.from();
    address_list(out, from);
    out.push(b' ');
    // RFC 3501 7.4.2: Sender and Reply-To default to From.
    address_list(out, msg.sender().or(from));
    out.push(b' ');
    address_list(out, msg.reply_to().or(from));
    out.push(b' ');
    address_list(out, msg.to());
    out.push(b' ');
    address_list(out, msg.cc());
    out.push(b' ');
    address_list(out, msg.bcc());
    out.push(b' ');
    nstring_header(out, raw_header(raw, root, HeaderName::InReplyTo));
    out.push(b' ');
    nstring_header(out, raw_header(raw, root, HeaderName::MessageId));
    out.push(b')');
}

fn lines(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count()
}

/// `("NAME" "value" ...)`, or `None` when there is nothing to list.
fn attribute_list(out: &mut Vec<u8>, list: Option<&[mail_parser::Attribute<'_>]>) -> bool {
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return false;
    };
    out.push(b'(');
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let name = a.name.to_ascii_uppercase();
        if a.value.is_ascii() {
            string(out, name.as_bytes());
            out.push(b' ');
            string(out, a.value.as_bytes());
        } else {
            // The parser decoded RFC 2231 (or an encoded word); a value
            // beyond ASCII goes back in RFC 2231's form, which clients
            // decode, not as raw 8-bit text.
            string(out, format!("{name}*").as_bytes());
            out.push(b' ');
            string(out, rfc2231(&a.value).as_bytes());
        }
    }
    out.push(b')');
    true
}

fn params(out: &mut Vec<u8>, part: &MessagePart<'_>, default_charset: bool) {
    if attribute_list(out, part.content_type().and_then(|c| c.attributes())) {
        return;
    }
    out.extend_from_slice(if default_charset {
        b"(\"CHARSET\" \"US-ASCII\")"
    } else {
        b"NIL"
    });
}

fn disposition(out: &mut Vec<u8>, part: &MessagePart<'_>) {
    match part.content_disposition() {
        Some(d) => {
            out.push(b'(');
            string(out, d.ctype().to_ascii_uppercase().as_bytes());
            out.push(b' ');
            if !attribute_list(out, d.attributes()) {
                out.extend_from_slice(b"NIL");
            }
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

/// BODYSTRUCTURE (`extended`) or BODY of a part.
/// ` body-fld-lang SP body-fld-loc` (RFC 3501 7.4.2): Content-Language
/// (one tag as a string, several as a list) and Content-Location.
fn language_and_location(out: &mut Vec<u8>, raw: &[u8], part: &MessagePart<'_>) {
    out.push(b' ');
    let tags: Vec<String> = raw_header(raw, part, HeaderName::ContentLanguage)
        .map(|v| {
            String::from_utf8_lossy(&unfold(v))
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match tags.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => string(out, one.as_bytes()),
        many => {
            out.push(b'(');
            for (i, tag) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, tag.as_bytes());
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    let location = raw_header(raw, part, HeaderName::ContentLocation).map(unfold);
    nstring(out, location.as_deref());
}

/// Multiparts and messages inside each other that BODYSTRUCTURE
/// describes; deeper ones are shown as one opaque part. Real mail nests a
/// few levels; a crafted message of a million would exhaust the stack.
const MAX_MIME_DEPTH: usize = 64;

pub fn body_structure(
    out: &mut Vec<u8>,
    raw: &[u8],
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    extended: bool,
) {
    structure(out, raw, msg, part, extended, 0);
}

fn structure(
    out: &mut Vec<u8>,
    raw: &[u8],
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    extended: bool,
    depth: usize,
) {
    if depth >= MAX_MIME_DEPTH && matches!(part.body, PartType::Multipart(_) | PartType::Message(_))
    {
        let size = (part.offset_end as usize).saturating_sub(part.offset_body as usize);
        out.extend_from_slice(
            format!("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" {size}").as_bytes(),
        );
        if extended {
            out.extend_from_slice(b" NIL NIL NIL NIL");
        }
        out.push(b')');
        return;
    }
    let (ctype, subtype) = match part.content_type() {
        Some(c) => (
            c.ctype().to_ascii_uppercase(),
            c.subtype().map(str::to_ascii_uppercase),
        ),
        None => ("TEXT".to_string(), Some("PLAIN".to_string())),
    };
    if let PartType::Multipart(children) = &part.body {
        out.push(b'(');
        for &child in children {
            if let Some(p) = msg.parts.get(child as usize) {
                structure(out, raw, msg, p, extended, depth + 1);
            }
        }
        out.push(b' ');
        string(out, subtype.as_deref().unwrap_or("MIXED").as_bytes());
        if extended {
            out.push(b' ');
            params(out, part, false);
            out.push(b' ');
            disposition(out, part);
            language_and_location(out, raw, part);
        }
        out.push(b')');
        return;
    }
    let body =
        &raw[(part.offset_body as usize).min(raw.len())..(part.offset_end as usize).min(raw.len())];
    out.push(b'(');
    string(out, ctype.as_bytes());
    out.push(b' ');
    string(out, subtype.as_deref().unwrap_or("PLAIN").as_bytes());
    out.push(b' ');
    params(out, part, ctype == "TEXT");
    out.push(b' ');
    nstring_header(out, raw_header(raw, part, HeaderName::ContentId));
    out.push(b' ');
    nstring_header(out, raw_header(raw, part, HeaderName::ContentDescription));
    out.push(b' ');
    let encoding = raw_header(raw, part, HeaderName::ContentTransferEncoding)
        .map(|e| String::from_utf8_lossy(&unfold(e)).to_ascii_uppercase())
        .unwrap_or_else(|| "7BIT".into());
    string(out, encoding.as_bytes());
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    if let PartType::Message(nested) = &part.body {
        let inner = buffer_of(raw, nested);
        out.push(b' ');
        envelope(out, inner, nested);
        out.push(b' ');
        structure(out, inner, nested, nested.root_part(), extended, depth + 1);
        out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
    } else if ctype == "TEXT" {
        out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
    }
    if extended {
        out.push(b' ');
        nstring_header(out, raw_header(raw, part, HeaderName::ContentMd5));
        out.push(b' ');
        disposition(out, part);
        language_and_location(out, raw, part);
    }
    out.push(b')');
}

/// Unfolded values of a header, raw and decoded, lower-case.
pub fn header_values(raw: &[u8], msg: &Message<'_>, name: &str) -> Vec<String> {
    msg.root_part()
        .headers
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| {
            let end = (h.offset_end as usize).min(raw.len());
            let value = &raw[(h.offset_start as usize).min(end)..end];
            let mut s = String::from_utf8_lossy(value)
                .to_lowercase()
                .replace(['\r', '\n'], "");
            // Decoded form too, so "Grüße" finds an encoded subject, and
            // "Jürgen" an encoded display name (RFC 3501 6.4.4).
            if let Some(decoded) = h.value.as_text() {
                s.push(' ');
                s.push_str(&decoded.to_lowercase());
            } else if let Some(addresses) = h.value.as_address() {
                for a in addresses.iter() {
                    for part in [a.name(), a.address()].into_iter().flatten() {
                        s.push(' ');
                        s.push_str(&part.to_lowercase());
                    }
                }
            }
            s
        })
        .collect()
}

/// The bytes an attached message's offsets count in. Attached as is, it
/// was parsed in place: its offsets count in the enclosing buffer, though
/// its `raw_message()` is only its own slice of it. Sent base64 or
/// quoted-printable, it was parsed from its decoded bytes, which
/// `raw_message()` holds and its offsets count in.
pub fn buffer_of<'a>(outer: &'a [u8], nested: &'a Message<'_>) -> &'a [u8] {
    let inner = nested.raw_message();
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    if i >= o && i + inner.len() <= o + outer.len() {
        outer
    } else {
        inner
    }
}

/// Where a section path leads: the bytes to slice it from (see
/// [`buffer_of`]), the message it belongs to, and the part.
pub fn find_part<'a, 'x>(
    raw: &'a [u8],
    msg: &'a Message<'x>,
    path: &[u32],
) -> Option<(&'a [u8], &'a Message<'x>, &'a MessagePart<'x>)> {
    let mut buffer = raw;
    let mut message = msg;
    let mut part = msg.root_part();
    for (depth, &n) in path.iter().enumerate() {
        if depth > 0
            && let PartType::Message(nested) = &part.body
        {
            buffer = buffer_of(buffer, nested);
            message = nested;
            part = nested.root_part();
        }
        match &part.body {
            PartType::Multipart(children) => {
                let child = *children.get(n as usize - 1)?;
                part = message.parts.get(child as usize)?;
            }
            _ if n == 1 => {}
            _ => return None,
        }
    }
    Some((buffer, message, part))
}

/// The bytes of a part's body (for message/rfc822: the whole message).
pub fn part_body<'r>(raw: &'r [u8], part: &MessagePart<'_>) -> &'r [u8] {
    slice(raw, part.offset_body, part.offset_end)
}

pub fn part_header<'r>(raw: &'r [u8], part: &MessagePart<'_>) -> &'r [u8] {
    slice(raw, part.offset_header, part.offset_body)
}

/// Header lines whose names are (or, with `exclude`, are not) in `names`,
/// followed by the blank line (RFC 3501 6.4.5 HEADER.FIELDS).
pub fn header_fields(header: &[u8], names: &[String], exclude: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !matches!(line.first(), Some(b' ' | b'\t')) {
            let name = line.split(|&b| b == b':').next().unwrap_or(b"");
            let name = String::from_utf8_lossy(trim_header(name)).to_ascii_lowercase();
            keep = names.iter().any(|n| n.eq_ignore_ascii_case(&name)) != exclude;
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &[u8] = b"From: Alice <alice@example.test>\r\n\
To: bob@example.test, Carol <carol@example.test>\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\
Date: Sun, 29 Nov 2026 06:50:00 +0000\r\n\
Message-ID: <m1@example.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: x@y.test\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
--b1--\r\n";

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn envelope_keeps_raw_subject_and_splits_addresses() {
        let msg = parse(NESTED).unwrap();
        let mut out = Vec::new();
        envelope(&mut out, NESTED, &msg);
        assert_eq!(
            text(out),
            "(\"Sun, 29 Nov 2026 06:50:00 +0000\" \"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\" \
((\"Alice\" NIL \"alice\" \"example.test\")) ((\"Alice\" NIL \"alice\" \"example.test\")) \
((\"Alice\" NIL \"alice\" \"example.test\")) \
((NIL NIL \"bob\" \"example.test\")(\"Carol\" NIL \"carol\" \"example.test\")) NIL NIL NIL \
\"<m1@example.test>\")"
        );
    }

    #[test]
    fn sections_of_a_nested_message() {
        let msg = parse(NESTED).unwrap();
        let (buffer, _, p) = find_part(NESTED, &msg, &[1]).unwrap();
        assert_eq!(part_body(buffer, p), b"Hello");
        let (buffer, _, p) = find_part(NESTED, &msg, &[2]).unwrap();
        assert!(part_body(buffer, p).starts_with(b"From: x@y.test\r\n"));
        let (buffer, inner, p) = find_part(NESTED, &msg, &[2, 1]).unwrap();
        assert_eq!(part_body(buffer, p), b"inner body");
        // The attached message's own header, from the enclosing buffer.
        assert!(part_header(buffer, inner.root_part()).starts_with(b"From: x@y.test\r\n"));
        assert!(find_part(NESTED, &msg, &[3]).is_none());
        let fields = header_fields(
            part_header(NESTED, msg.root_part()),
            &["subject".into(), "to".into()],
            false,
        );
        assert_eq!(
            text(fields),
            "To: bob@example.test, Carol <carol@example.test>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"
        );
    }

    #[test]
    fn bodystructure_of_a_nested_message() {
        let msg = parse(NESTED).unwrap();
        let mut out = Vec::new();
        body_structure(&mut out, NESTED, &msg, msg.root_part(), false);
        let s = text(out);
        assert!(
            s.starts_with("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 5 0)"),
            "{s}"
        );
        assert!(
            s.contains("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\""),
            "{s}"
        );
        assert!(s.ends_with(" \"MIXED\")"), "{s}");
    }

    #[test]
    fn a_nested_message_sent_base64_is_read_decoded() {
        const RAW: &[u8] = b"From: a@b.test\r\nSubject: outer\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n\
--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogeEB5LnRlc3QNClN1YmplY3Q6IGluc2lkZQ0KDQppbm5lciBib2R5\r\n--b--\r\n";
        let msg = parse(RAW).unwrap();
        let mut out = Vec::new();
        body_structure(&mut out, RAW, &msg, msg.root_part(), false);
        let s = text(out);
        assert!(s.contains("\"BASE64\""), "{s}");
        assert!(s.contains("\"inside\""), "the nested envelope: {s}");
        let (buffer, _, p) = find_part(RAW, &msg, &[2, 1]).unwrap();
        assert_eq!(part_body(buffer, p), b"inner body");
        let PartType::Message(inner) = &find_part(RAW, &msg, &[2]).unwrap().2.body else {
            panic!("not a message part");
        };
        assert_eq!(
            text(header_fields(
                part_header(inner.raw_message(), inner.root_part()),
                &["subject".into()],
                false
            )),
            "Subject: inside\r\n\r\n"
        );
    }

    #[test]
    fn extension_data_names_md5_language_and_location() {
        const RAW: &[u8] = b"From: a@b.test\r\nContent-Type: text/plain\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\
Content-Language: en, de\r\nContent-Location: http://www.example.test/a.txt\r\n\r\nhi\r\n";
        let msg = parse(RAW).unwrap();
        let mut out = Vec::new();
        body_structure(&mut out, RAW, &msg, msg.root_part(), true);
        assert!(text(out).ends_with(
            " \"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL (\"en\" \"de\") \"http://www.example.test/a.txt\")"
        ),);
    }

    #[test]
    fn non_ascii_names_are_encoded_words() {
        assert_eq!(encoded_word("Jörg"), "=?UTF-8?B?SsO2cmc=?=");
        let raw = "From: a@b.test\r\nSubject: Grüße\r\n\r\nhi\r\n".as_bytes();
        let msg = parse(raw).unwrap();
        let mut out = Vec::new();
        envelope(&mut out, raw, &msg);
        assert!(text(out).starts_with("(NIL \"=?UTF-8?B?R3LDvMOfZQ==?=\""));
        const RAW: &[u8] = b"From: a@b.test\r\nTo: =?UTF-8?Q?Gr=C3=BCppe?=: x@y.test;\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Disposition: attachment; filename*=UTF-8''%C3%A4 b.txt\r\n\r\nhi\r\n";
        let msg = parse(RAW).unwrap();
        let mut out = Vec::new();
        envelope(&mut out, RAW, &msg);
        let envelope = text(out);
        assert!(
            envelope.contains("(NIL NIL \"=?UTF-8?B?R3LDvHBwZQ==?=\" NIL)"),
            "{envelope}"
        );
        let mut out = Vec::new();
        body_structure(&mut out, RAW, &msg, msg.root_part(), true);
        let structure = text(out);
        assert!(
            structure.contains("(\"FILENAME*\" \"UTF-8''%C3%A4%20b.txt\")"),
            "{structure}"
        );
        assert!(structure.is_ascii(), "{structure}");
    }
}

#[cfg(test)]
mod deep_tests {
    use super::*;

    #[test]
    fn deeply_nested_multiparts_do_not_overflow_the_stack() {
        let depth = 20_000;
        let mut raw = String::from("From: a@b.test\r\n");
        for i in 0..depth {
            raw.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        raw.push_str("Content-Type: text/plain\r\n\r\nhi\r\n");
        let msg = parse(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        body_structure(&mut out, raw.as_bytes(), &msg, msg.root_part(), true);
        let text = String::from_utf8_lossy(&out);
        // The part at the depth limit is shown as one opaque part.
        assert!(
            text.contains("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\""),
            "{text}"
        );
        assert!(
            text.ends_with("\"MIXED\" (\"BOUNDARY\" \"b0\") NIL NIL NIL)"),
            "{text}"
        );
    }

    #[test]
    fn deeply_nested_messages_do_not_overflow_the_stack() {
        let mut raw = String::new();
        for _ in 0..20_000 {
            raw.push_str("From: a@b.test\r\nContent-Type: message/rfc822\r\n\r\n");
        }
        raw.push_str("From: a@b.test\r\n\r\nhi\r\n");
        let msg = parse(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        body_structure(&mut out, raw.as_bytes(), &msg, msg.root_part(), true);
        assert!(!out.is_empty());
    }
}
