//! IMAP extensions whose syntax goes beyond RFC 3501: LIST-EXTENDED with
//! LIST-STATUS, CREATE-SPECIAL-USE, ESEARCH, BINARY and IMAP4rev2.

use crate::bob;
use crate::imap::run;

#[test]
fn create_special_use_and_extended_list() {
    let server = bob();
    run(
        &server,
        r#"
m = connect()
caps = cmd(m, "CAPABILITY")[0]
for cap in ["IMAP4rev2", "LIST-EXTENDED", "LIST-STATUS", "CREATE-SPECIAL-USE", "ESEARCH", "BINARY"]:
    check(cap in caps.split(), cap, caps)

# CREATE-SPECIAL-USE (RFC 6154 3)
r = cmd(m, 'CREATE "Old mail" (USE (\\Archive))')
check(r[-1].split()[1] == "OK", r)
r = cmd(m, 'LIST "" "Old mail"')
check('\\Archive' in r[0], r)
r = cmd(m, 'CREATE Second (USE (\\Archive))')
check("NO [USEATTR]" in r[-1], r)
r = cmd(m, 'CREATE Everything (USE (\\All))')
check("NO [USEATTR]" in r[-1], r)
r = cmd(m, 'CREATE Odd (COLOR red)')
check(" BAD " in r[-1], r)
r = cmd(m, 'LIST "" Everything')
check(len(r) == 1, "a refused CREATE creates nothing", r)

# Selection options (RFC 5258): SUBSCRIBED with RECURSIVEMATCH, SPECIAL-USE.
check(m.create("Work/2026")[0] == "OK")
check(m.unsubscribe("Work")[0] == "OK" and m.unsubscribe("Junk")[0] == "OK")
r = cmd(m, 'LIST (SUBSCRIBED) "" "*"')
names = [l.split(' "/" ')[-1].strip('"') for l in r[:-1]]
check("Junk" not in names and "Work" not in names and "Work/2026" in names and "INBOX" in names, r)
check(all("\\Subscribed" in l for l in r[:-1]), r)
r = cmd(m, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
work = [l for l in r if l.endswith('"Work" ("CHILDINFO" ("SUBSCRIBED"))')]
check(len(work) == 1 and "\\Subscribed" not in work[0], r)
r = cmd(m, 'LIST (SPECIAL-USE) "" "*"')
listed = sorted(l.split(' "/" ')[-1].strip('"') for l in r[:-1])
check(listed == ["Drafts", "Junk", "Old mail", "Sent", "Trash"], listed)
r = cmd(m, 'LIST (RECURSIVEMATCH) "" "*"')
check(" BAD " in r[-1], r)

# Several patterns and RETURN (SUBSCRIBED STATUS (...)) (RFC 5819).
deliver("bob@example.test", "one")
deliver("bob@example.test", "two")
r = cmd(m, 'LIST "" (INBOX "Junk") RETURN (SUBSCRIBED STATUS (MESSAGES UNSEEN UIDNEXT))')
check(len(r) == 5, r)
check(r[0].startswith("* LIST (") and r[0].endswith('"INBOX"') and "\\Subscribed" in r[0], r)
check(r[1] == '* STATUS "INBOX" (MESSAGES 2 UNSEEN 2 UIDNEXT 3)', r)
check(r[2].endswith('"Junk"') and "\\Subscribed" not in r[2], r)
check(r[3] == '* STATUS "Junk" (MESSAGES 0 UNSEEN 0 UIDNEXT 1)', r)
r = cmd(m, 'STATUS INBOX (DELETED SIZE)')
check(re.match(r'\* STATUS "INBOX" \(DELETED 0 SIZE \d+\)', r[0]), r)
"#,
    );
}

#[test]
fn esearch_returns_min_max_count_and_all() {
    let server = bob();
    run(
        &server,
        r#"
for i in range(1, 6):
    deliver("bob@example.test", f"note {i}", body=("urgent\r\n" if i % 2 else "calm\r\n"))
m = connect()
m.select("INBOX")
m.store("2", "+FLAGS", "\\Seen")
r = cmd(m, "SEARCH RETURN (MIN MAX COUNT) BODY urgent")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) MIN 1 MAX 5 COUNT 3$', r[0]), r)
r = cmd(m, "UID SEARCH RETURN () UNSEEN")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) UID ALL 1,3:5$', r[0]), r)
r = cmd(m, "SEARCH RETURN (COUNT ALL) SUBJECT nothing-like-this")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) COUNT 0$', r[0]), r)
r = cmd(m, "SEARCH UNSEEN")
check(r[0] == "* SEARCH 1 3 4 5", "plain SEARCH keeps its RFC 3501 answer", r)
# Twelve terms ORed one inside the next, as clients write a long "any of":
# deeper than the parser takes, so the server rewrites it shallow.
chain = "".join(f'OR SUBJECT "nothing {i}" ' for i in range(10)) + 'OR SUBJECT "note 2" SUBJECT "note 4"'
r = cmd(m, "SEARCH " + chain)
check(r[0] == "* SEARCH 2 4", r)
r = cmd(m, f"UID SEARCH RETURN (COUNT) UNSEEN ({chain})")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) UID COUNT 1$', r[0]), r)
r = cmd(m, "SEARCH NOT (" + chain + ")")
check(r[0] == "* SEARCH 1 3 5", r)
"#,
    );
}

