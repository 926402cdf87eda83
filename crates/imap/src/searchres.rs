//! SEARCHRES (RFC 5182): `$` names the messages the last `SEARCH RETURN
//! (SAVE)` found. imap-codec does not parse `$`, so it is replaced by the
//! saved set, written as UIDs or sequence numbers as its place requires,
//! before the command is parsed.

use crate::view::{MailboxView, uid_set};

/// Stands for the empty set, which IMAP cannot write: no message has this
/// sequence number, and a UID this high is never handed out (RFC 3501
/// 2.3.1.1 UIDs grow by one per message).
const NOTHING: &str = "4294967295";

/// Search keys whose next argument is a value, not a set: `FROM $`
/// searches for a dollar sign.
const TAKES_VALUE: &[&str] = &[
    "FROM",
    "TO",
    "CC",
    "BCC",
    "SUBJECT",
    "BODY",
    "TEXT",
    "KEYWORD",
    "UNKEYWORD",
    "HEADER",
    "LARGER",
    "SMALLER",
    "CHARSET",
    "BEFORE",
    "ON",
    "SINCE",
    "SENTBEFORE",
    "SENTON",
    "SENTSINCE",
    "MODSEQ",
    "OLDER",
    "YOUNGER",
];

/// Commands whose first argument is a set.
const SET_COMMANDS: &[&str] = &["FETCH", "STORE", "COPY", "MOVE", "EXPUNGE"];

/// Commands whose arguments are search keys (after their own options).
const SEARCH_COMMANDS: &[&str] = &["SEARCH", "SORT", "THREAD"];

#[derive(Debug, PartialEq)]
enum Kind {
    Atom,
    /// A quoted string or a literal.
    Str,
    Open,
    Close,
}

struct Lexeme {
    kind: Kind,
    start: usize,
    end: usize,
    /// Where a synchronizing literal's `}` is: the client already sent
    /// the data, and the rewritten command must say so (`{n+}`).
    sync_close: Option<usize>,
}

/// The command cut into atoms, strings and parentheses, literals skipped
/// by their announced length; None when it cannot be cut (imap-codec then
/// reports the syntax error).
fn lex(bytes: &[u8]) -> Option<Vec<Lexeme>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let mut sync_close = None;
        let kind = match bytes[at] {
            b' ' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'(' => {
                at += 1;
                Kind::Open
            }
            b')' => {
                at += 1;
                Kind::Close
            }
            b'"' => {
                at += 1;
                loop {
                    match *bytes.get(at)? {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
                at += 1;
                Kind::Str
            }
            b'{' | b'~' if bytes[at..].contains(&b'}') => {
                let close = at + bytes[at..].iter().position(|&b| b == b'}')?;
                let digits = std::str::from_utf8(&bytes[at..close]).ok()?;
                let digits = digits.trim_start_matches(['~', '{']);
                let length: usize = digits.trim_end_matches(['+', '-']).parse().ok()?;
                if !digits.ends_with(['+', '-']) {
                    sync_close = Some(close);
                }
                at = close + 1;
                if bytes.get(at) == Some(&b'\r') {
                    at += 1;
                }
                if bytes.get(at) != Some(&b'\n') {
                    return None;
                }
                at = at.checked_add(1 + length)?;
                if at > bytes.len() {
                    return None;
                }
                Kind::Str
            }
            _ => {
                while at < bytes.len() && !b" ()\"\r\n".contains(&bytes[at]) {
                    at += 1;
                }
                Kind::Atom
            }
        };
        out.push(Lexeme {
            kind,
            start,
            end: at,
            sync_close,
        });
    }
    Some(out)
}

/// How a `$` in this place is written out.
#[derive(Debug, PartialEq)]
enum Numbering {
    Uids,
    Sequence,
}

