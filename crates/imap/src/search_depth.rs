//! Deeply nested SEARCH criteria, rewritten shallow. imap-codec refuses
//! search keys nested more than nine deep, yet a client that ORs many
//! terms writes `OR a OR b OR c ...`, one level per term. Such chains are
//! rewritten by De Morgan's law as `NOT (NOT a NOT b NOT c ...)`, three
//! levels for any number of terms, and nested parentheses are opened.

use crate::ext::{Token, word, write_string};

/// Levels imap-codec takes (its `search_key(9)`).
const CODEC_DEPTH: usize = 9;

#[derive(Debug, Clone, PartialEq)]
enum Key {
    /// A key and its arguments, as sent.
    Leaf(Vec<Token>),
    Not(Box<Key>),
    Or(Box<Key>, Box<Key>),
    /// A parenthesized list: all of them.
    All(Vec<Key>),
}

const NO_ARGUMENT: &[&str] = &[
    "ALL",
    "ANSWERED",
    "DELETED",
    "DRAFT",
    "FLAGGED",
    "NEW",
    "OLD",
    "RECENT",
    "SEEN",
    "UNANSWERED",
    "UNDELETED",
    "UNDRAFT",
    "UNFLAGGED",
    "UNSEEN",
];

const ONE_ARGUMENT: &[&str] = &[
    "BCC",
    "BEFORE",
    "BODY",
    "CC",
    "FROM",
    "KEYWORD",
    "LARGER",
    "ON",
    "SENTBEFORE",
    "SENTON",
    "SENTSINCE",
    "SINCE",
    "SMALLER",
    "SUBJECT",
    "TEXT",
    "TO",
    "UID",
    "UNKEYWORD",
    "OLDER",
    "YOUNGER",
];

/// How many arguments follow search key `name` (upper case); for MODSEQ
/// it depends on whether a string comes next. Unknown names, NOT, OR and
/// sets take none.
pub fn arguments(name: &str, string_follows: impl FnOnce() -> bool) -> usize {
    match name {
        n if ONE_ARGUMENT.contains(&n) => 1,
        "HEADER" => 2,
        // RFC 7162 3.1.5: MODSEQ ["/flags/..." all|shared|priv] n.
        "MODSEQ" if string_follows() => 3,
        "MODSEQ" => 1,
        _ => 0,
    }
}

fn parse(tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>) -> Option<Key> {
    let first = tokens.next()?;
    let name = match &first {
        Token::List(_) => {
            let Token::List(items) = first else {
                return None;
            };
            let mut inner = items.into_iter().peekable();
            let mut keys = Vec::new();
            while inner.peek().is_some() {
                keys.push(parse(&mut inner)?);
            }
            return (!keys.is_empty()).then_some(Key::All(keys));
        }
        Token::Str(_) => return None,
        Token::Atom(a) => {
            let name = word(&first)?;
            if a.iter().all(|b| b.is_ascii_digit() || b":,*$".contains(b)) {
                return Some(Key::Leaf(vec![first]));
            }
            name
        }
    };
    match name.as_str() {
        "NOT" => return Some(Key::Not(Box::new(parse(tokens)?))),
        "OR" => {
            let a = parse(tokens)?;
            let b = parse(tokens)?;
            return Some(Key::Or(Box::new(a), Box::new(b)));
        }
        n if !NO_ARGUMENT.contains(&n)
            && !ONE_ARGUMENT.contains(&n)
            && !matches!(n, "HEADER" | "MODSEQ") =>
        {
            return None;
        }
        _ => {}
    }
    let arguments = arguments(&name, || matches!(tokens.peek(), Some(Token::Str(_))));
    let mut leaf = vec![first];
    for _ in 0..arguments {
        leaf.push(tokens.next()?);
    }
    Some(Key::Leaf(leaf))
}

/// Levels a key takes as imap-codec counts them.
fn depth(key: &Key) -> usize {
    match key {
        Key::Leaf(_) => 1,
        Key::Not(k) => 1 + depth(k),
        Key::Or(a, b) => 1 + depth(a).max(depth(b)),
        Key::All(keys) => 1 + keys.iter().map(depth).max().unwrap_or(0),
    }
}

fn or_terms(key: Key, into: &mut Vec<Key>) {
    match key {
        Key::Or(a, b) => {
            or_terms(*a, into);
            or_terms(*b, into);
        }
        // `(x)` around one term of a chain changes nothing.
        Key::All(mut keys) if keys.len() == 1 => or_terms(keys.remove(0), into),
        other => into.push(shallow(other)),
    }
}

