//! SEARCHRES (RFC 5182): `$` names the messages the last `SEARCH RETURN
//! (SAVE)` found. imap-codec does not parse `$`, so it is replaced by the
//! saved set, written as UIDs or sequence numbers as its place requires,
//! before the command is parsed.

use crate::view::{MailboxView, uid_set};

/// Stands for the empty set, which IMAP cannot write: no message has this
/// sequence number, and a UID this high is never handed out (RFC 3501
/// 2.3.1.1 UIDs grow by one per message).
const NOTHING: &str = "4294967295";

/// Commands whose first argument is a set.
const SET_COMMANDS: &[&str] = &["FETCH", "STORE", "COPY", "MOVE", "EXPUNGE"];

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
    let is_dollar = |i: usize| {
        lexemes
            .get(i)
            .is_some_and(|l| l.kind == Kind::Atom && &command[l.start..l.end] == b"$")
    };
    if SET_COMMANDS.contains(&name.as_str()) && is_dollar(name_at + 1) {
        let numbering = if uid_command {
            Numbering::Uids
        } else {
            Numbering::Sequence
        };
        places.push((lexemes[name_at + 1].start, numbering));
    }
    // Where the search keys start: after SEARCH's RETURN (...) and
    // CHARSET, SORT's (criteria) and charset, THREAD's algorithm and
    // charset.
    let mut at = name_at + 1;
    let skip_list = |mut at: usize| {
        let mut depth = 0;
        while let Some(l) = lexemes.get(at) {
            at += 1;
            match l.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth -= 1,
                _ => {}
            }
            if depth <= 0 {
                break;
            }
        }
        at
    };
    let keys_at = match name.as_str() {
        "SEARCH" => {
            if word(at).as_deref() == Some("RETURN") {
                at = skip_list(at + 1);
            }
            if word(at).as_deref() == Some("CHARSET") {
                at += 2;
            }
            Some(at)
        }
        "SORT" => Some(skip_list(at) + 1),
        "THREAD" => Some(at + 2),
        _ => None,
    };
    // Each key is skipped with its arguments, so a `$` found where a key
    // starts is a set, and one that is a key's value stays a value.
    let mut at = keys_at.unwrap_or(lexemes.len());
    while at < lexemes.len() {
        let key = word(at).unwrap_or_default();
        if is_dollar(at) {
            places.push((lexemes[at].start, Numbering::Sequence));
            at += 1;
        } else if key == "UID" {
            if is_dollar(at + 1) {
                places.push((lexemes[at + 1].start, Numbering::Uids));
            }
            at += 2;
        } else {
            at += 1 + crate::search_depth::arguments(&key, || {
                lexemes.get(at + 1).is_some_and(|l| l.kind == Kind::Str)
            });
        }
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
        // First among the keys, after options, after a value that spells
        // a key's name.
        for (command, expected) in [
            (
                "a SEARCH $ SMALLER 4096\r\n",
                "a SEARCH 4294967295 SMALLER 4096\r\n",
            ),
            (
                "a SEARCH RETURN (SAVE) CHARSET UTF-8 $\r\n",
                "a SEARCH RETURN (SAVE) CHARSET UTF-8 4294967295\r\n",
            ),
            (
                "a SEARCH SUBJECT from $\r\n",
                "a SEARCH SUBJECT from 4294967295\r\n",
            ),
            (
                "a SEARCH HEADER X-A text $\r\n",
                "a SEARCH HEADER X-A text 4294967295\r\n",
            ),
            (
                "a UID SORT (DATE) UTF-8 UID $\r\n",
                "a UID SORT (DATE) UTF-8 UID 4294967295\r\n",
            ),
            (
                "a THREAD REFERENCES UTF-8 NOT $\r\n",
                "a THREAD REFERENCES UTF-8 NOT 4294967295\r\n",
            ),
        ] {
            assert_eq!(replaced(command).as_deref(), Some(expected), "{command}");
        }
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
