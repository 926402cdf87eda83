//! Modified UTF-7 mailbox names (RFC 3501 5.1.3), used on the wire unless
//! the client enabled UTF8=ACCEPT. Names are stored as UTF-8.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

pub fn encode(name: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        for chunk in bytes.chunks(3) {
            let n = chunk.len();
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=n {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a name; `None` if it is not valid modified UTF-7.
pub fn decode(name: &str) -> Option<String> {
    let mut out = String::new();
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'&' {
            if !(0x20..=0x7e).contains(&b) {
                return None;
            }
            out.push(b as char);
            i += 1;
            continue;
        }
        let end = i + 1 + bytes[i + 1..].iter().position(|&c| c == b'-')?;
        if end == i + 1 {
            out.push('&');
            i = end + 1;
            continue;
        }
        let mut bits: u32 = 0;
        let mut nbits = 0;
        let mut units = Vec::new();
        for &c in &bytes[i + 1..end] {
            bits = (bits << 6) | value(c)?;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(((bits >> nbits) & 0xffff) as u16);
            }
        }
        out.push_str(&String::from_utf16(&units).ok()?);
        i = end + 1;
    }
    // RFC 3501 5.1.3: one way to write each name. ASCII in base64, bits
    // left over or two encoded runs side by side would let two spellings
    // name one mailbox.
    (encode(&out) == name).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_one_spelling_is_taken() {
        for wire in ["&AGE-", "Entw&APw-&AHI-fe", "&APx-&APw-", "&APy-x&-"] {
            let canonical = super::decode(wire).map(|n| super::encode(&n));
            assert!(
                canonical.is_none() || canonical.as_deref() == Some(wire),
                "{wire}"
            );
        }
        assert_eq!(super::decode("&AGE-"), None);
        assert_eq!(super::decode("&APw-&APw-"), None);
        assert_eq!(super::decode("&APw-"), Some("ü".into()));
    }

    #[test]
    fn round_trips() {
        let cases = [
            ("INBOX", "INBOX"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("A&B", "A&-B"),
            ("日本語", "&ZeVnLIqe-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ];
        for (utf8, wire) in cases {
            assert_eq!(super::encode(utf8), wire);
            assert_eq!(super::decode(wire).as_deref(), Some(utf8));
        }
        assert_eq!(super::decode("&Jjo!"), None);
    }
}
