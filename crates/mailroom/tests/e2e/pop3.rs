//! POP3 with Python's poplib and fetchmail: downloading, deleting into
//! Trash (visible to IMAP), stable UIDLs, the maildrop lock, bad input.

use std::process::Command;

use mailroom_testkit::{PASSWORD, Server};

use crate::bob;

const PRELUDE: &str = r#"
import imaplib, os, poplib, smtplib, socket, ssl, sys, time
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
HOST = os.environ["MR_POP3S_HOST"]
POP3S = int(os.environ["MR_POP3S_PORT"])
POP3 = int(os.environ["MR_POP3_PORT"])
PW = os.environ["PW"]
def pop(user="bob@example.test"):
    p = poplib.POP3_SSL(HOST, POP3S, context=CTX)
    p.user(user)
    p.pass_(PW)
    return p
def imap():
    m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=CTX)
    m.login("bob@example.test", PW)
    return m
def deliver(to, subject, body="hello\r\n"):
    with smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])) as s:
        s.sendmail("alice@sender.test", [to], f"Subject: {subject}\r\n\r\n{body}")
def check(cond, *what):
    if not cond:
        print("FAILED:", *what)
        sys.exit(1)
"#;

fn run(server: &Server, script: &str) -> String {
    crate::run_python(server, PRELUDE, script)
}

#[test]
fn download_and_delete_moves_to_trash_where_imap_sees_it() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "one", "first body\r\n.dotted line\r\n")
deliver("bob@example.test", "two")
p = pop()
count, size = p.stat()
check(count == 2 and size > 0, count, size)
resp, listing, _ = p.list()
check(len(listing) == 2, listing)
resp, uidls, _ = p.uidl()
check(uidls == [b"1 1", b"2 2"], "UIDL is the IMAP UID", uidls)
resp, lines, _ = p.retr(1)
check(b"Subject: one" in lines and b".dotted line" in lines, lines)
resp, lines, _ = p.top(2, 0)
check(lines[-1] == b"" and b"Subject: two" in lines, lines)
check(p.dele(1).startswith(b"+OK"), "dele")
try:
    p.retr(1)
    check(False, "a deleted message cannot be read")
except poplib.error_proto as e:
    check(b"No such message" in e.args[0], e)
p.quit()

m = imap()
m.select("INBOX", readonly=True)
typ, data = m.uid("SEARCH", "ALL")
check(data == [b"2"], "one message left in INBOX", data)
typ, data = m.select("Trash", readonly=True)
check(data == [b"1"], "the POP3-deleted message is in Trash", data)
typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(b"\\Seen" in data[0][0] and b"Subject: one" in data[0][1], data)

p = pop()
resp, uidls, _ = p.uidl()
check(uidls == [b"1 2"], "UIDLs are stable across sessions", uidls)
p.quit()
"#,
    );
    let shown = server
        .cli(&["account", "show", "bob@example.test"])
        .ok()
        .stdout;
    assert!(shown.contains("pop3 last used"), "{shown}");
    assert!(shown.contains("from 127.0.0.1"), "{shown}");
}

#[test]
fn pop3_delete_modes_and_rset_and_dropped_connections() {
    let server = bob();
    server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--pop3-delete",
            "keep",
        ])
        .ok();
    run(
        &server,
        r#"
deliver("bob@example.test", "kept")
p = pop()
p.dele(1)
p.quit()
p = pop()
check(p.stat()[0] == 1, "keep leaves the message")
p.dele(1)
p.rset()
check(p.stat()[0] == 1, "RSET undoes DELE")
p.dele(1)
p.file.close(); p.sock.close()  # no QUIT: nothing is deleted (RFC 1939 6)
time.sleep(0.3)
p = pop()
check(p.stat()[0] == 1, "a dropped session deletes nothing")
p.quit()
"#,
    );
    server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--pop3-delete",
            "expunge",
        ])
        .ok();
    run(
        &server,
        r#"
p = pop()
p.dele(1)
# A logged-in client's errors ("no such message") do not end the session
# before the QUIT that applies its deletions (RFC 1939 6).
for _ in range(15):
    try:
        p.list(99)
        check(False, "message 99 does not exist")
    except poplib.error_proto:
        pass
p.quit()
m = imap()
check(m.select("INBOX")[1] == [b"0"], "expunged")
check(m.select("Trash")[1] == [b"0"], "not in Trash either")
"#,
    );
    let err = server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--pop3-delete",
            "shred",
        ])
        .fails();
    assert!(err.contains("expected trash, expunge or keep"), "{err}");
}

