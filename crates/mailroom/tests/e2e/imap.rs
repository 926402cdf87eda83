//! IMAP with Python's imaplib and raw sockets: login rules, mailboxes,
//! messages delivered by SMTP, and two devices seeing each other's changes.

use mailroom_testkit::Server;

use crate::bob;

/// Python prelude: `connect()` gives a logged-in imaplib client over imaps,
/// `deliver(to, subject, body)` sends through the SMTP listener.
pub const PRELUDE: &str = r#"
import imaplib, os, re, smtplib, socket, ssl, sys, time
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
HOST = os.environ["MR_IMAPS_HOST"]
IMAPS = int(os.environ["MR_IMAPS_PORT"])
IMAP = int(os.environ["MR_IMAP_PORT"])
def connect(user="bob@example.test", password=os.environ["PW"]):
    m = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=CTX)
    m.login(user, password)
    return m
def deliver(to, subject, body="hello\r\n", sender="alice@sender.test"):
    with smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])) as s:
        s.sendmail(sender, [to], f"From: Alice <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@sender.test>\r\n\r\n{body}")
def deliver_dated(msgs):
    """Delivers (sender, subject, message-id, extra headers, day of
    January 2026) to bob, in one SMTP session."""
    with smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])) as s:
        for sender, subject, mid, refs, day in msgs:
            s.sendmail(sender, ["bob@example.test"], f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{refs}Date: 0{day} Jan 2026 10:00:00 +0000\r\n\r\nx\r\n")
def cmd(m, text):
    """Sends one raw command; returns every response line up to its
    tagged answer, literals inlined."""
    tag = m._new_tag().decode()
    m.send(f"{tag} {text}\r\n".encode())
    lines, current = [], b""
    while True:
        line = m._get_line()
        current += line
        size = re.search(rb"~?\{(\d+)\}$", line)
        if size:
            current += b"\r\n" + m.read(int(size.group(1)))
            continue
        lines.append(current)
        if current.startswith(tag.encode() + b" "):
            return [l.decode("utf-8", "replace") for l in lines]
        current = b""
def check(cond, *what):
    if not cond:
        print("FAILED:", *what)
        sys.exit(1)
"#;

pub fn run(server: &Server, script: &str) -> String {
    crate::run_python(server, PRELUDE, script)
}

#[test]
fn login_needs_tls_and_wrong_credentials_get_one_answer() {
    let server = bob();
    server.add_user("off@example.test");
    server
        .cli(&["account", "set", "off@example.test", "--enabled", "false"])
        .ok();
    run(
        &server,
        r#"
m = imaplib.IMAP4(HOST, IMAP)
check("LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities, m.capabilities)
try:
    m.login("bob@example.test", os.environ["PW"])
    check(False, "login without TLS must fail")
except imaplib.IMAP4.error as e:
    check("PRIVACYREQUIRED" in str(e), e)
m.starttls(ssl_context=CTX)
check("AUTH=PLAIN" in m.capabilities and "LOGINDISABLED" not in m.capabilities, m.capabilities)
typ, data = m.login("bob@example.test", os.environ["PW"])
check(typ == "OK", data)
m.logout()
for user, pw in [("bob@example.test", "Wrong1Password99"), ("nobody@example.test", os.environ["PW"]), ("off@example.test", os.environ["PW"])]:
    m = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=CTX)
    try:
        m.login(user, pw)
        check(False, "login must fail for", user)
    except imaplib.IMAP4.error as e:
        check("[AUTHENTICATIONFAILED] Authentication failed" in str(e), user, e)
m = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=CTX)
typ, _ = m.authenticate("PLAIN", lambda _: b"\0bob@example.test\0" + os.environ["PW"].encode())
check(typ == "OK", "AUTHENTICATE PLAIN")
"#,
    );
}

