//! Submission (587 STARTTLS, 465 implicit TLS) with Python's smtplib: AUTH
//! only over TLS, senders the user owns, local delivery, and the outbound
//! filter's refusals, checked in the recipient's mailbox over IMAP.

use crate::{bob, run_python};

pub(crate) const PRELUDE: &str = r#"
import imaplib, os, smtplib, ssl, sys
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def env(name):
    return os.environ[f"MR_{name}_HOST"], int(os.environ[f"MR_{name}_PORT"])
def submission():
    s = smtplib.SMTP(*env("SUBMISSION"), local_hostname="laptop.example", timeout=20)
    s.starttls(context=CTX)
    s.ehlo("laptop.example")
    return s
def check(cond, *what):
    if not cond:
        print("FAILED:", *what)
        sys.exit(1)
def refused(call, code, text):
    try:
        call()
    except smtplib.SMTPRecipientsRefused as e:
        (got_code, got_text), = e.recipients.values()
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as e:
        got_code, got_text = e.smtp_code, e.smtp_error
    else:
        check(False, "expected a refusal with", code, text)
    got_text = got_text.decode() if isinstance(got_text, bytes) else got_text
    check(got_code == code and text in got_text, "wanted", code, text, "got", got_code, got_text)
def inbox(user):
    m = imaplib.IMAP4_SSL(*env("IMAPS"), ssl_context=CTX)
    m.login(user, os.environ["PW"])
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "ALL")
    found = []
    for n in data[0].split():
        typ, msg = m.fetch(n, "(BODY.PEEK[])")
        found.append(msg[0][1])
    m.logout()
    return found
def message(sender, to, subject, body="Here are the minutes from today's meeting.\r\n", extra=""):
    return f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}\r\n{body}"
"#;

#[test]
fn auth_only_over_tls_and_wrong_credentials_get_one_answer() {
    let server = bob();
    server.cli(&["account", "set", "bob@example.test", "--enabled", "false"]);
    server.add_user("carol@example.test");
    run_python(
        &server,
        PRELUDE,
        r#"
s = smtplib.SMTP(*env("SUBMISSION"), local_hostname="laptop.example", timeout=20)
s.ehlo()
check(s.has_extn("starttls") and not s.has_extn("auth"), "no AUTH before TLS", s.esmtp_features)
code, text = s.docmd("AUTH", "PLAIN AGNhcm9sQGV4YW1wbGUudGVzdAB4")
check(code == 538 and b"5.7.11" in text, code, text)
code, text = s.docmd("MAIL", "FROM:<carol@example.test>")
check(code == 530 and b"5.7.0 Authentication required" in text, code, text)
s.starttls(context=CTX)
s.ehlo()
check("PLAIN" in s.esmtp_features.get("auth", "") and "LOGIN" in s.esmtp_features["auth"], s.esmtp_features)
s.quit()
# smtplib tries PLAIN then LOGIN: two refusals per attempt, so each attempt
# gets its own connection (too many errors end a session).
for user, pw in [("carol@example.test", "Wrong1Password99"), ("nobody@example.test", os.environ["PW"]), ("bob@example.test", os.environ["PW"])]:
    s = submission()
    refused(lambda: s.login(user, pw), 535, "5.7.8 Authentication credentials invalid")
    s.quit()
s = submission()
code, text = s.docmd("AUTH", "CRAM-MD5")
check(code == 504, code, text)
code, text = s.docmd("AUTH", "PLAIN")
check(code == 334, code, text)
code, text = s.docmd("*")
check(code == 501, "a cancelled exchange", code, text)
code, text = s.docmd("AUTH", "LOGIN")
check(code == 334, code, text)
code, text = s.docmd("x" * 20000)
check(code == 500 and b"5.5.6" in text, "RFC 4954 4: an answer too long", code, text)
code, text = s.docmd("AUTH", "PLAIN !!!notbase64")
check(code == 501 and b"5.5.2" in text, "RFC 4954 4: not base64 is a syntax error", code, text)
s.login("carol@example.test", os.environ["PW"])
code, text = s.docmd("AUTH", "PLAIN AGNhcm9sQGV4YW1wbGUudGVzdAB4")
check(code == 503, "AUTH twice", code, text)
s.quit()

# AUTH LOGIN on the implicit-TLS port.
s = smtplib.SMTP_SSL(*env("SUBMISSIONS"), local_hostname="laptop.example", context=CTX, timeout=20)
s.ehlo()
s.user, s.password = "carol@example.test", os.environ["PW"]
code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
check(code == 235, code, text)
s.quit()
"#,
    );
}