fn shallow(key: Key) -> Key {
    match key {
        Key::Leaf(_) => key,
        Key::Not(inner) => match *inner {
            Key::Not(twice) => shallow(*twice),
            other => Key::Not(Box::new(shallow(other))),
        },
        Key::Or(a, b) => {
            let mut terms = Vec::new();
            or_terms(Key::Or(a, b), &mut terms);
            if terms.len() == 2 {
                let b = terms.pop().map(Box::new);
                let a = terms.pop().map(Box::new);
                match (a, b) {
                    (Some(a), Some(b)) => Key::Or(a, b),
                    _ => Key::All(terms),
                }
            } else {
                // a OR b OR c = NOT (NOT a NOT b NOT c).
                let nots = terms.into_iter().map(|t| Key::Not(Box::new(t))).collect();
                Key::Not(Box::new(Key::All(nots)))
            }
        }
        Key::All(keys) => {
            let mut flat = Vec::new();
            for k in keys {
                match shallow(k) {
                    Key::All(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            Key::All(flat)
        }
    }
}

fn write(key: &Key, out: &mut Vec<u8>) {
    match key {
        Key::Leaf(tokens) => {
            for (i, token) in tokens.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                match token {
                    Token::Atom(a) => out.extend_from_slice(a),
                    Token::Str(s) => write_text(out, s),
                    Token::List(_) => {}
                }
            }
        }
        Key::Not(k) => {
            out.extend_from_slice(b"NOT ");
            write(k, out);
        }
        Key::Or(a, b) => {
            out.extend_from_slice(b"OR ");
            write(a, out);
            out.push(b' ');
            write(b, out);
        }
        Key::All(keys) => {
            out.push(b'(');
            write_all(keys, out);
            out.push(b')');
        }
    }
}

/// A string as a quoted string when it fits one (dates, charsets and
/// MODSEQ entry names may not be literals), else as a literal.
fn write_text(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        crate::response::quoted(out, bytes);
    } else {
        write_string(out, bytes);
    }
}

fn write_all(keys: &[Key], out: &mut Vec<u8>) {
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write(k, out);
    }
}

/// The criteria (`[CHARSET x] key...`) written shallow enough for
/// imap-codec, when they are nested deeper than it takes; None when they
/// are not (or cannot be read here: imap-codec then says what is wrong).
pub fn shallow_criteria(tokens: Vec<Token>) -> Option<Vec<u8>> {
    let mut tokens = tokens.into_iter().peekable();
    let mut out = Vec::new();
    if tokens.peek().and_then(word).as_deref() == Some("CHARSET") {
        tokens.next();
        let charset = tokens.next()?;
        out.extend_from_slice(b"CHARSET ");
        write(&Key::Leaf(vec![charset]), &mut out);
        out.push(b' ');
    }
    let mut keys = Vec::new();
    while tokens.peek().is_some() {
        keys.push(parse(&mut tokens)?);
    }
    if keys.iter().map(depth).max().unwrap_or(0) <= CODEC_DEPTH {
        return None;
    }
    let keys: Vec<Key> = keys.into_iter().map(shallow).collect();
    write_all(&keys, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms(text: &str) -> Vec<Token> {
        text.split(' ')
            .map(|w| Token::Atom(w.as_bytes().to_vec()))
            .collect()
    }

    fn rewritten(tokens: Vec<Token>) -> Option<String> {
        shallow_criteria(tokens).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn long_or_chains_become_three_levels() {
        let chain = format!(
            "{}FROM a12",
            (1..=12)
                .map(|i| format!("OR FROM a{i} "))
                .collect::<String>()
        );
        let out = rewritten(atoms(&chain)).unwrap();
        let expected: Vec<String> = (1..=12).map(|i| format!("NOT FROM a{i}")).collect();
        assert_eq!(out, format!("NOT ({} NOT FROM a12)", expected.join(" ")));
    }

    #[test]
    fn shallow_criteria_are_left_alone() {
        assert_eq!(rewritten(atoms("OR OR FROM a TO a SUBJECT a")), None);
        assert_eq!(rewritten(atoms("UNSEEN 1:5")), None);
    }

    #[test]
    fn strings_keep_their_bytes_and_unknown_keys_are_not_touched() {
        let mut tokens = Vec::new();
        for _ in 0..10 {
            tokens.extend(atoms("OR HEADER X-Tag"));
            tokens.push(Token::Str(b"a b".to_vec()));
        }
        tokens.extend(atoms("ALL"));
        let out = rewritten(tokens).unwrap();
        assert!(
            out.starts_with("NOT (NOT HEADER X-Tag \"a b\" NOT"),
            "{out}"
        );
        assert_eq!(
            rewritten(atoms("OR OR OR OR OR OR OR OR OR OR SOMETHING")),
            None
        );
    }

    #[test]
    fn nested_parentheses_open() {
        let deep = vec![Token::List(vec![Token::List(vec![Token::List(vec![
            Token::List(vec![Token::List(vec![Token::List(vec![Token::List(
                vec![Token::List(vec![Token::List(vec![Token::List(atoms(
                    "SEEN FLAGGED",
                ))])])],
            )])])]),
        ])])])];
        assert_eq!(rewritten(deep).as_deref(), Some("(SEEN FLAGGED)"));
    }
}