#[test]
fn mailbox_management_and_special_use() {
    let server = bob();
    run(
        &server,
        r#"
m = connect()
typ, boxes = m.list()
listing = b"\n".join(boxes).decode()
for attr, name in [("\\Sent", "Sent"), ("\\Drafts", "Drafts"), ("\\Junk", "Junk"), ("\\Trash", "Trash")]:
    check(f'{attr}) "/" "{name}"' in listing, listing)
check(m.create("Work/2026")[0] == "OK", "create with parent")
check(m.create("Work")[0] == "NO", "parent exists already")
typ, boxes = m.list('""', "Work/%")
check(boxes == [b'(\\HasNoChildren) "/" "Work/2026"'], boxes)
typ, boxes = m.list('""', "%")
check(any(b'(\\HasChildren) "/" "Work"' == b for b in boxes), boxes)
check(m.rename("Work", "Jobs")[0] == "OK", "rename")
typ, boxes = m.list('""', "Jobs*")
check(len(boxes) == 2 and b"Jobs/2026" in boxes[1], boxes)
check(m.create("Entw&APw-rfe")[0] == "OK", "utf-7 name")
typ, boxes = m.list('""', "Entw*")
check(b'"Entw&APw-rfe"' in boxes[0], boxes)
check(m.unsubscribe("Jobs")[0] == "OK", "unsubscribe")
typ, subs = m.lsub()
check(not any(b'"Jobs"' in s for s in subs), subs)
# RFC 3501 6.3.9: "%" reaches the unsubscribed parent of a subscription
# (the subscription moved with the RENAME), shown as \Noselect.
typ, subs = m.lsub('""', "%")
check(b'(\\Noselect) "/" "Jobs"' in subs, subs)
typ, subs = m.lsub('""', "Jobs/%")
check(subs == [b'(\\HasNoChildren) "/" "Jobs/2026"'], subs)
check(m.delete("Jobs/2026")[0] == "OK", "delete")
# RFC 3501 6.3.6: the subscription stays when its mailbox is deleted.
typ, subs = m.lsub('""', "Jobs/*")
check(subs == [b'(\\Noselect) "/" "Jobs/2026"'], subs)
r = cmd(m, 'LIST (SUBSCRIBED) "" "Jobs/*"')
check(r[0] == '* LIST (\\NonExistent \\Subscribed) "/" "Jobs/2026"', r)
check(m.unsubscribe("Jobs/2026")[0] == "OK", "a name without mailbox can be unsubscribed")
typ, subs = m.lsub('""', "Jobs/*")
check(subs == [None], subs)
check(m.unsubscribe("Never/There")[0] == "NO")
typ, data = m.delete("Trash")
check(typ == "NO", "special folders stay", data)
typ, data = m.select("NoSuchBox")
check(typ == "NO" and b"NONEXISTENT" in data[0], data)
typ, data = m.list('""', '""')
check(data == [b'(\\Noselect) "/" ""'], data)
"#,
    );
}

