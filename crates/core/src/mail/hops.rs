//! Loop detection by counting hops: every MTA a message passes adds a
//! `Received:` line (RFC 5321 4.4), so a message caught in a forwarding
//! loop grows them until a limit stops it.

/// RFC 5321 6.3 asks for a limit of at least 100 before refusing a
/// message as looping.
pub const MAX_HOPS: usize = 100;

/// We stop forwarding earlier (as Postfix does at 50), so a loop between
/// two forwarders ends in a bounce from us rather than a refusal.
pub const MAX_FORWARD_HOPS: usize = 50;

/// `Received:` fields in the message's header section.
pub fn received_count(message: &[u8]) -> usize {
    let mut count = 0;
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.len() >= 9 && line[..9].eq_ignore_ascii_case(b"received:") {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_header_fields_count() {
        let message = b"Received: a\r\n\tcontinued\r\nRECEIVED: b\r\nSubject: x\r\n\r\nReceived: in the body\r\n";
        assert_eq!(super::received_count(message), 2);
        assert_eq!(super::received_count(b""), 0);
    }
}