#[test]
fn searchres_saves_a_result_for_later_commands() {
    let server = bob();
    run(
        &server,
        r#"
for i in range(1, 7):
    deliver("bob@example.test", f"note {i}", body=("urgent\r\n" if i % 2 else "calm\r\n"))
m = connect()
check("SEARCHRES" in cmd(m, "CAPABILITY")[0])
m.select("INBOX")
# RFC 5182: SAVE alone answers with no ESEARCH; $ is then the messages found.
r = cmd(m, "UID SEARCH RETURN (SAVE) BODY urgent")
check(len(r) == 1 and " OK " in r[0], r)
r = cmd(m, "FETCH $ (UID)")
check(r[:-1] == ["* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)", "* 5 FETCH (UID 5)"], r)
r = cmd(m, "UID STORE $ +FLAGS.SILENT (\\Flagged)")
check(" OK " in r[-1], r)
r = cmd(m, "SEARCH FLAGGED")
check(r[0] == "* SEARCH 1 3 5", r)
# $ inside search keys, as a set of sequence numbers or of UIDs; a value
# that happens to be a dollar sign stays a value.
r = cmd(m, "SEARCH RETURN (ALL) OR $ UID 6")
check(r[0].endswith(" ALL 1,3,5:6"), r)
r = cmd(m, "SEARCH SUBJECT $")
check(r[0] == "* SEARCH", r)
# Messages expunged leave the saved result; the rest keep their new numbers.
m.store("1", "+FLAGS", "\\Deleted")
m.expunge()
r = cmd(m, "FETCH $ (UID)")
check(r[:-1] == ["* 2 FETCH (UID 3)", "* 4 FETCH (UID 5)"], r)
# SAVE with MIN and MAX keeps only those two, and ESEARCH still answers;
# with COUNT (or ALL) as well, it keeps everything found (RFC 5182 2.4).
r = cmd(m, "UID SEARCH RETURN (SAVE MIN MAX) ALL")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) UID MIN 2 MAX 6$', r[0]), r)
r = cmd(m, "UID FETCH $ (FLAGS)")
check([l.split()[1] for l in r[:-1]] == ["1", "5"], r)
r = cmd(m, "UID SEARCH RETURN (SAVE MIN COUNT) ALL")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) UID MIN 2 COUNT 5$', r[0]), r)
r = cmd(m, "SEARCH $ NOT 1:3")
check(r[0] == "* SEARCH 4 5", "$ first among the keys", r)
# A SAVE search that is malformed empties $ (RFC 5182 2.1).
cmd(m, "SEARCH RETURN (SAVE) ALL")
r = cmd(m, "SEARCH RETURN (SAVE) NOSUCHKEY")
check(" BAD " in r[-1], r)
r = cmd(m, "FETCH $ (UID)")
check(r == [r[-1]] and " OK " in r[-1], r)
# A SAVE search refused for its charset empties $.
r = cmd(m, "SEARCH RETURN (SAVE) CHARSET KOI8-R ALL")
check(" NO [BADCHARSET" in r[-1], r)
r = cmd(m, "FETCH $ (UID)")
check(r == [r[-1]] and " OK " in r[-1], r)
# Nothing found: $ names no message, and commands using it succeed.
cmd(m, "SEARCH RETURN (SAVE) SUBJECT no-such-subject")
r = cmd(m, "FETCH $ (UID)")
check(r == [r[-1]] and " OK " in r[-1], r)
r = cmd(m, "COPY $ Junk")
check(" OK " in r[-1], r)
# A new SELECT empties $.
cmd(m, "SEARCH RETURN (SAVE) ALL")
m.select("INBOX")
r = cmd(m, "FETCH $ (UID)")
check(r == [r[-1]] and " OK " in r[-1], r)
"#,
    );
}