#[test]
fn delivered_mail_is_fetched_stored_searched_copied_and_moved() {
    let server = bob();
    run(
        &server,
        r#"
for i in range(1, 4):
    deliver("bob@example.test", f"hello {i}", f"body number {i}\r\n")
m = connect()
typ, data = m.select("INBOX")
check(data == [b"3"], data)
typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
# RFC 3501 2.3.2: this session is the first to see them: \\Recent.
check(len(data) == 3 and b"UID 1 FLAGS (\\Recent)" in data[0], data)
typ, data = m.fetch("2", "(ENVELOPE)")
env = data[0].decode()
check('"hello 2"' in env and '(("Alice" NIL "alice" "sender.test"))' in env and '"<hello.2@sender.test>"' in env, env)
typ, data = m.fetch("2", "(BODY.PEEK[TEXT])")
check(data[0][1] == b"body number 2\r\n", data)
typ, data = m.fetch("2", "(BODY[HEADER.FIELDS (SUBJECT)])")
check(data[0][1] == b"Subject: hello 2\r\n\r\n", data)
typ, data = m.fetch("2", "(FLAGS)")
check(b"\\Seen" in data[0], "BODY[] without PEEK sets \\Seen", data)
typ, data = m.fetch("1", "(RFC822)")
check(data[0][1].startswith(b"Return-Path: <alice@sender.test>\r\nReceived: from "), data)
typ, data = m.fetch("1", "(BODY.PEEK[]<0.11>)")
check(data[0][1] == b"Return-Path", data)
typ, data = m.search(None, "SUBJECT", '"hello 3"')
check(data == [b"3"], data)
typ, data = m.search(None, "BODY", "number")
check(data == [b"1 2 3"], data)
typ, data = m.search(None, "UNSEEN")
check(data == [b"3"], "RFC822 without PEEK set \\Seen on 1 too", data)
typ, data = m.uid("SEARCH", "FROM", "alice", "NOT", "SEEN")
check(data == [b"3"], data)
typ, data = m.store("1", "+FLAGS", "(\\Flagged $Work)")
check(b"\\Flagged" in data[0] and b"$Work" in data[0], data)
typ, data = m.search(None, "KEYWORD", "$Work")
check(data == [b"1"], data)
typ, data = m.copy("1:2", "Trash")
check(typ == "OK", data)
code = m.untagged_responses.get("COPYUID")
check(code and code[-1].endswith(b" 1:2 1:2"), m.untagged_responses)
typ, data = m.uid("MOVE", "3", "Junk")
check(typ == "OK", data)
check(m.untagged_responses.get("EXPUNGE") == [b"3"], m.untagged_responses)
typ, data = m.select("Junk")
check(data == [b"1"], data)
typ, data = m.append("Drafts", "(\\Draft)", None, b"Subject: draft\r\n\r\nwork in progress\r\n")
check(typ == "OK" and b"APPENDUID" in data[0], data)
m.select("INBOX")
m.store("1:2", "+FLAGS", "(\\Deleted)")
typ, data = m.expunge()
check(data in ([b"1", b"1"], [b"2", b"1"]), data)
typ, data = m.select("INBOX")
check(data == [b"0"], data)
typ, data = m.status("Trash", "(MESSAGES UIDNEXT UNSEEN)")
check(b"MESSAGES 2 UIDNEXT 3 UNSEEN 0" in data[0], data)
"#,
    );
    // Deleted mail leaves the quota.
    let shown = server
        .cli(&["--json", "account", "show", "bob@example.test"])
        .ok()
        .json();
    assert!(shown["used_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn examine_opens_a_mailbox_read_only() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "look only", "read me\r\n")
m = connect()
w = connect()
w.select("INBOX")
w.store("1", "+FLAGS", "(\\Flagged)")
w.logout()
lines = cmd(m, "EXAMINE INBOX")
check(lines[-1].split(" ", 2)[1:] == ["OK", "[READ-ONLY] EXAMINE completed"], lines)
check("* OK [PERMANENTFLAGS ()] Read-only mailbox" in lines, "nothing can be changed for good", lines)
check("* 1 EXISTS" in lines, lines)
lines = cmd(m, "FETCH 1 (BODY[TEXT])")
check("read me" in "".join(lines), lines)
lines = cmd(m, "FETCH 1 (FLAGS)")
check("\\Seen" not in lines[0] and "\\Flagged" in lines[0], "BODY[] sets no flag read-only", lines)
lines = cmd(m, "STORE 1 +FLAGS (\\Deleted)")
check(lines[-1].split(" ")[1] == "NO", lines)
lines = cmd(m, "EXPUNGE")
check(lines[-1].split(" ")[1] == "NO" and "[READ-ONLY]" in lines[-1], lines)
lines = cmd(m, "CLOSE")
check(lines[-1].split(" ")[1] == "OK", lines)
typ, data = m.select("INBOX")
check(data == [b"1"], "CLOSE after EXAMINE removes nothing", data)
typ, data = m.fetch("1", "(FLAGS)")
check(b"\\Seen" not in data[0], data)
"#,
    );
}

#[test]
fn rfc_corners_clients_meet() {
    let server = bob();
    run(
        &server,
        r#"
with smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])) as s:
    s.sendmail("j@sender.test", ["bob@example.test"], (
        "From: =?UTF-8?Q?J=C3=BCrgen?= <j@sender.test>\r\nTo: noDomain, <@relay.test:user@dom.test>, bob@example.test\r\n"
        "Subject: late\r\nDate: Mon, 30 Nov 2026 23:30:00 -0500\r\nMessage-ID: <late@sender.test>\r\n\r\nlate at night\r\n").encode())