#[test]
fn users_send_as_their_own_addresses_to_local_mailboxes() {
    let server = bob();
    server.add_user("carol@example.test");
    server
        .cli(&["alias", "add", "sales@example.test", "bob@example.test"])
        .ok();
    server
        .cli(&["alias", "add", "team@example.test", "carol@example.test"])
        .ok();
    run_python(
        &server,
        PRELUDE,
        r#"
s = submission()
s.login("bob@example.test", os.environ["PW"])
# Its own address, a +tag of it, and an alias that delivers to it.
for sender in ["bob@example.test", "bob+news@example.test", "sales@example.test"]:
    s.sendmail(sender, ["carol@example.test"], message(sender, "carol@example.test", f"from {sender}"))
# Somebody else's address, an alias of somebody else, a foreign domain.
for sender in ["carol@example.test", "team@example.test", "ceo@bank.test"]:
    refused(lambda: s.sendmail(sender, ["carol@example.test"], message(sender, "carol@example.test", "x")), 553, "Sender address not owned by user")
# The envelope is right but the From: header is not.
refused(lambda: s.sendmail("bob@example.test", ["carol@example.test"], message("carol@example.test", "carol@example.test", "spoof")), 553, "Sender address not owned by user")
# Other domains: accepted into the outbound queue.
check(s.sendmail("bob@example.test", ["friend@elsewhere.test"], message("bob@example.test", "friend@elsewhere.test", "hi")) == {}, "queued")
s.quit()

mail = inbox("carol@example.test")
check(len(mail) == 3, "three messages delivered", len(mail))
first = mail[0].decode()
check("with ESMTPSA" in first, "Received says authenticated submission", first[:400])
check("\r\nDate: " in "\r\n" + first and "Message-ID: <" in first, "Date and Message-ID added", first[:600])
check(all(b"Subject: from " in m for m in mail), mail)
"#,
    );
}

#[test]
fn blank_test_and_placeholder_messages_are_refused_with_a_reason() {
    let server = bob();
    run_python(
        &server,
        PRELUDE,
        r#"
s = submission()
s.login("bob@example.test", os.environ["PW"])
for subject, body in [("", ""), ("test", "\r\n"), ("Hello", "test"), ("Plans", "Lorem ipsum dolor sit amet")]:
    refused(lambda: s.sendmail("bob@example.test", ["bob@example.test"], message("bob@example.test", "bob@example.test", subject, body)), 550, "outbound filter")
refused(lambda: s.sendmail("bob@example.test", ["bob@example.test"], "Subject: no sender\r\n\r\nThe report is attached.\r\n"), 550, "no From: header")
# A real message with the same envelope goes through.
s.sendmail("bob@example.test", ["bob@example.test"], message("bob@example.test", "bob@example.test", "Lunch", "Shall we meet at noon?\r\n"))
s.quit()
mail = inbox("bob@example.test")
check(len(mail) == 1 and b"Shall we meet at noon?" in mail[0], mail)
"#,
    );
}

#[test]
fn sending_limits_refuse_with_the_wait_and_are_shown() {
    let server = bob();
    server.add_user("carol@example.test");
    server
        .cli(&["account", "set", "bob@example.test", "--send-local", "2/1h"])
        .ok();
    run_python(
        &server,
        PRELUDE,
        r#"
s = submission()
s.login("bob@example.test", os.environ["PW"])
for n in range(2):
    s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", f"note {n}"))
refused(lambda: s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", "one too many")), 451, "4.7.1 Sending limit reached (local mail): the next message is allowed in 1 hour")
s.quit()
check(len(inbox("carol@example.test")) == 2, "the refused message was not delivered")
"#,
    );
    let shown = server
        .cli(&["--json", "account", "show", "bob@example.test"])
        .ok()
        .json();
    let local = &shown["sending"][0];
    assert_eq!(local["class"], "local", "{shown}");
    assert_eq!(local["limit"], "2/3600s", "{shown}");
    assert_eq!(local["source"], "account", "{shown}");
    let used = local["used"].as_f64().unwrap();
    assert!((1.9..=2.0).contains(&used), "{shown}");
    assert_eq!(shown["sending"][1]["limit"], "50/216s", "{shown}");
    assert_eq!(shown["sending"][1]["source"], "default", "{shown}");

    // Global values apply to every account without its own.
    server
        .cli(&["sending-limits", "set", "--local", "100/30s"])
        .ok();
    server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--send-local",
            "default",
        ])
        .ok();
    let shown = server
        .cli(&["--json", "account", "show", "bob@example.test"])
        .ok()
        .json();
    assert_eq!(shown["sending"][0]["limit"], "100/30s", "{shown}");
    assert_eq!(shown["sending"][0]["source"], "global", "{shown}");
    let text = server.cli(&["sending-limits", "show"]).ok().stdout;
    assert!(
        text.contains("100/30s") && text.contains("global"),
        "{text}"
    );
    let bad = server.cli(&["sending-limits", "set", "--local", "lots"]);
    assert!(
        !bad.status.success() && bad.stderr.contains("expected e.g. 200/60s"),
        "{}",
        bad.stderr
    );
}

#[test]
fn one_client_address_cannot_submit_without_limit() {
    let server = bob();
    server.add_user("carol@example.test");
    server
        .cli(&["sending-limits", "set", "--per-ip", "1/1h"])
        .ok();
    let text = server.cli(&["sending-limits", "show"]).ok().stdout;
    assert!(
        text.contains("per-ip") && text.contains("1/3600s"),
        "{text}"
    );
    run_python(
        &server,
        PRELUDE,
        r#"
s = submission()
s.login("carol@example.test", os.environ["PW"])
s.sendmail("carol@example.test", ["bob@example.test"], message("carol@example.test", "bob@example.test", "first"))
s.quit()
# Another account from the same address shares the address's bucket.
s = submission()
s.login("bob@example.test", os.environ["PW"])
refused(lambda: s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", "second")), 451, "4.7.1 Too many recipients from your address 127.0.0.1: the next is allowed in 1 hour")
s.quit()
"#,
    );
}
