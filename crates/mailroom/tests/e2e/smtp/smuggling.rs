//! SMTP smuggling (CVE-2023-51764 and friends): only `<CRLF>.<CRLF>` ends
//! DATA, and a message with a bare CR or LF next to a dot is refused, so
//! what follows a fake end of data is never run as commands.

use super::{SENDER, Smtp, inbox, message_count, server_with};
use crate::server;

const SMUGGLING: &str = "554 5.5.2 Message refused: bare CR or LF next to \".\" (possible SMTP smuggling); end every line with CRLF";
const BARE: &str = "554 5.5.2 Message refused: bare CR or LF in message; end every line with CRLF";

/// Sends a message whose body hides a second transaction behind
/// `fake_end`, then the real end of data.
fn smuggle(fake_end: &str) {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    let payload = format!(
        "From: <{SENDER}>\r\nSubject: innocent\r\n\r\nhello{fake_end}\
         MAIL FROM:<ceo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n\
         From: <ceo@example.test>\r\nSubject: smuggled\r\n\r\npay the invoice\r\n.\r\n"
    );
    smtp.send(&payload);
    let reply = smtp.reply();
    assert_eq!(
        reply.lines,
        [SMUGGLING],
        "fake end of data {fake_end:?} was not refused"
    );
    // Exactly one reply came for all of it: the next one is for NOOP, so
    // no smuggled MAIL, RCPT or DATA was answered (or run).
    let noop = smtp.cmd("NOOP");
    assert_eq!(
        noop.lines,
        ["250 2.0.0 OK"],
        "fake end {fake_end:?}: extra replies"
    );
    // No transaction is open: the smuggled MAIL never happened.
    smtp.expect("RCPT TO:<bob@example.test>", "503 5.5.1");
    smtp.quit();
    assert!(inbox(&server, "bob@example.test").is_empty());
    assert_eq!(message_count(&server), 0, "fake end {fake_end:?}");
}

#[test]
fn smuggling_with_lf_dot_crlf_is_refused() {
    smuggle("\n.\r\n");
}

#[test]
fn smuggling_with_crlf_dot_lf_is_refused() {
    smuggle("\r\n.\n");
}

#[test]
fn smuggling_with_lf_dot_lf_is_refused() {
    smuggle("\n.\n");
}

#[test]
fn smuggling_with_cr_dot_crlf_is_refused() {
    smuggle("\r.\r\n");
}

#[test]
fn smuggling_with_crlf_dot_cr_is_refused() {
    smuggle("\r\n.\r");
}

#[test]
fn smuggling_with_cr_dot_cr_is_refused() {
    smuggle("\r.\r");
}

#[test]
fn smuggling_with_crlf_dot_cr_crlf_is_refused() {
    smuggle("\r\n.\r\r\n");
}

#[test]
fn a_bare_lf_away_from_dots_is_accepted_as_a_line_end_by_default() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    smtp.send("Subject: lf\r\n\r\nline one\nline two\r\n.\r\n");
    assert!(smtp.reply().last().starts_with("250 2.0.0 OK: queued as "));
    smtp.quit();
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    // Stored with CRLF everywhere (RFC 5322 2.3).
    assert_eq!(
        stored[0].body_text(),
        "Subject: lf\r\n\r\nline one\r\nline two\r\n"
    );
}

#[test]
fn strict_line_endings_refuse_any_bare_cr_or_lf() {
    let server = server_with("strict_line_endings = true");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    for body in [
        "line one\nline two\r\n",
        "line one\rline two\r\n",
        "trailing bare lf\n",
    ] {
        smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
        smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
        smtp.expect("DATA", "354");
        smtp.send(&format!("Subject: strict\r\n\r\n{body}\r\n.\r\n"));
        assert_eq!(smtp.reply().lines, [BARE], "{body:?}");
    }
    // A smuggling attempt is refused in strict mode too, and what follows
    // its fake end is not run (HELP would answer 214).
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    smtp.send("Subject: strict\r\n\r\nx\n.\r\nHELP\r\n.\r\n");
    let reply = smtp.reply();
    assert!(
        reply.lines == [SMUGGLING] || reply.lines == [BARE],
        "{:?}",
        reply.lines
    );
    smtp.expect("NOOP", "250 2.0.0 OK");
    // Clean CRLF mail still flows.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    smtp.send("Subject: strict\r\n\r\nall CRLF\r\n.\r\n");
    assert!(smtp.reply().last().starts_with("250 2.0.0 OK: queued as "));
    smtp.quit();
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
}

#[test]
fn bdat_chunks_keep_the_line_rules_of_data() {
    // RFC 3030 3: without BINARYMIME, BDAT text is lines like DATA's, and
    // a hidden end of data would split the message when it is relayed on
    // with DATA; a line over 1000 octets is refused as in DATA.
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    for hidden in [
        "hello\r.\rMAIL FROM:<ceo@example.test>\r\n",
        "A\n.\nQUIT\r\n",
    ] {
        let chunk = format!("From: <{SENDER}>\r\nSubject: chunked\r\n\r\n{hidden}");
        smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
        smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
        smtp.send(&format!("BDAT {} LAST\r\n{chunk}", chunk.len()));
        assert_eq!(smtp.reply().lines, [SMUGGLING], "{hidden:?}");
        smtp.expect("NOOP", "250 2.0.0 OK");
    }
    let long = format!("Subject: long\r\n\r\n{}\r\n", "x".repeat(1200));
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.send(&format!("BDAT {} LAST\r\n{long}", long.len()));
    assert!(
        smtp.reply()
            .last()
            .starts_with("554 5.5.2 Message refused: a line is longer")
    );
    // Bare LFs away from dots are stored as CRLF, as DATA stores them.
    let plain = "Subject: lf\r\n\r\nline one\nline two\r\n";
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.send(&format!("BDAT {} LAST\r\n{plain}", plain.len()));
    assert!(smtp.reply().last().starts_with("250 2.0.0 OK: queued as "));
    smtp.quit();
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].body_text(),
        "Subject: lf\r\n\r\nline one\r\nline two\r\n"
    );
}