deliver("bob@example.test", "second")
m = connect()
lines = cmd(m, "CHECK")
check(lines[-1].split(" ")[1] == "BAD", "CHECK needs a selected mailbox", lines)
m.select("INBOX")
lines = cmd(m, "FETCH 1 (ENVELOPE)")
env = lines[0]
check('(NIL NIL "noDomain" "MISSING_DOMAIN")' in env, "no NIL host outside a group", env)
check('(NIL "@relay.test" "user" "dom.test")' in env, "source route apart", env)
lines = cmd(m, "SEARCH CHARSET KOI9-X SUBJECT late")
check(lines[-1].split(" ", 2)[1:] and lines[-1].split(" ")[1] == "NO" and "[BADCHARSET (US-ASCII UTF-8)]" in lines[-1], lines)
typ, data = m.search("UTF-8", "FROM", '"J\u00fcrgen"'.encode())
check(data == [b"1"], "an encoded display name is searched decoded", data)
typ, data = m.search(None, "SENTON", "30-Nov-2026")
check(data == [b"1"], "the Date's own day, not UTC's", data)
typ, data = m.search(None, "SENTSINCE", "1-Dec-2026", "SUBJECT", "late")
check(data == [b""], data)
# Expunged by another session, not yet announced here: nothing to copy.
other = connect()
other.select("INBOX")
other.store("2", "+FLAGS", "(\\Deleted)")
other.expunge()
lines = cmd(m, "COPY 2 Trash")
check(lines[-1].split(" ")[1] == "NO" and "EXPUNGEISSUED" in lines[-1] and "COPYUID" not in "".join(lines), lines)
m.noop()
# RFC 3501 6.3.5: RENAME INBOX moves its mail and leaves INBOX empty,
# also for a session that has INBOX open.
typ, data = other.rename("INBOX", "Old")
check(typ == "OK", data)
m.noop()
typ, data = m.fetch("1:*", "(UID)")
check(data == [None], "INBOX is empty for the watching session", data)
typ, data = m.status("INBOX", "(MESSAGES)")
check(b"MESSAGES 0" in data[0], data)
typ, data = m.status("Old", "(MESSAGES)")
check(b"MESSAGES 1" in data[0], data)
typ, data = m.select("INBOX")
check(data == [b"0"], data)
# RFC 3501 6.3.4 and 6.3.8: a deleted parent stays a level of the
# hierarchy that cannot be selected, and % lists it.
m.create("Work/Sub/Deep")
typ, data = m.delete("Work/Sub")
check(typ == "OK", data)
typ, data = m.delete("Work")
check(typ == "OK", data)
typ, data = m.list('""', "%")
check(b'(\\Noselect \\HasChildren) "/" "Work"' in data, data)
typ, data = m.list('""', "Work/%")
check(data == [b'(\\Noselect \\HasChildren) "/" "Work/Sub"'], data)
typ, data = m.list('""', "*")
check(b'(\\HasNoChildren) "/" "Work/Sub/Deep"' in data, data)
typ, data = m.select("Work/Sub")
check(typ == "NO", data)
# RFC 7889 4: STATUS answers APPENDLIMIT, alone or with other items.
caps = cmd(m, "CAPABILITY")[0].split()
limit = next(c for c in caps if c.startswith("APPENDLIMIT=")).split("=")[1]
lines = cmd(m, "STATUS INBOX (APPENDLIMIT)")
check(lines[0] == f'* STATUS "INBOX" (APPENDLIMIT {limit})', lines)
lines = cmd(m, "STATUS Old (MESSAGES APPENDLIMIT)")
check(lines[0] == f'* STATUS "Old" (MESSAGES 1 APPENDLIMIT {limit})', lines)
# RFC 9051 6.3.2: in IMAP4rev2 a second SELECT says the first is closed;
# RFC 6855 3: after UTF8=ACCEPT, SEARCH takes no CHARSET.
r2 = connect()
check(cmd(r2, "ENABLE IMAP4rev2 UTF8=ACCEPT")[-1].split(" ")[1] == "OK")
cmd(r2, "SELECT INBOX")
check("* OK [CLOSED] Previous mailbox closed" in cmd(r2, "SELECT Old"), "CLOSED")
check(cmd(r2, "SEARCH CHARSET UTF-8 ALL")[-1].split(" ")[1] == "BAD", "CHARSET after UTF8=ACCEPT")
check(cmd(r2, "SEARCH ALL")[-1].split(" ")[1] == "OK")
r2.logout()
# RFC 7888 4: a literal too long to count ends the connection; its bytes
# are never run as commands.
raw = CTX.wrap_socket(socket.create_connection((HOST, IMAPS)))
rf = raw.makefile("rb")
rf.readline()
raw.sendall(b"x1 APPEND INBOX {99999999999+}\r\nx2 NOOP\r\n")
got = rf.read().decode()
check(got.startswith("x1 BAD") and "* BYE" in got and "x2" not in got, got)
# A synchronizing one sends nothing before our go-ahead: refused, and the
# session goes on (RFC 9051 7.5).
raw = CTX.wrap_socket(socket.create_connection((HOST, IMAPS)))
rf = raw.makefile("rb")
rf.readline()
raw.sendall(b"y1 APPEND INBOX {99999999999}\r\n")
line = rf.readline().decode()
check(line.startswith("y1 NO [TOOBIG]"), line)
raw.sendall(b"y2 NOOP\r\n")
line = rf.readline().decode()
check(line.startswith("y2 OK"), line)
raw.close()
# RFC 3501 5.1: INBOX is case-insensitive as a parent too.
typ, data = m.create("inbox/Lists")
check(typ == "OK", data)
typ, data = m.list('""', "INBOX*")
check(b'(\\HasNoChildren) "/" "INBOX/Lists"' in data and any(b"\\HasChildren" in l and l.endswith(b'"INBOX"') for l in data), data)
"#,
    );
}