#[test]
fn sequence_numbers_past_the_end_are_refused() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "one")
deliver("bob@example.test", "two")
m = connect()
m.select("INBOX")
# RFC 9051 9 (seq-number): BAD for a number past the last message.
for command in ["FETCH 3 (FLAGS)", "FETCH 1:5 (FLAGS)", "STORE 9 +FLAGS (\\Seen)", "COPY 2,3 Junk"]:
    r = cmd(m, command)
    check(" BAD " in r[-1] and len(r) == 1, command, r)
r = cmd(m, "FETCH 1:* (UID)")
check(r[:-1] == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)"] and " OK " in r[-1], r)
r = cmd(m, "UID FETCH 1:9 (UID)")
check(len(r) == 3 and " OK " in r[-1], "UIDs that do not exist are no error", r)
m.select("Junk")
r = cmd(m, "FETCH 1 (FLAGS)")
check(" BAD " in r[-1], "an empty mailbox has no message 1", r)
for command in ["FETCH 1:* (FLAGS)", "UID FETCH 1:* (FLAGS)"]:
    r = cmd(m, command)
    check(r == [r[-1]] and " OK " in r[-1], "a range up to * is everything there is", r)
"#,
    );
}

#[test]
fn attached_messages_are_fetched_by_their_own_sections() {
    let server = bob();
    run(
        &server,
        r#"
inner = "From: In <in@x.net>\r\nSubject: inner simple\r\nDate: Mon, 03 Mar 2025 09:00:00 +0000\r\n\r\ninner body line\r\n"
forwarded = ("From: a@b.test\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
             "--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--b--\r\n")
whole = "From: a@b.test\r\nSubject: fwd2\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n" + inner
m = connect()
for message in (forwarded, whole):
    check(m.append("INBOX", None, None, message.encode())[0] == "OK")
m.select("INBOX")
# RFC 9051 6.4.5: the parts of an attached message are numbered below it;
# 7.5.2: its BODYSTRUCTURE carries its ENVELOPE and body.
r = cmd(m, "FETCH 1 (BODY.PEEK[2.HEADER.FIELDS (SUBJECT)] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] BODY.PEEK[2.MIME])")
text = "".join(r)
check('Subject: inner simple\r\n\r\n' in text, r)
check(text.count("inner body line") == 2, r)
check("Content-Type: message/rfc822" in text, r)
r = cmd(m, "FETCH 1 (BODYSTRUCTURE)")
check('("Mon, 03 Mar 2025 09:00:00 +0000" "inner simple" (("In" NIL "in" "x.net"))' in r[0], r)
check('("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 15 0' in r[0], "the line end before a boundary is the boundary's", r)
r = cmd(m, "FETCH 2 (BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY[1])")
text = "".join(r)
check("Subject: inner simple" in text and text.count("inner body line") == 2, r)
"#,
    );
}

#[test]
fn binary_fetch_undoes_transfer_encodings() {
    let server = bob();
    run(
        &server,
        r#"
import base64
blob = bytes(range(256)) * 3
message = (
    b"From: a@sender.test\r\nTo: bob@example.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Gr=FC=DFe, caf=E9\r\n"
    b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(blob).replace(b"\n", b"\r\n") +
    b"--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-martian\r\n\r\nzorp\r\n"
    b"--XX--\r\n"
)
m = connect()
check(m.append("INBOX", None, None, message)[0] == "OK")
m.select("INBOX")
r = cmd(m, "FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])")
check(f"BINARY.SIZE[2] {len(blob)}" in r[0], r[0][:80])
typ, data = m.fetch("1", "(BINARY.PEEK[2])")
check(data[0][0].endswith(b"BINARY[2] ~{768}") and data[0][1] == blob, data[0][0])
typ, data = m.fetch("1", "(BINARY.PEEK[1] BINARY.PEEK[2]<0.4>)")
check(data[0][1] == "Grüße, café".encode("latin-1"), data)
check(data[1][0].endswith(b"BINARY[2]<0> ~{4}") and data[1][1] == bytes([0, 1, 2, 3]), data)
r = cmd(m, "FETCH 1 (BINARY.PEEK[3])")
check("NO [UNKNOWN-CTE]" in r[-1], r)
typ, data = m.fetch("1", "(FLAGS)")
check(b"\\Seen" not in data[0], "PEEK leaves \\Seen alone", data)
typ, data = m.fetch("1", "(BINARY[1])")
typ, data = m.fetch("1", "(FLAGS)")
check(b"\\Seen" in data[0], "BINARY sets \\Seen", data)
"#,
    );
}

