//! Header fields a sender must not write for us, removed from mail that
//! comes in from other servers before it is stored.

/// Names of the fields our own filter writes above every message.
const OUR_SPAM_FIELDS: &[&str] = &["x-spam-score", "x-spam-status", "x-spam-flag"];

/// The message without `Authentication-Results:` fields that name
/// `hostname` as their authserv-id (RFC 8601 5: a border MTA deletes
/// them, as only it may speak for itself) and without the `X-Spam-*`
/// fields our filter writes (a sender's "X-Spam-Status: No" must not sit
/// below ours). None when there is nothing to remove. The body after the
/// header section is left as it came.
pub(crate) fn without_forged_results(message: &[u8], hostname: &str) -> Option<Vec<u8>> {
    let header_end = header_section_end(message);
    let mut kept = Vec::with_capacity(message.len());
    let mut removed = false;
    let mut at = 0;
    while at < header_end {
        let field_end = field_end(message, at, header_end);
        let field = &message[at..field_end];
        if forged(field, hostname) {
            removed = true;
        } else {
            kept.extend_from_slice(field);
        }
        at = field_end;
    }
    if !removed {
        return None;
    }
    kept.extend_from_slice(&message[header_end..]);
    Some(kept)
}

/// Where the header section ends: after its last field, before the empty
/// line (or the whole message, if it has no body).
pub(crate) fn header_section_end(message: &[u8]) -> usize {
    let mut at = 0;
    while at < message.len() {
        let line_end = message[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |p| at + p + 1);
        let line = &message[at..line_end];
        if line == b"\r\n" || line == b"\n" {
            return at;
        }
        at = line_end;
    }
    message.len()
}

/// The end of the field that starts at `start`: its continuation lines
/// (starting with a space or tab, RFC 5322 2.2.3) included.
fn field_end(message: &[u8], start: usize, limit: usize) -> usize {
    let mut at = start;
    loop {
        at = message[at..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |p| at + p + 1);
        if at >= limit || !matches!(message[at], b' ' | b'\t') {
            return at;
        }
    }
}

fn forged(field: &[u8], hostname: &str) -> bool {
    let Some(colon) = field.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = String::from_utf8_lossy(&field[..colon])
        .trim()
        .to_ascii_lowercase();
    if OUR_SPAM_FIELDS.contains(&name.as_str()) {
        return true;
    }
    if name != "authentication-results" {
        return false;
    }
    // RFC 8601 2.2: the value starts with the authserv-id (CFWS aside).
    let value = String::from_utf8_lossy(&field[colon + 1..]);
    let id = value
        .trim_start()
        .split(|c: char| c == ';' || c.is_whitespace())
        .next()
        .unwrap_or("");
    id.trim_end_matches('.')
        .eq_ignore_ascii_case(hostname.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_claiming_to_be_ours_go_and_the_rest_stays() {
        let message = b"Received: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n\
Authentication-Results: MX.Example.Test;\r\n\tdkim=pass header.d=bank.example\r\n\
Authentication-Results: relay.other.example; spf=pass\r\n\
X-Spam-Status: No, score=-5.0\r\n\
Subject: hi\r\n\r\nAuthentication-Results: mx.example.test; body text stays\r\n";
        let cleaned = without_forged_results(message, "mx.example.test").unwrap();
        let text = String::from_utf8(cleaned).unwrap();
        assert_eq!(
            text,
            "Received: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n\
Authentication-Results: relay.other.example; spf=pass\r\n\
Subject: hi\r\n\r\nAuthentication-Results: mx.example.test; body text stays\r\n"
        );
        assert_eq!(
            without_forged_results(b"Subject: hi\r\n\r\nbody\r\n", "mx.example.test"),
            None
        );
        assert_eq!(
            without_forged_results(b"X-Spam-Score: 1\r\n", "mx.example.test").as_deref(),
            Some(&b""[..])
        );
    }
}