#[test]
fn two_devices_see_each_others_changes_and_idle_gets_new_mail_within_a_second() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "first")
deliver("bob@example.test", "second")
phone = connect()
laptop = connect()
phone.select("INBOX")
laptop.select("INBOX")
# RFC 3501 2.3.2: \\Recent for the first session to see the mail only.
check(phone.untagged_responses.get("RECENT") == [b"2"], phone.untagged_responses)
check(laptop.untagged_responses.get("RECENT") == [b"0"], laptop.untagged_responses)
laptop.store("1", "+FLAGS", "(\\Seen)")
typ, data = phone.noop()
check(any(b"1 (UID 1 FLAGS (\\Seen \\Recent))" == r for r in phone.untagged_responses.get("FETCH", [])), phone.untagged_responses)
check(laptop.search(None, "RECENT")[1] == [b""] and laptop.search(None, "OLD")[1] == [b"1 2"])
check(phone.search(None, "NEW")[1] == [b"2"] and phone.search(None, "OLD")[1] == [b""])
laptop.store("2", "+FLAGS", "(\\Deleted)")
laptop.expunge()
phone.noop()
check(phone.untagged_responses.get("EXPUNGE") == [b"2"], phone.untagged_responses)

# IDLE on a raw TLS socket: a delivery shows up as EXISTS at once.
raw = CTX.wrap_socket(socket.create_connection((HOST, IMAPS)))
f = raw.makefile("rb")
f.readline()
raw.sendall(("a LOGIN bob@example.test " + os.environ["PW"] + "\r\n").encode())
while not f.readline().startswith(b"a OK"):
    pass
raw.sendall(b"b SELECT INBOX\r\n")
while not f.readline().startswith(b"b OK"):
    pass
raw.sendall(b"c IDLE\r\n")
check(f.readline().startswith(b"+"), "idle continuation")
sent = time.monotonic()
deliver("bob@example.test", "while idling")
raw.settimeout(5)
line = f.readline()
took = time.monotonic() - sent
check(line == b"* 2 EXISTS\r\n", line)
check(took < 1.0, "EXISTS took", took)
line = f.readline()
check(line == b"* 1 RECENT\r\n", "the idling session is the first to see it", line)
raw.sendall(b"DONE\r\n")
check(f.readline().startswith(b"c OK"), "IDLE ends with DONE")
"#,
    );
}

