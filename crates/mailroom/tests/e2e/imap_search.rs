//! SEARCH over message content: text hidden by transfer encodings and
//! encoded words is found, and a repeated search gives the same answer
//! from the parsed-structure cache.

use crate::bob;
use crate::imap::run;

#[test]
fn search_finds_text_behind_encodings_and_repeats_from_the_cache() {
    let server = bob();
    run(
        &server,
        r#"
import base64
def msg(subject, body, headers=""):
    return (f"From: Ann <ann@sender.test>\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
            f"Date: Tue, 03 Mar 2026 10:00:00 +0000\r\n{headers}\r\n{body}").encode()
m = connect()
hidden = base64.encodebytes(b"the secret word is Needle\r\n").decode().replace("\n", "\r\n")
messages = [
    msg("plain one", "nothing to see here\r\n"),
    msg("encoded body", hidden, "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n"),
    msg("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_Berlin?=", "hello\r\n"),
    msg("quoted", "caf=C3=A9 NEEDLE=\r\nsplit\r\n", "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
]
for raw in messages:
    check(m.append("INBOX", None, None, raw)[0] == "OK")
m.select("INBOX")
for _ in range(2):
    typ, data = m.uid("SEARCH", "BODY", "needle")
    check(data == [b"2 4"], "BODY finds text under base64 and quoted-printable", data)
    typ, data = m.uid("SEARCH", "BODY", "needlesplit")
    check(data == [b"4"], "a soft line break joins words", data)
    typ, data = m.uid("SEARCH", "TEXT", "nothing")
    check(data == [b"1"], data)
    m.literal = "grüße".encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT")
    check(data == [b"3"], "SUBJECT matches the decoded encoded word", data)
    typ, data = m.uid("SEARCH", "FROM", "ann@sender")
    check(data == [b"1 2 3 4"], data)
    typ, data = m.uid("SEARCH", "SENTBEFORE", "4-Mar-2026", "SENTSINCE", "3-Mar-2026")
    check(data == [b"1 2 3 4"], data)
    typ, data = m.uid("SEARCH", "SENTBEFORE", "3-Mar-2026")
    check(data == [b""], data)
    typ, data = m.uid("SEARCH", "HEADER", "Content-Transfer-Encoding", "base64")
    check(data == [b"2"], data)
    typ, data = m.fetch("3", "(ENVELOPE BODYSTRUCTURE)")
    check(b"Gr=C3=BC=C3=9Fe" in data[0] and b'("TEXT" "PLAIN"' in data[0], data)
"#,
    );
}
