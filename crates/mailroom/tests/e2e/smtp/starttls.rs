//! STARTTLS (RFC 3207) on the MX port, driven by Python's ssl module over
//! a raw socket so that the test controls every byte.

use super::{SENDER, inbox, message_count};
use crate::server;

/// Python helpers: a byte-at-a-time reply reader (so nothing sent after a
/// reply is swallowed before the TLS handshake) and a client context that
/// accepts the self-signed certificate.
const PRELUDE: &str = r#"
import json, os, socket, ssl
ADDR = (os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"]))
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE

def reply(s):
    lines, buf = [], b""
    while True:
        c = s.recv(1)
        if not c:
            lines.append("<closed>")
            return lines
        buf += c
        if buf.endswith(b"\r\n"):
            line = buf[:-2].decode("utf-8", "replace")
            buf = b""
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

def cmd(s, line):
    s.sendall(line.encode() + b"\r\n")
    return reply(s)

def connect():
    s = socket.create_connection(ADDR, timeout=20)
    assert reply(s)[0].startswith("220 "), "greeting"
    return s

def tls(s):
    return CTX.wrap_socket(s, server_hostname="mail.example.test")

def pending(s, wait=0.5):
    """Whatever the server sends without being asked."""
    s.settimeout(wait)
    try:
        data = s.recv(1000)
        got = data.decode("utf-8", "replace") if data else "<closed>"
    except (socket.timeout, TimeoutError):
        got = ""
    s.settimeout(20)
    return got
"#;

fn run(server: &mailroom_testkit::Server, script: &str) -> serde_json::Value {
    let out = server.python(&format!("{PRELUDE}\n{script}"));
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

fn lines(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a reply: {value}"))
        .iter()
        .map(|l| l.as_str().expect("a line").to_string())
        .collect()
}

fn last(value: &serde_json::Value) -> String {
    lines(value).pop().expect("a line")
}

#[test]
fn starttls_upgrades_the_session_and_forgets_what_came_before() {
    let server = server();
    server.add_user("bob@example.test");
    let script = format!(
        r#"
out = {{}}
s = connect()
out["ehlo_plain"] = cmd(s, "EHLO client.example")
out["mail_plain"] = cmd(s, "MAIL FROM:<{SENDER}>")
out["starttls"] = cmd(s, "STARTTLS")
s = tls(s)
out["version"] = s.version()
out["rcpt_after"] = cmd(s, "RCPT TO:<bob@example.test>")
out["mail_before_ehlo"] = cmd(s, "MAIL FROM:<{SENDER}>")
out["ehlo_tls"] = cmd(s, "EHLO client.example")
out["starttls_again"] = cmd(s, "STARTTLS")
out["mail"] = cmd(s, "MAIL FROM:<{SENDER}>")
out["rcpt"] = cmd(s, "RCPT TO:<bob@example.test>")
out["data"] = cmd(s, "DATA")
s.sendall(b"Subject: over tls\r\n\r\nsecret\r\n.\r\n")
out["end"] = reply(s)
out["quit"] = cmd(s, "QUIT")
print(json.dumps(out))
"#
    );
    let out = run(&server, &script);
    let plain = lines(&out["ehlo_plain"]);
    assert!(plain.contains(&"250-STARTTLS".to_string()), "{plain:?}");
    assert!(last(&out["mail_plain"]).starts_with("250 2.1.0"));
    assert_eq!(last(&out["starttls"]), "220 2.0.0 Ready to start TLS");
    assert!(out["version"].as_str().unwrap().starts_with("TLSv1."));
    // RFC 3207 4.2: the transaction and the EHLO are forgotten.
    assert!(
        last(&out["rcpt_after"]).starts_with("503 5.5.1"),
        "{}",
        out["rcpt_after"]
    );
    assert!(
        last(&out["mail_before_ehlo"]).starts_with("503 5.5.1"),
        "{}",
        out["mail_before_ehlo"]
    );
    // Not offered, and refused, once TLS is on.
    let tls = lines(&out["ehlo_tls"]);
    assert!(
        !tls.iter().any(|l| l.ends_with("STARTTLS")),
        "STARTTLS offered under TLS: {tls:?}"
    );
    assert!(tls.iter().any(|l| l.ends_with("PIPELINING")), "{tls:?}");
    assert!(
        last(&out["starttls_again"]).starts_with("503 5.5.1"),
        "{}",
        out["starttls_again"]
    );
    assert!(last(&out["end"]).starts_with("250 2.0.0 OK: queued as "));
    assert!(last(&out["quit"]).starts_with("221 2.0.0"));
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace(SENDER, "client.example", "ESMTPS", "bob@example.test");
    assert_eq!(stored[0].body_text(), "Subject: over tls\r\n\r\nsecret\r\n");
}

#[test]
fn commands_injected_before_the_tls_handshake_are_not_executed() {
    let server = server();
    server.add_user("bob@example.test");
    // The classic attack (CVE-2011-0411): commands sent in the same packet
    // as STARTTLS must be thrown away, not run after the handshake as if
    // they had come over TLS.
    let script = format!(
        r#"
out = []
for injected in [b"RSET\r\n", b"HELP\r\n", b"EHLO evil.example\r\nMAIL FROM:<evil@attacker.test>\r\n"]:
    s = connect()
    cmd(s, "EHLO client.example")
    s.sendall(b"STARTTLS\r\n" + injected)
    starttls = reply(s)
    s = tls(s)
    unsolicited = pending(s)
    help_ = cmd(s, "HELP")
    ehlo = cmd(s, "EHLO client.example")
    rcpt = cmd(s, "RCPT TO:<bob@example.test>")
    mail = cmd(s, "MAIL FROM:<{SENDER}>")
    out.append(dict(injected=injected.decode(), starttls=starttls,
                    unsolicited=unsolicited, help=help_, rcpt=rcpt, mail=mail))
    s.close()
print(json.dumps(out))
"#
    );
    let out = run(&server, &script);
    for case in out.as_array().expect("cases") {
        let injected = case["injected"].as_str().unwrap();
        assert_eq!(
            last(&case["starttls"]),
            "220 2.0.0 Ready to start TLS",
            "{injected:?}"
        );
        assert_eq!(
            case["unsolicited"], "",
            "{injected:?} was answered after the handshake"
        );
        // The first reply over TLS answers the first command sent over TLS.
        assert!(
            last(&case["help"]).starts_with("214 "),
            "{injected:?}: {}",
            case["help"]
        );
        // An injected MAIL did not open a transaction.
        assert!(
            last(&case["rcpt"]).starts_with("503 5.5.1"),
            "{injected:?}: {}",
            case["rcpt"]
        );
        assert!(
            last(&case["mail"]).starts_with("250 2.1.0"),
            "{injected:?}: {}",
            case["mail"]
        );
    }
    assert_eq!(message_count(&server), 0);
}