#[test]
fn malformed_input_gets_bad_and_the_session_survives() {
    let server = bob();
    run(
        &server,
        r#"
raw = CTX.wrap_socket(socket.create_connection((HOST, IMAPS)))
f = raw.makefile("rb")
f.readline()
def ask(line):
    raw.sendall(line)
    return f.readline()
check(ask(b"a1 FROBNICATE\r\n").startswith(b"a1 BAD"), "unknown command")
resp = ask(b"\xff\xfe\x00garbage\r\n")
check(resp.startswith(b"* BAD"), "binary garbage", resp)
resp = ask(b"a2 SELECT INBOX\r\n")
check(resp.startswith(b"a2 BAD"), "select before login", resp)
resp = ask(b"a3 APPEND INBOX {999999999}\r\n")
check(resp.startswith(b"a3 NO [TOOBIG]"), resp)
resp = ask(b"a4 NOOP\r\n")
check(resp.startswith(b"a4 OK"), "still alive", resp)
raw.sendall(b"".join(b"x%d BOGUS\r\n" % i for i in range(30)))
lines = f.read().split(b"\r\n")
check(any(l.startswith(b"* BYE") for l in lines), "too many bad commands end the session", lines[-3:])
"#,
    );
}

#[test]
fn condstore_and_qresync_resynchronise_a_client() {
    let server = bob();
    run(
        &server,
        r#"
for i in range(1, 4):
    deliver("bob@example.test", f"m{i}")
s = CTX.wrap_socket(socket.create_connection((HOST, IMAPS)))
f = s.makefile("rb")
f.readline()
def cmd(line):
    s.sendall(line.encode() + b"\r\n")
    tag = line.split()[0].encode()
    out = []
    while True:
        l = f.readline().decode().rstrip()
        out.append(l)
        if l.startswith(tag.decode() + " "):
            return out
cmd("a LOGIN bob@example.test " + os.environ["PW"])
check(cmd("b ENABLE QRESYNC")[0] == "* ENABLED QRESYNC", "enable")
out = cmd("c SELECT INBOX (CONDSTORE)")
validity = next(l for l in out if "UIDVALIDITY" in l).split()[3].rstrip("]")
check("* OK [HIGHESTMODSEQ 4] Highest" in out, out)
out = cmd("d STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)")
check(out[-1] == "d OK [MODIFIED 2] Conditional STORE failed for some messages", out)
out = cmd("e STORE 1 +FLAGS (\\Seen)")
check(out[0] == "* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (5))", out)
out = cmd("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4)")
check(out[:-1] == ["* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ (5))"], out)
out = cmd("g SEARCH MODSEQ 5")
check(out[0] == "* SEARCH 1 (MODSEQ 5)", out)
cmd("h STORE 3 +FLAGS.SILENT (\\Deleted)")
out = cmd("i EXPUNGE")
check(out[0] == "* VANISHED 3", "QRESYNC clients get VANISHED", out)
# RFC 7162 3.2.10: and the new HIGHESTMODSEQ with the tagged OK.
check(re.match(r"i OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed", out[-1]), out)
out = cmd("j UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4 VANISHED)")
check(out[0] == "* VANISHED (EARLIER) 3", out)
# A client that last saw MODSEQ 4 comes back.
out = cmd(f"k SELECT INBOX (QRESYNC ({validity} 4))")
check(out[0] == "* OK [CLOSED] Previous mailbox closed", out)
check("* VANISHED (EARLIER) 3" in out, out)
check("* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (5))" in out, out)
check(not any("UID 2 " in l for l in out), "unchanged messages are not repeated", out)
# RFC 7162 3.2.4: \Seen set by reading comes with its MODSEQ.
s.sendall(b"l FETCH 2 (BODY[TEXT])\r\n")
whole = ""
while not whole.splitlines()[-1:] or not whole.splitlines()[-1].startswith("l "):
    whole += f.readline().decode(errors="replace")
check("MODSEQ (" in whole and "\\Seen" in whole, whole)
"#,
    );
}