#[test]
fn login_rules_lock_and_malformed_input() {
    let server = bob();
    run(
        &server,
        r#"
plain = poplib.POP3(HOST, POP3)
caps = plain.capa()
check("STLS" in caps and "USER" not in caps, caps)
try:
    plain.user("bob@example.test")
    check(False, "USER before TLS must be refused")
except poplib.error_proto as e:
    check(b"TLS" in e.args[0], e)
plain.stls(context=CTX)
check("USER" in plain.capa(), "USER after STLS")
plain.user("bob@example.test")
plain.pass_(PW)
plain.quit()

p = poplib.POP3_SSL(HOST, POP3S, context=CTX)
p.user("bob@example.test")
try:
    p.pass_("Wrong1Password99")
    check(False, "wrong password")
except poplib.error_proto as e:
    check(e.args[0] == b"-ERR [AUTH] Authentication failed", e)

first = pop()
second = poplib.POP3_SSL(HOST, POP3S, context=CTX)
second.user("bob@example.test")
try:
    second.pass_(PW)
    check(False, "the maildrop is locked")
except poplib.error_proto as e:
    check(e.args[0].startswith(b"-ERR [IN-USE]"), e)
first.quit()
check(pop().stat()[0] == 0, "lock released after QUIT")

raw = CTX.wrap_socket(socket.create_connection((HOST, POP3S)))
f = raw.makefile("rb")
f.readline()
raw.sendall(b"\xff\xfe garbage\r\n")
check(f.readline().startswith(b"-ERR"), "garbage")
raw.sendall(b"A" * 5000 + b"\r\n")
check(f.readline().startswith(b"-ERR Line too long"), "long line")
# AUTH alone lists the mechanisms (what CAPA's SASL line says).
raw.sendall(b"AUTH\r\n")
check([f.readline() for _ in range(3)] == [b"+OK Mechanisms follow\r\n", b"PLAIN\r\n", b".\r\n"], "AUTH alone")
raw.sendall(b"STAT now\r\n")
check(f.readline().startswith(b"-ERR Too many arguments"), "RFC 1939 3: arguments a command does not take")
raw.sendall(b"AUTH PLAIN " + __import__("base64").b64encode(b"\0bob@example.test\0" + PW.encode()) + b"\r\n")
check(f.readline().startswith(b"+OK"), "AUTH PLAIN")
raw.sendall(b"STAT\r\nNOOP\r\nQUIT\r\n")
check([f.readline()[:3] for _ in range(3)] == [b"+OK"] * 3, "pipelined commands")
"#,
    );
}

#[test]
fn fetchmail_downloads_everything() {
    let server = bob();
    run(
        &server,
        r#"
for i in range(5):
    deliver("bob@example.test", f"fetch {i}")
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("mbox");
    let rc = dir.path().join("fetchmailrc");
    let addr = server.addr("pop3s");
    std::fs::write(
        &rc,
        format!(
            "poll {} service {} protocol POP3 uidl\n  user \"bob@example.test\" password \"{PASSWORD}\"\n  ssl no sslcertck\n  mda \"cat >> {}\"\n",
            addr.ip(),
            addr.port(),
            out_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let status = Command::new("fetchmail")
        .args(["--fetchmailrc"])
        .arg(&rc)
        .args(["--nodetach", "--all", "--nokeep", "--idfile"])
        .arg(dir.path().join("ids"))
        .env("HOME", dir.path())
        .env("FETCHMAILHOME", dir.path())
        .output()
        .expect("run fetchmail (installed by scripts/install-test-deps)");
    let text = String::from_utf8_lossy(&status.stderr);
    assert!(status.status.success(), "fetchmail failed: {text}");
    let mbox = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(mbox.matches("Subject: fetch ").count(), 5, "{mbox}");
    // fetchmail deleted them: they are in Trash, not lost.
    run(
        &server,
        r#"
m = imap()
check(m.select("INBOX")[1] == [b"0"], "INBOX emptied by fetchmail")
check(m.select("Trash")[1] == [b"5"], "recoverable in Trash")
"#,
    );
}
