//! ENVELOPE and BODYSTRUCTURE on tricky messages, as tables of
//! (message, expected), so a regression shows exactly what changed.

use crate::mime::{body_structure, envelope, parse};

fn structure(raw: &str) -> String {
    let msg = parse(raw.as_bytes()).expect("mail-parser takes any input");
    let mut out = Vec::new();
    body_structure(&mut out, raw.as_bytes(), &msg, msg.root_part(), true);
    String::from_utf8(out).unwrap()
}

fn env(raw: &str) -> String {
    let msg = parse(raw.as_bytes()).expect("mail-parser takes any input");
    let mut out = Vec::new();
    envelope(&mut out, raw.as_bytes(), &msg);
    String::from_utf8(out).unwrap()
}

#[test]
fn bodystructures() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "no content-type means text/plain us-ascii",
            "Subject: x\r\n\r\nhello\r\nworld\r\n",
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 14 2 NIL NIL NIL NIL)",
        ),
        (
            "alternative inside mixed, with a base64 attachment",
            "Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=inner\r\n\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
caf=C3=A9\r\n\
--inner\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<b>hi</b>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"a.pdf\"\r\n\
Content-Disposition: attachment; filename=\"a.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n\
JVBERi0=\r\n\
--outer--\r\n",
            "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 0 NIL NIL NIL NIL)\
(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 9 0 NIL NIL NIL NIL) \"ALTERNATIVE\" \
(\"BOUNDARY\" \"inner\") NIL NIL NIL)\
(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.pdf\")) NIL NIL) \
\"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)",
        ),
    ];
    for (what, raw, expected) in cases {
        assert_eq!(structure(raw), *expected, "{what}");
    }
}

#[test]
fn malformed_mime_never_panics_and_still_describes_something() {
    let cases = [
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nno end boundary\r\n",
        "Content-Type: multipart/mixed\r\n\r\nno boundary parameter at all\r\n",
        "Content-Type: text/plain; charset=\"unterminated\r\n\r\nbody\r\n",
        "Content-Type: /\r\n\r\n",
        "\r\n",
        "garbage without any header",
        "Content-Type: message/rfc822\r\n\r\nnot really a message",
    ];
    for raw in cases {
        let s = structure(raw);
        assert!(s.starts_with('(') && s.ends_with(')'), "{raw:?} gave {s}");
        let e = env(raw);
        assert!(e.starts_with('(') && e.ends_with(')'), "{raw:?} gave {e}");
    }
}

#[test]
fn envelopes() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "encoded words stay encoded in the subject; names are re-encoded",
            "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.test>\r\n\
Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\r\nx",
            "(NIL \"=?UTF-8?B?R3LDvMOfZQ==?=\" ((\"=?UTF-8?B?QW5kcsOp?=\" NIL \"andre\" \"example.test\")) \
((\"=?UTF-8?B?QW5kcsOp?=\" NIL \"andre\" \"example.test\")) \
((\"=?UTF-8?B?QW5kcsOp?=\" NIL \"andre\" \"example.test\")) NIL NIL NIL NIL NIL)",
        ),
        (
            "8-bit UTF-8 (SMTPUTF8 mail): the subject as an encoded word, addresses as literals",
            "Subject: Grüße\r\nTo: jörg@bücher.example\r\n\r\nx",
            "(NIL \"=?UTF-8?B?R3LDvMOfZQ==?=\" NIL NIL NIL ((NIL NIL {5}\r\njörg {15}\r\nbücher.example)) NIL NIL NIL NIL)",
        ),
        (
            "a group and a folded header",
            "To: undisclosed-recipients:;\r\nCc: A <a@x.test>,\r\n B <b@x.test>\r\n\
In-Reply-To: <p@x.test>\r\nMessage-ID: <m@x.test>\r\n\r\nx",
            "(NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) \
((\"A\" NIL \"a\" \"x.test\")(\"B\" NIL \"b\" \"x.test\")) NIL \"<p@x.test>\" \"<m@x.test>\")",
        ),
    ];
    for (what, raw, expected) in cases {
        assert_eq!(env(raw), *expected, "{what}");
    }
}
