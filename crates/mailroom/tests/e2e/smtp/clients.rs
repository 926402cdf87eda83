//! Real clients: Python's smtplib and swaks, and what their mail looks
//! like in the store.

use std::process::Command;

use mailroom_testkit::Server;

use super::{HOST, SENDER, inbox, used_bytes};
use crate::server;

const SMTPLIB: &str = r#"
import json, os, smtplib, ssl
HOST, PORT = os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])
def client():
    return smtplib.SMTP(HOST, PORT, local_hostname="client.example", timeout=20)
"#;

fn python(server: &Server, script: &str) -> serde_json::Value {
    let out = server.python(&format!("{SMTPLIB}\n{script}"));
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout))
}

#[test]
fn smtplib_sees_every_extension() {
    let server = server();
    let out = python(
        &server,
        r#"
s = client()
code, text = s.ehlo()
print(json.dumps({"code": code, "text": text.decode(), "features": s.esmtp_features}))
s.quit()
"#,
    );
    assert_eq!(out["code"], 250);
    assert!(
        out["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{HOST} Hello client.example [127.0.0.1]")),
        "{}",
        out["text"]
    );
    let features = &out["features"];
    assert_eq!(features["size"], "52428800", "{features}");
    for keyword in [
        "pipelining",
        "8bitmime",
        "smtputf8",
        "enhancedstatuscodes",
        "chunking",
        "starttls",
    ] {
        assert!(features.get(keyword).is_some(), "{keyword}: {features}");
    }
}

#[test]
fn smtplib_sendmail_to_one_and_several_recipients() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    let out = python(
        &server,
        &format!(
            r#"
s = client()
refused = []
batches = [["bob@example.test"], ["bob@example.test", "carol@example.test"],
           ["Bob@Example.TEST"], ["bob@example.test", "nobody@example.test"]]
for i, rcpts in enumerate(batches, 1):
    msg = ("From: <{SENDER}>\r\nTo: " + ", ".join(rcpts) + "\r\n"
           + f"Subject: message {{i}}\r\n\r\nBody {{i}}\r\n")
    bad = s.sendmail("{SENDER}", rcpts, msg)
    refused.append({{k: [c, t.decode()] for k, (c, t) in bad.items()}})
try:
    s.sendmail("{SENDER}", ["nobody@example.test"], "Subject: lost\r\n\r\nx\r\n")
    all_refused = None
except smtplib.SMTPRecipientsRefused as e:
    all_refused = {{k: [c, t.decode()] for k, (c, t) in e.recipients.items()}}
s.quit()
print(json.dumps({{"refused": refused, "all_refused": all_refused}}))
"#
        ),
    );
    // The client reports the refused recipient with the product's text.
    let unknown = serde_json::json!([
        550,
        "5.1.1 <nobody@example.test>: Recipient address rejected: undeliverable address (User doesn't exist)"
    ]);
    assert_eq!(
        out["refused"],
        serde_json::json!([{}, {}, {}, {"nobody@example.test": unknown}])
    );
    assert_eq!(
        out["all_refused"],
        serde_json::json!({"nobody@example.test": unknown})
    );

    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 4);
    for (i, stored) in bob.iter().enumerate() {
        let n = i + 1;
        assert_eq!(stored.uid as usize, n, "UIDs in delivery order");
        let text = stored.body_text();
        assert!(
            text.contains(&format!("Subject: message {n}\r\n")),
            "{text}"
        );
        assert!(text.ends_with(&format!("\r\n\r\nBody {n}\r\n")), "{text}");
        stored.assert_trace(SENDER, "client.example", "ESMTP", "bob@example.test");
    }
    assert!(bob.windows(2).all(|w| w[0].modseq < w[1].modseq));
    let carol = inbox(&server, "carol@example.test");
    assert_eq!(carol.len(), 1);
    assert_eq!(carol[0].uid, 1);
    assert!(carol[0].body_text().contains("Subject: message 2\r\n"));
    carol[0].assert_trace(SENDER, "client.example", "ESMTP", "carol@example.test");
    // One body for both copies; each has its own trace headers.
    assert_eq!(carol[0].blob_id, bob[1].blob_id);
    assert_ne!(carol[0].prefix, bob[1].prefix);
    // Usage counts what each account holds.
    let held: u64 = bob.iter().map(|m| m.size).sum();
    assert_eq!(used_bytes(&server, "bob@example.test"), held);
    assert_eq!(used_bytes(&server, "carol@example.test"), carol[0].size);
}

#[test]
fn smtplib_send_message_with_utf8_headers_uses_smtputf8() {
    let server = server();
    server.add_user("bob@example.test");
    let out = python(
        &server,
        r#"
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Jörg <jörg@sender.test>"
m["To"] = "bob@example.test"
m["Subject"] = "Grüße aus Köln ✓"
m.set_content("Hallo Bob,\nÜmlaute und ✓ bleiben erhalten.\n")
s = client()
refused = s.send_message(m)
s.quit()
print(json.dumps({"refused": refused}))
"#,
    );
    assert_eq!(out["refused"], serde_json::json!({}));
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 1);
    // The UTF-8 reverse-path is kept in Return-Path. (The "with" keyword
    // is not pinned here: RFC 6531 registers UTF8SMTP for such sessions.)
    let prefix = &bob[0].prefix;
    let after = super::trace_start(prefix, "jörg@sender.test", "client.example");
    assert!(
        after.starts_with(&format!("\r\n\tby {HOST} (mailroom) with ")),
        "{prefix:?}"
    );
    assert!(
        prefix.contains("\r\n\tfor <bob@example.test>; "),
        "{prefix:?}"
    );
    // 8-bit UTF-8 kept as sent, not re-encoded.
    let text = std::str::from_utf8(&bob[0].body).expect("UTF-8 as sent");
    assert!(text.contains("Subject: Grüße aus Köln ✓\r\n"), "{text}");
    assert!(text.contains("From: Jörg <jörg@sender.test>\r\n"), "{text}");
    assert!(
        text.contains("Ümlaute und ✓ bleiben erhalten.\r\n"),
        "{text}"
    );
}