#[test]
fn quota_is_reported_and_enforced_on_append() {
    let server = bob();
    server
        .cli(&["account", "set", "bob@example.test", "--quota", "64KiB"])
        .ok();
    run(
        &server,
        r#"
deliver("bob@example.test", "small", ("x" * 99 + "\r\n") * 10)
m = connect()
caps = m.capability()[1][0].decode().split()
check("QUOTA" in caps and any(c.startswith("APPENDLIMIT=") for c in caps), caps)
typ, data = m.getquotaroot("INBOX")
check(typ == "OK", data)
check(data[0] == [b'"INBOX" ""'] and data[1][0].startswith(b'"" (STORAGE 2 64)'), data)
typ, data = m.append("INBOX", None, None, b"Subject: big\r\n\r\n" + (b"y" * 98 + b"\r\n") * 700)
check(typ == "NO" and b"[OVERQUOTA]" in data[0], data)
typ, data = m.status("INBOX", "(MESSAGES SIZE)")
check(b"MESSAGES 1 SIZE" in data[0], data)
"#,
    );
}

#[test]
fn sort_and_thread_follow_rfc5256() {
    let server = bob();
    run(
        &server,
        r#"
msgs = [
    ("zed@x.test", "plan", "<a@x>", "", 1),
    ("amy@x.test", "Re: plan", "<b@x>", "References: <a@x>\r\n", 2),
    ("bob@x.test", "other", "<c@x>", "", 3),
    ("cat@x.test", "Re: plan", "<d@x>", "References: <a@x> <b@x>\r\n", 4),
    ("dan@x.test", "Fwd: plan", "<e@x>", "In-Reply-To: <a@x>\r\n", 5),
]
deliver_dated(msgs)
m = connect()
caps = m.capability()[1][0].decode().split()
check("SORT" in caps and "THREAD=REFERENCES" in caps, caps)
m.select("INBOX")
typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
check(data == [b"3 1 2 4 5"], data)
typ, data = m.sort("(FROM)", "UTF-8", "ALL")
check(data == [b"2 3 4 5 1"], data)
typ, data = m.sort("(REVERSE DATE)", "UTF-8", "NOT", "FROM", "bob")
check(data == [b"5 4 2 1"], data)
typ, data = m.uid("SORT", "(SIZE)", "UTF-8", "ALL")
check(typ == "OK" and len(data[0].split()) == 5, data)
typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
check(data == [b"(1 (2)(4)(5))(3)"], data)
typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
check(data == [b"(1 (2 4)(5))(3)"], data)
"#,
    );
}