#[test]
fn imap4rev2_clients_get_rev2_answers() {
    let server = bob();
    run(
        &server,
        r#"
deliver("bob@example.test", "rev2")
m = connect()
check(m.create("&AMQ-rger")[0] == "OK")
r = cmd(m, "ENABLE IMAP4rev2")
check(r[0] == "* ENABLED IMAP4rev2", r)
r = cmd(m, "SELECT INBOX")
check(not any("RECENT" in l for l in r), r)
check('* LIST () "/" "INBOX"' in r, r)
check("* 1 EXISTS" in r and r[-1].split()[1] == "OK", r)
r = cmd(m, "SEARCH ALL")
check(re.match(r'\* ESEARCH \(TAG "[^"]+"\) ALL 1$', r[0]), r)
r = cmd(m, 'LIST "" "*"')
check(any(l.endswith('"Ärger"') for l in r), "names are UTF-8 under IMAP4rev2", r)
r = cmd(m, "FETCH 1 (FLAGS)")
check("\\Recent" not in r[0], r)
# RFC 6855 4: the UTF8 form is for clients that enabled it.
plain = connect()
r = cmd(plain, "APPEND INBOX UTF8 (~{5+}\r\nHallo)")
check(r[-1].split()[1] == "BAD", "UTF8 before ENABLE", r)
plain.logout()
# After UTF8=ACCEPT a message with UTF-8 headers is appended as UTF8
# (literal8), here with a synchronising literal.
check(cmd(m, "ENABLE UTF8=ACCEPT")[-1].split()[1] == "OK")
message = "Subject: Grüße aus Köln\r\nFrom: bob@example.test\r\n\r\nHallo\r\n".encode()
tag = m._new_tag().decode()
m.send(f"{tag} APPEND INBOX (\\Seen) UTF8 (~{{{len(message)}}}\r\n".encode())
check(m._get_line().startswith(b"+"), "continuation")
m.send(message + b")\r\n")
answer = m._get_line().decode()
while answer.startswith("* "):
    answer = m._get_line().decode()
check(answer.startswith(f"{tag} OK [APPENDUID "), answer)
r = cmd(m, "FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check("\\Seen" in r[0] and "Subject: Grüße aus Köln" in r[0], r)
r = cmd(m, "APPEND INBOX UTF8 ({5+}\r\nHallo)")
check(r[-1].split()[1] == "BAD", "UTF8 takes a literal8", r)
"#,
    );
}

#[test]
fn a_large_append_pipelined_with_more_commands_loses_nothing() {
    let server = bob();
    run(
        &server,
        r#"
body = ("x" * 998 + "\r\n") * 200
message = f"Subject: big\r\n\r\n{body}".encode()
m = connect()
tag = m._new_tag().decode()
# APPEND with a non-synchronising literal and two commands right behind it,
# all in one write.
m.send(f"{tag} APPEND INBOX {{{len(message)}+}}\r\n".encode() + message + b"\r\nn1 NOOP\r\nn2 STATUS INBOX (MESSAGES)\r\n")
seen = []
while not any(l.startswith(b"n2 ") for l in seen):
    seen.append(m._get_line())
check(any(l.startswith(tag.encode() + b" OK") for l in seen), seen)
check(any(l.startswith(b"n1 OK") for l in seen), seen)
check(b'* STATUS "INBOX" (MESSAGES 1)' in seen, seen)
m.select("INBOX")
typ, data = m.fetch("1", "(BODY.PEEK[])")
check(data[0][1] == message, "the message comes back byte for byte")
"#,
    );
}