/// The command with every `$` replaced by the saved messages, or None when
/// it has no `$` to replace.
pub fn substitute(command: &[u8], view: Option<&MailboxView>) -> Option<Vec<u8>> {
    if !command.contains(&b'$') {
        return None;
    }
    let lexemes = lex(command)?;
    let word = |i: usize| -> Option<String> {
        let l = lexemes.get(i)?;
        (l.kind == Kind::Atom)
            .then(|| String::from_utf8_lossy(&command[l.start..l.end]).to_ascii_uppercase())
    };
    let uid_command = word(1).as_deref() == Some("UID");
    let name_at = if uid_command { 2 } else { 1 };
    let name = word(name_at)?;
    let mut places = Vec::new();
    for (i, l) in lexemes.iter().enumerate() {
        if l.kind != Kind::Atom || &command[l.start..l.end] != b"$" {
            continue;
        }
        let numbering = if SET_COMMANDS.contains(&name.as_str()) && i == name_at + 1 {
            if uid_command {
                Numbering::Uids
            } else {
                Numbering::Sequence
            }
        } else if SEARCH_COMMANDS.contains(&name.as_str()) && i > name_at + 1 {
            let before = word(i - 1);
            let value_of_key = before.as_deref().is_some_and(|w| TAKES_VALUE.contains(&w))
                || word(i - 2).as_deref() == Some("HEADER");
            if value_of_key {
                continue;
            }
            if before.as_deref() == Some("UID") {
                Numbering::Uids
            } else {
                Numbering::Sequence
            }
        } else {
            continue;
        };
        places.push((l.start, numbering));
    }
    if places.is_empty() {
        return None;
    }
    let saved = view.map(|v| v.saved.as_slice()).unwrap_or_default();
    let mut edits: Vec<(usize, usize, String)> = lexemes
        .iter()
        .filter_map(|l| l.sync_close.map(|at| (at, at, "+".to_string())))
        .collect();
    for (at, numbering) in places {
        let set = match (numbering, view) {
            (Numbering::Uids, _) => uid_set(saved),
            (Numbering::Sequence, Some(view)) => {
                let seqs: Vec<u32> = saved
                    .iter()
                    .filter_map(|&u| view.seq_of(u))
                    .map(|s| s as u32)
                    .collect();
                uid_set(&seqs)
            }
            (Numbering::Sequence, None) => String::new(),
        };
        let set = if set.is_empty() { NOTHING.into() } else { set };
        edits.push((at, at + 1, set));
    }
    edits.sort_unstable_by_key(|(start, ..)| *start);
    let mut out = Vec::with_capacity(command.len());
    let mut copied = 0;
    for (start, end, text) in edits {
        out.extend_from_slice(&command[copied..start]);
        out.extend_from_slice(text.as_bytes());
        copied = end;
    }
    out.extend_from_slice(&command[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replaced(command: &str) -> Option<String> {
        substitute(command.as_bytes(), None).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn dollar_in_set_places_is_replaced() {
        // Nothing saved (no mailbox): the set that names no message.
        assert_eq!(
            replaced("a UID FETCH $ FLAGS\r\n").as_deref(),
            Some("a UID FETCH 4294967295 FLAGS\r\n")
        );
        assert_eq!(
            replaced("a FETCH $ (FLAGS)\r\n").as_deref(),
            Some("a FETCH 4294967295 (FLAGS)\r\n")
        );
        assert_eq!(
            replaced("a SEARCH UNSEEN (UID $ OR $ DELETED)\r\n").as_deref(),
            Some("a SEARCH UNSEEN (UID 4294967295 OR 4294967295 DELETED)\r\n")
        );
        // The literal's data is already here: it becomes non-synchronizing.
        assert_eq!(
            replaced("a UID SEARCH SUBJECT {2}\r\n$x UID $\r\n").as_deref(),
            Some("a UID SEARCH SUBJECT {2+}\r\n$x UID 4294967295\r\n")
        );
    }

    #[test]
    fn dollar_as_a_value_stays() {
        for command in [
            "a SEARCH SUBJECT $\r\n",
            "a SEARCH HEADER X-Price $\r\n",
            "a SEARCH KEYWORD $Forwarded\r\n",
            "a SEARCH SUBJECT \"$\"\r\n",
            "a SEARCH SUBJECT {1}\r\n$\r\n",
            "a LIST \"\" $\r\n",
            "a FETCH 1 BODY[HEADER.FIELDS ($)]\r\n",
        ] {
            assert_eq!(replaced(command), None, "{command}");
        }
    }
}