#[test]
fn thread_references_joins_threads_of_one_subject() {
    let server = bob();
    run(
        &server,
        r#"
# No References at all: RFC 5256 4 step 5 joins threads by base subject. A
# reply goes under the original; two originals go under a dummy, which
# shows as a parenthesis of its own; a dummy stands for a message we lack.
msgs = [
    ("ann@x.test", "other", "<o@x>", "", 1),
    ("ben@x.test", "Re: other", "<r@x>", "", 2),
    ("cy@x.test", "news", "<n1@x>", "", 3),
    ("di@x.test", "news", "<n2@x>", "", 4),
    ("ed@x.test", "Re: lost", "<l1@x>", "In-Reply-To: <gone@x>\r\n", 5),
    ("fay@x.test", "Re: lost", "<l2@x>", "In-Reply-To: <gone@x>\r\n", 6),
    ("gus@x.test", "lost", "<l0@x>", "", 7),
    ("hal@x.test", "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "<u@x>", "", 8),
    ("ivy@x.test", "=?utf-8?q?=C3=A9clair?=", "<e1@x>", "", 9),
]
deliver_dated(msgs)
m = connect()
m.select("INBOX")
typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
check(data == [b"(1 2)((3)(4))((5)(6)(7))(8)(9)"], data)
# RFC 5256 3: octets compared with only ASCII letters folded
# (i;ascii-casemap): "GRüßE" before "LOST", and "éCLAIR" (C3 A9) after
# every ASCII subject.
typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
check(data == [b"8 5 6 7 3 4 1 2 9"], "subjects outside ASCII sort by octets", data)
"#,
    );
}

#[test]
fn a_mailbox_deleted_under_another_session_ends_that_session() {
    let server = bob();
    run(
        &server,
        r#"
a = connect()
b = connect()
c = connect()
for name in ("Old", "Older"):
    check(a.create(name)[0] == "OK")
    check(a.append(name, None, None, b"Subject: x\r\n\r\nx\r\n")[0] == "OK")
b.select("Old")
c.select("Older")
# c waits in IDLE; b's next command finds the mailbox gone.
tag = c._new_tag().decode()
c.send(f"{tag} IDLE\r\n".encode())
check(c._get_line().startswith(b"+"))
check(a.delete("Old")[0] == "OK" and a.delete("Older")[0] == "OK")
try:
    b.noop()
    check(False, "b's session should have ended")
except imaplib.IMAP4.abort as e:
    check("deleted" in str(e), e)
line = c._get_line()
check(line.startswith(b"* BYE") and b"deleted" in line, line)
# Deleting one's own selected mailbox just leaves the selected state.
check(a.create("Mine")[0] == "OK")
a.select("Mine")
check(a.delete("Mine")[0] == "OK")
check(a.noop()[0] == "OK")
"#,
    );
}

#[test]
fn recent_goes_to_the_first_session_that_selects() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "one")
deliver("bob@example.test", "two")
a = connect()
check(a.status("INBOX", "(RECENT)")[1] == [b'"INBOX" (RECENT 2)'], "STATUS counts without taking")
typ, data = a.select("INBOX", readonly=True)
check(a.untagged_responses.get("RECENT") == [b"2"], "EXAMINE shows them", a.untagged_responses)
a.close()
b = connect()
b.select("INBOX")
check(b.untagged_responses.get("RECENT") == [b"2"], "EXAMINE left them for SELECT", b.untagged_responses)
check(a.status("INBOX", "(RECENT)")[1] == [b'"INBOX" (RECENT 0)'])
c = connect()
c.select("INBOX")
check(c.untagged_responses.get("RECENT") == [b"0"], c.untagged_responses)
check(b"\\Recent" not in c.fetch("1", "(FLAGS)")[1][0])
check(b"\\Recent" in b.fetch("1", "(FLAGS)")[1][0])
# The flag is the server's: a client cannot set or clear it.
r = cmd(b, "STORE 1 -FLAGS (\\Recent)")
check(r[-1].split()[1] in ("BAD", "NO"), r)
check(b"\\Recent" in b.fetch("1", "(FLAGS)")[1][0], "still recent")
"#,
    );
}

#[test]
fn a_watching_session_sees_every_message_of_a_concurrent_burst() {
    let server = bob();
    run(
        &server,
        r#"
import threading
# Deliveries commit in UID order but are announced by separate tasks; a
# session must still learn of every message (RFC 3501 5.2, 2.3.1.1).
watcher = connect()
watcher.select("INBOX")
def writer(n):
    c = connect()
    for i in range(40):
        c.append("INBOX", None, None, f"Subject: burst {n}-{i}\r\n\r\nx\r\n".encode())
    c.logout()
threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
for t in threads:
    t.start()
seen = 0
while any(t.is_alive() for t in threads):
    watcher.noop()
    for n in watcher.untagged_responses.pop("EXISTS", []):
        seen = max(seen, int(n))
for t in threads:
    t.join()
deadline = time.monotonic() + 10
while seen < 200 and time.monotonic() < deadline:
    watcher.noop()
    for n in watcher.untagged_responses.pop("EXISTS", []):
        seen = max(seen, int(n))
check(seen == 200, "the watcher saw", seen)
typ, data = watcher.uid("SEARCH", None, "ALL")
uids = [int(u) for u in data[0].split()]
check(uids == sorted(uids) and len(uids) == 200, len(uids))
"#,
    );
}

#[test]
fn one_account_cannot_take_every_connection() {
    let server = bob();
    run(
        &server,
        r#"
sessions = [connect() for _ in range(50)]
extra = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=CTX)
try:
    extra.login("bob@example.test", os.environ["PW"])
    check(False, "the 51st session of one account is refused")
except imaplib.IMAP4.error as e:
    check("[LIMIT]" in str(e), e)
sessions.pop().logout()
time.sleep(0.2)
check(connect().noop()[0] == "OK", "a slot freed by LOGOUT can be used")
"#,
    );
}