#[test]
fn smtplib_8bitmime_body_is_stored_byte_for_byte() {
    let server = server();
    server.add_user("bob@example.test");
    python(
        &server,
        &format!(
            r#"
body = (b"Subject: latin-1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me br\xfbl\xe9e\r\n\xff\x80\r\n")
s = client()
s.sendmail("{SENDER}", ["bob@example.test"], body, mail_options=["BODY=8BITMIME"])
s.quit()
print("{{}}")
"#
        ),
    );
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 1);
    assert_eq!(
        bob[0].body,
        b"Subject: latin-1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
          Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me br\xfbl\xe9e\r\n\xff\x80\r\n"
    );
}

#[test]
fn smtplib_starttls_then_sendmail() {
    let server = server();
    server.add_user("bob@example.test");
    let out = python(
        &server,
        &format!(
            r#"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = client()
s.ehlo()
code, _ = s.starttls(context=ctx)
s.ehlo()
features = s.esmtp_features
s.sendmail("{SENDER}", ["bob@example.test"], "Subject: smtplib tls\r\n\r\nencrypted\r\n")
s.quit()
print(json.dumps({{"code": code, "features": features}}))
"#
        ),
    );
    assert_eq!(out["code"], 220);
    assert!(
        out["features"].get("starttls").is_none(),
        "{}",
        out["features"]
    );
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 1);
    bob[0].assert_trace(SENDER, "client.example", "ESMTPS", "bob@example.test");
}

/// Runs swaks against the smtp listener: (success, transcript).
fn swaks(server: &Server, extra: &[&str]) -> (bool, String) {
    let addr = server.addr("smtp");
    let out = Command::new("swaks")
        .args([
            "--server",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
            "--helo",
            "client.example",
            "--from",
            SENDER,
            "--timeout",
            "20",
        ])
        .args(extra)
        .output()
        .expect("run swaks (scripts/install-test-deps installs it)");
    let transcript = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), transcript)
}

#[test]
fn swaks_delivers_to_several_recipients() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    let (ok, transcript) = swaks(
        &server,
        &[
            "--to",
            "bob@example.test,carol@example.test",
            "--header",
            "Subject: swaks plain",
            "--body",
            "Hello from swaks",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 OK: queued as "),
        "{transcript}"
    );
    for user in ["bob@example.test", "carol@example.test"] {
        let stored = inbox(&server, user);
        assert_eq!(stored.len(), 1, "{user}");
        stored[0].assert_trace(SENDER, "client.example", "ESMTP", user);
        let text = stored[0].body_text();
        assert!(text.contains("Subject: swaks plain\r\n"), "{text}");
        assert!(text.contains("Hello from swaks"), "{text}");
    }
}

#[test]
fn swaks_delivers_over_starttls() {
    let server = server();
    server.add_user("bob@example.test");
    let (ok, transcript) = swaks(
        &server,
        &[
            "-tls",
            "--to",
            "bob@example.test",
            "--header",
            "Subject: swaks tls",
            "--body",
            "Hello over TLS",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(transcript.contains("TLS started"), "{transcript}");
    // "<~" marks what was read over TLS.
    assert!(
        transcript.contains("<~  250 2.0.0 OK: queued as "),
        "{transcript}"
    );
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace(SENDER, "client.example", "ESMTPS", "bob@example.test");
    assert!(stored[0].body_text().contains("Hello over TLS"));
}

#[test]
fn swaks_pipelining_delivers() {
    let server = server();
    server.add_user("bob@example.test");
    let (ok, transcript) = swaks(
        &server,
        &[
            "--pipeline",
            "--to",
            "bob@example.test",
            "--header",
            "Subject: swaks pipelined",
        ],
    );
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("250 2.0.0 OK: queued as "),
        "{transcript}"
    );
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
}

#[test]
fn swaks_shows_the_refusal_text_for_an_unknown_recipient() {
    let server = server();
    server.add_user("bob@example.test");
    let (ok, transcript) = swaks(&server, &["--to", "nobody@example.test"]);
    assert!(!ok, "{transcript}");
    assert!(
        transcript.contains(
            "<** 550 5.1.1 <nobody@example.test>: Recipient address rejected: undeliverable address (User doesn't exist)"
        ),
        "{transcript}"
    );
    let (ok, transcript) = swaks(&server, &["--to", "someone@elsewhere.test"]);
    assert!(!ok, "{transcript}");
    assert!(
        transcript.contains("<** 554 5.7.1 <someone@elsewhere.test>: Relay access denied"),
        "{transcript}"
    );
    assert!(inbox(&server, "bob@example.test").is_empty());
}
