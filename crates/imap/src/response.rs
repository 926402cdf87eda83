//! Encoding of IMAP strings, flag lists and dates in responses.

use mailroom_core::store::Flags;

/// A string as IMAP `quoted` when possible, else as a literal.
pub fn string(out: &mut Vec<u8>, text: &[u8]) {
    let quotable = text.len() < 1024 && text.iter().all(|&b| (0x20..0x7f).contains(&b));
    if quotable {
        quoted(out, text);
    } else {
        literal(out, text);
    }
}

/// Printable ASCII as an IMAP `quoted` string, `"` and `\\` escaped.
pub fn quoted(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    for &b in text {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

pub fn literal(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
}

/// `NIL` or a string.
pub fn nstring(out: &mut Vec<u8>, text: Option<&[u8]>) {
    match text {
        Some(t) => string(out, t),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// A quoted string for text we produce: printable ASCII, or UTF-8 which
/// only reaches the wire once the client accepts it (RFC 6855 3, RFC 9051).
pub fn quote(text: &str) -> String {
    let quotable = text.len() < 1024 && !text.chars().any(char::is_control);
    if !quotable {
        let mut out = Vec::new();
        literal(&mut out, text.as_bytes());
        return String::from_utf8_lossy(&out).into_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

pub const SYSTEM_FLAGS: [(Flags, &str); 5] = [
    (Flags::SEEN, "\\Seen"),
    (Flags::ANSWERED, "\\Answered"),
    (Flags::FLAGGED, "\\Flagged"),
    (Flags::DELETED, "\\Deleted"),
    (Flags::DRAFT, "\\Draft"),
];

/// `(\Seen \Flagged $Label)`
pub fn flag_list(flags: Flags, keywords: &[String], recent: bool) -> String {
    let mut parts: Vec<&str> = SYSTEM_FLAGS
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    if recent {
        parts.push("\\Recent");
    }
    parts.extend(keywords.iter().map(String::as_str));
    format!("({})", parts.join(" "))
}

/// Writes `(\\Seen $Label)` without building a string per message.
pub fn write_flags(out: &mut Vec<u8>, flags: Flags, keywords: &[String], recent: bool) {
    out.push(b'(');
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b' ');
        }
    };
    for (flag, name) in SYSTEM_FLAGS {
        if flags.contains(flag) {
            sep(out);
            out.extend_from_slice(name.as_bytes());
        }
    }
    if recent {
        sep(out);
        out.extend_from_slice(b"\\Recent");
    }
    for keyword in keywords {
        sep(out);
        out.extend_from_slice(keyword.as_bytes());
    }
    out.push(b')');
}

/// RFC 3501 date-time: `"17-Jul-1996 02:44:25 +0000"`.
pub fn internal_date(epoch: i64) -> String {
    let header = mailroom_core::time::rfc5322(epoch);
    // "Sun, 29 Nov 2026 06:50:00 +0000" -> parts
    let parts: Vec<&str> = header.split_whitespace().collect();
    let day: u32 = parts[1].parse().unwrap_or(1);
    format!("\"{day:02}-{}-{} {} +0000\"", parts[2], parts[3], parts[4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\" \\c");
        assert_eq!(out, b"\"a \\\"b\\\" \\\\c\"");
        let mut out = Vec::new();
        string(&mut out, b"line\r\nbreak");
        assert_eq!(out, b"{11}\r\nline\r\nbreak");
    }

    #[test]
    fn flags_and_dates() {
        assert_eq!(
            flag_list(Flags::SEEN.union(Flags::DELETED), &["$X".into()], true),
            "(\\Seen \\Deleted \\Recent $X)"
        );
        assert_eq!(internal_date(0), "\"01-Jan-1970 00:00:00 +0000\"");
        let mut out = Vec::new();
        write_flags(
            &mut out,
            Flags::SEEN.union(Flags::DELETED),
            &["$X".into()],
            false,
        );
        assert_eq!(out, b"(\\Seen \\Deleted $X)");
        out.clear();
        write_flags(&mut out, Flags(0), &[], true);
        assert_eq!(out, b"(\\Recent)");
    }
}
