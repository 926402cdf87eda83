//! Command forms imap-codec does not parse: LIST-EXTENDED (RFC 5258) with
//! LIST-STATUS (RFC 5819) and the SPECIAL-USE options (RFC 6154),
//! CREATE-SPECIAL-USE (RFC 6154 3), SEARCH RETURN (ESEARCH, RFC 4731) and
//! APPEND's UTF8 message form (RFC 6855 4).
//! They are recognised here and rewritten to their base form, which
//! imap-codec then parses; the options travel beside the command.

/// Options a base command carries beyond what imap-codec parsed.
#[derive(Debug, Default, PartialEq)]
pub enum Extension {
    #[default]
    None,
    /// CREATE ... (USE (\Archive)): the attributes asked for.
    CreateUse(Vec<String>),
    List(ListOptions),
    /// SEARCH RETURN (...): the result options, upper-case.
    SearchReturn(Vec<String>),
    /// STATUS asked for APPENDLIMIT (RFC 7889), taken out of the items;
    /// true when it was the only item.
    StatusAppendLimit(bool),
    /// APPEND sent its message as `UTF8 (...)` (RFC 6855 4).
    Utf8Append,
}

#[derive(Debug, Default, PartialEq)]
pub struct ListOptions {
    pub select_subscribed: bool,
    pub select_special_use: bool,
    pub recursive_match: bool,
    /// Every pattern, as sent (the rewritten command carries the first).
    pub patterns: Vec<Vec<u8>>,
    pub return_subscribed: bool,
    /// STATUS items asked for with RETURN (STATUS (...)), upper-case.
    pub return_status: Option<Vec<String>>,
}

/// A rewritten command and its options, or the reason it is malformed.
pub type Rewritten = Result<Option<(Vec<u8>, Extension)>, &'static str>;

/// Lists inside lists a command may have (real ones have a handful).
const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Atom(Vec<u8>),
    /// A quoted string or literal, decoded.
    Str(Vec<u8>),
    List(Vec<Token>),
}

struct Tokens<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Tokens<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) -> bool {
        if self.peek() == Some(b' ') {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn at_end(&self) -> bool {
        matches!(&self.bytes[self.at..], b"\r\n" | b"\n" | b"")
    }

    fn token(&mut self) -> Result<Token, &'static str> {
        self.nested_token(0)
    }

    /// A token inside `depth` open lists: hostile input may nest lists
    /// without end, and recursion must stop long before the stack does.
    fn nested_token(&mut self, depth: usize) -> Result<Token, &'static str> {
        match self.peek() {
            Some(b'(') => {
                if depth >= MAX_NESTING {
                    return Err("Lists nested too deeply");
                }
                self.at += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b')') {
                    self.at += 1;
                    return Ok(Token::List(items));
                }
                loop {
                    items.push(self.nested_token(depth + 1)?);
                    match self.peek() {
                        Some(b' ') => self.at += 1,
                        Some(b')') => {
                            self.at += 1;
                            return Ok(Token::List(items));
                        }
                        _ => return Err("Unterminated list"),
                    }
                }
            }
            Some(b'"') => self.quoted(),
            Some(b'{' | b'~') => self.literal(),
            Some(_) => {
                let start = self.at;
                while let Some(b) = self.peek() {
                    if matches!(b, b' ' | b'(' | b')' | b'"' | b'{' | b'\r' | b'\n') {
                        break;
                    }
                    self.at += 1;
                }
                if start == self.at {
                    return Err("Unexpected character");
                }
                Ok(Token::Atom(self.bytes[start..self.at].to_vec()))
            }
            None => Err("Missing argument"),
        }
    }

    fn quoted(&mut self) -> Result<Token, &'static str> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Token::Str(out));
                }
                Some(b'\\') => {
                    let escaped = self.bytes.get(self.at + 1).copied();
                    match escaped {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err("Bad escape in quoted string"),
                    }
                    self.at += 2;
                }
                Some(b'\r' | b'\n') | None => return Err("Unterminated quoted string"),
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// `{n}`, `{n+}`, `{n-}` or `~{n}` (RFC 3516 literal8), CRLF, n bytes.
    fn literal(&mut self) -> Result<Token, &'static str> {
        if self.peek() == Some(b'~') {
            self.at += 1;
        }
        let rest = &self.bytes[self.at..];
        let close = rest.iter().position(|&b| b == b'}').ok_or("Bad literal")?;
        let inside = std::str::from_utf8(&rest[1..close]).map_err(|_| "Bad literal")?;
        let digits = inside.trim_end_matches(['+', '-']);
        let length: usize = digits.parse().map_err(|_| "Bad literal length")?;
        let mut start = self.at + close + 1;
        if self.bytes.get(start..start + 2) == Some(b"\r\n") {
            start += 2;
        } else if self.bytes.get(start) == Some(&b'\n') {
            start += 1;
        } else {
            return Err("Bad literal");
        }
        let data = self
            .bytes
            .get(start..start + length)
            .ok_or("Short literal")?;
        self.at = start + length;
        Ok(Token::Str(data.to_vec()))
    }
}

pub(crate) fn word(token: &Token) -> Option<String> {
    match token {
        Token::Atom(a) => Some(String::from_utf8_lossy(a).to_ascii_uppercase()),
        _ => None,
    }
}

fn string_bytes(token: &Token) -> Option<&[u8]> {
    match token {
        Token::Atom(b) | Token::Str(b) => Some(b),
        Token::List(_) => None,
    }
}

/// Writes a token back as IMAP (strings as literals, so anything fits).
pub(crate) fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{{{}+}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// Recognises an extended form in one complete command message.
pub fn rewrite(message: &[u8]) -> Rewritten {
    let mut tokens = Tokens {
        bytes: message,
        at: 0,
    };
    let Ok(Token::Atom(tag)) = tokens.token() else {
        return Ok(None);
    };
    if !tokens.space() {
        return Ok(None);
    }
    let Ok(first) = tokens.token() else {
        return Ok(None);
    };
    let mut command = word(&first).unwrap_or_default();
    let mut prefix = command.clone();
    if command == "UID" {
        if !tokens.space() {
            return Ok(None);
        }
        command = tokens
            .token()
            .ok()
            .and_then(|t| word(&t))
            .unwrap_or_default();
        prefix = format!("UID {command}");
    }
    let head = |out: &mut Vec<u8>| {
        out.extend_from_slice(&tag);
        out.push(b' ');
        out.extend_from_slice(prefix.as_bytes());
    };
    match command.as_str() {
        "CREATE" => create(&mut tokens, head),
        "LIST" => list(&mut tokens, head),
        "SEARCH" => search(&mut tokens, head),
        "STATUS" => status(&mut tokens, head),
        "APPEND" => append(&mut tokens, head),
        _ => Ok(None),
    }
}

/// STATUS with APPENDLIMIT among its items (RFC 7889 4): the command
/// without it, the item answered apart. (The capability names the limit,
/// which is the same for every mailbox.)
fn status(tokens: &mut Tokens<'_>, head: impl Fn(&mut Vec<u8>)) -> Rewritten {
    if !tokens.space() {
        return Ok(None);
    }
    let name = tokens.token()?;
    if !tokens.space() {
        return Ok(None);
    }
    let Token::List(items) = tokens.token()? else {
        return Ok(None);
    };
    if !tokens.at_end() {
        return Ok(None);
    }
    let words: Vec<String> = items.iter().filter_map(word).collect();
    if words.len() != items.len() || !words.iter().any(|w| w == "APPENDLIMIT") {
        return Ok(None);
    }
    let rest: Vec<&String> = words.iter().filter(|w| *w != "APPENDLIMIT").collect();
    let name = string_bytes(&name).ok_or("Bad mailbox name")?;
    let mut out = Vec::new();
    head(&mut out);
    out.push(b' ');
    write_string(&mut out, name);
    // imap-codec needs one item at least; MESSAGES stands in and is
    // dropped again when it was not asked for.
    let listed = if rest.is_empty() {
        "MESSAGES".to_string()
    } else {
        rest.iter()
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    out.extend_from_slice(format!(" ({listed})\r\n").as_bytes());
    Ok(Some((out, Extension::StatusAppendLimit(rest.is_empty()))))
}

/// APPEND whose message is `UTF8 (~{n}...)` (RFC 6855 4: a message that
/// may carry UTF-8 headers): the same APPEND with the literal8 alone. A
/// plain APPEND is left to imap-codec before its message is read here.
fn append(tokens: &mut Tokens<'_>, head: impl Fn(&mut Vec<u8>)) -> Rewritten {
    if !tokens.space() {
        return Ok(None);
    }
    let Ok(name) = tokens.token() else {
        return Ok(None);
    };
    let (mut flags, mut date) = (None, None);
    loop {
        if !tokens.space() {
            return Ok(None);
        }
        match tokens.peek() {
            Some(b'(') if flags.is_none() && date.is_none() => flags = tokens.token().ok(),
            Some(b'"') if date.is_none() => date = tokens.token().ok(),
            _ => break,
        }
    }
    let rest = &tokens.bytes[tokens.at..];
    if !rest
        .get(..6)
        .is_some_and(|r| r.eq_ignore_ascii_case(b"UTF8 ("))
    {
        return Ok(None);
    }
    tokens.at += 6;
    if tokens.peek() != Some(b'~') {
        return Err("UTF8 takes a literal8 (~{n})");
    }
    let Token::Str(message) = tokens.token()? else {
        return Err("UTF8 takes a literal8 (~{n})");
    };
    if tokens.peek() != Some(b')') {
        return Err("Expected ) after the message");
    }
    tokens.at += 1;
    if !tokens.at_end() {
        return Err("Unexpected data after APPEND");
    }
    let mut out = Vec::with_capacity(message.len() + 128);
    head(&mut out);
    out.push(b' ');
    write_string(&mut out, string_bytes(&name).ok_or("Bad mailbox name")?);
    if let Some(Token::List(flags)) = &flags {
        let flags: Vec<&[u8]> = flags.iter().filter_map(string_bytes).collect();
        out.extend_from_slice(b" (");
        out.extend_from_slice(&flags.join(&b' '));
        out.push(b')');
    }
    if let Some(Token::Str(date)) = &date {
        out.extend_from_slice(b" \"");
        out.extend_from_slice(date);
        out.push(b'"');
    }
    out.extend_from_slice(format!(" ~{{{}+}}\r\n", message.len()).as_bytes());
    out.extend_from_slice(&message);
    out.extend_from_slice(b"\r\n");
    Ok(Some((out, Extension::Utf8Append)))
}

fn create(tokens: &mut Tokens<'_>, head: impl Fn(&mut Vec<u8>)) -> Rewritten {
    if !tokens.space() {
        return Ok(None);
    }
    let name = tokens.token()?;
    if !tokens.space() {
        return Ok(None);
    }
    let Token::List(params) = tokens.token()? else {
        return Err("Expected CREATE parameters");
    };
    if !tokens.at_end() {
        return Err("Unexpected data after CREATE parameters");
    }
    let mut uses = Vec::new();
    let mut params = params.iter();
    while let Some(param) = params.next() {
        match (word(param).as_deref(), params.next()) {
            (Some("USE"), Some(Token::List(attrs))) => {
                for attr in attrs {
                    uses.push(word(attr).ok_or("Bad USE attribute")?);
                }
            }
            _ => return Err("Unknown CREATE parameter"),
        }
    }
    let name = string_bytes(&name).ok_or("Bad mailbox name")?;
    let mut out = Vec::new();
    head(&mut out);
    out.push(b' ');
    write_string(&mut out, name);
    out.extend_from_slice(b"\r\n");
    Ok(Some((out, Extension::CreateUse(uses))))
}

fn list(tokens: &mut Tokens<'_>, head: impl Fn(&mut Vec<u8>)) -> Rewritten {
    if !tokens.space() {
        return Ok(None);
    }
    let mut options = ListOptions::default();
    let mut extended = false;
    let mut reference = tokens.token()?;
    if let Token::List(selection) = &reference {
        extended = true;
        for option in selection {
            match word(option).as_deref() {
                Some("SUBSCRIBED") => options.select_subscribed = true,
                Some("SPECIAL-USE") => options.select_special_use = true,
                Some("RECURSIVEMATCH") => options.recursive_match = true,
                // We have no remote mailboxes (RFC 5258 3.1).
                Some("REMOTE") => {}
                _ => return Err("Unknown LIST selection option"),
            }
        }
        if options.recursive_match && !options.select_subscribed && !options.select_special_use {
            return Err("RECURSIVEMATCH needs another selection option");
        }
        if !tokens.space() {
            return Err("Missing LIST reference");
        }
        reference = tokens.token()?;
    }
    if !tokens.space() {
        return Ok(None);
    }
    match tokens.token()? {
        Token::List(patterns) => {
            extended = true;
            for pattern in &patterns {
                options
                    .patterns
                    .push(string_bytes(pattern).ok_or("Bad pattern")?.to_vec());
            }
            if options.patterns.is_empty() {
                return Err("Empty pattern list");
            }
        }
        pattern => options
            .patterns
            .push(string_bytes(&pattern).ok_or("Bad pattern")?.to_vec()),
    }
    if tokens.space() {
        extended = true;
        if word(&tokens.token()?).as_deref() != Some("RETURN") || !tokens.space() {
            return Err("Expected RETURN");
        }
        let Token::List(returns) = tokens.token()? else {
            return Err("Expected RETURN options");
        };
        let mut returns = returns.iter();
        while let Some(option) = returns.next() {
            match word(option).as_deref() {
                Some("SUBSCRIBED") => options.return_subscribed = true,
                // Both are always reported.
                Some("CHILDREN" | "SPECIAL-USE") => {}
                Some("STATUS") => {
                    let Some(Token::List(items)) = returns.next() else {
                        return Err("Expected STATUS items");
                    };
                    let items: Option<Vec<String>> = items.iter().map(word).collect();
                    options.return_status = Some(items.ok_or("Bad STATUS item")?);
                }
                _ => return Err("Unknown LIST return option"),
            }
        }
    }
    if !tokens.at_end() {
        return Err("Unexpected data after LIST");
    }
    if !extended {
        return Ok(None);
    }
    let mut out = Vec::new();
    head(&mut out);
    out.push(b' ');
    write_string(&mut out, string_bytes(&reference).ok_or("Bad reference")?);
    out.push(b' ');
    write_string(&mut out, &options.patterns[0]);
    out.extend_from_slice(b"\r\n");
    Ok(Some((out, Extension::List(options))))
}

fn search(tokens: &mut Tokens<'_>, head: impl Fn(&mut Vec<u8>)) -> Rewritten {
    if !tokens.space() {
        return Ok(None);
    }
    let start = tokens.at;
    let returns = match tokens.token() {
        Ok(keyword) if word(&keyword).as_deref() == Some("RETURN") => {
            if !tokens.space() {
                return Err("Expected RETURN options");
            }
            let Token::List(options) = tokens.token()? else {
                return Err("Expected RETURN options");
            };
            let mut wanted = Vec::new();
            for option in &options {
                match word(option).as_deref() {
                    // SAVE: RFC 5182 SEARCHRES.
                    Some(o @ ("MIN" | "MAX" | "ALL" | "COUNT" | "SAVE")) => {
                        wanted.push(o.to_string())
                    }
                    _ => return Err("Unknown SEARCH return option"),
                }
            }
            // RFC 4731 3.1: RETURN () means RETURN (ALL).
            if wanted.is_empty() {
                wanted.push("ALL".into());
            }
            if !tokens.space() {
                return Err("Expected search criteria");
            }
            Some(wanted)
        }
        _ => {
            tokens.at = start;
            None
        }
    };
    let criteria_at = tokens.at;
    let shallow = criteria(tokens).and_then(crate::search_depth::shallow_criteria);
    if returns.is_none() && shallow.is_none() {
        return Ok(None);
    }
    let mut out = Vec::new();
    head(&mut out);
    out.push(b' ');
    match shallow {
        Some(criteria) => {
            out.extend_from_slice(&criteria);
            out.extend_from_slice(b"\r\n");
        }
        // The criteria follow as sent.
        None => out.extend_from_slice(&tokens.bytes[criteria_at..]),
    }
    Ok(Some((
        out,
        returns.map_or(Extension::None, Extension::SearchReturn),
    )))
}

/// The rest of the command as tokens, or None if it cannot be read so.
fn criteria(tokens: &mut Tokens<'_>) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    loop {
        out.push(tokens.token().ok()?);
        if tokens.at_end() {
            return Some(out);
        }
        if !tokens.space() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(input: &str) -> (String, Extension) {
        let (bytes, ext) = rewrite(input.as_bytes()).unwrap().unwrap();
        (String::from_utf8(bytes).unwrap(), ext)
    }

    #[test]
    fn base_forms_pass_through() {
        for input in [
            "a LIST \"\" *\r\n",
            "a CREATE Foo\r\n",
            "a SEARCH ALL\r\n",
            "a UID FETCH 1:* FLAGS\r\n",
            "a UID SEARCH UNSEEN\r\n",
        ] {
            assert_eq!(rewrite(input.as_bytes()), Ok(None), "{input}");
        }
    }

    #[test]
    fn endless_nesting_is_refused_not_recursed_into() {
        // A hundred thousand open lists where a tag or a SEARCH key goes:
        // refused, and the stack survives.
        let deep = format!("{}\r\n", "(".repeat(100_000));
        assert_eq!(rewrite(deep.as_bytes()), Ok(None));
        let search = format!("a SEARCH {}ALL\r\n", "(".repeat(100_000));
        assert_eq!(rewrite(search.as_bytes()), Ok(None));
        let status = format!("a STATUS INBOX {}\r\n", "(".repeat(100_000));
        assert!(rewrite(status.as_bytes()).is_err());
    }

    #[test]
    fn append_utf8_becomes_a_plain_literal8() {
        let (cmd, ext) = rewritten(
            "a APPEND Sent (\\Seen) \"05-Jan-2026 10:00:00 +0000\" UTF8 (~{5}\r\nHallo)\r\n",
        );
        assert_eq!(
            cmd,
            "a APPEND {4+}\r\nSent (\\Seen) \"05-Jan-2026 10:00:00 +0000\" ~{5+}\r\nHallo\r\n"
        );
        assert_eq!(ext, Extension::Utf8Append);
        assert_eq!(rewrite(b"a APPEND INBOX {5}\r\nHallo\r\n"), Ok(None));
        assert!(rewrite(b"a APPEND INBOX UTF8 ({5}\r\nHallo)\r\n").is_err());
    }

    #[test]
    fn create_with_use() {
        let (cmd, ext) = rewritten("t1 CREATE \"Old mail\" (USE (\\Archive))\r\n");
        assert_eq!(cmd, "t1 CREATE {8+}\r\nOld mail\r\n");
        assert_eq!(ext, Extension::CreateUse(vec!["\\ARCHIVE".into()]));
        assert!(rewrite(b"t1 CREATE Foo (COLOR red)\r\n").is_err());
    }

    #[test]
    fn list_extended_forms() {
        let (cmd, ext) = rewritten(
            "x LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX\" Work/%) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
        );
        assert_eq!(cmd, "x LIST {0+}\r\n {5+}\r\nINBOX\r\n");
        let Extension::List(o) = ext else {
            panic!("not a list")
        };
        assert!(o.select_subscribed && o.recursive_match && !o.return_subscribed);
        assert_eq!(o.patterns, vec![b"INBOX".to_vec(), b"Work/%".to_vec()]);
        assert_eq!(
            o.return_status,
            Some(vec!["MESSAGES".into(), "UNSEEN".into()])
        );
        let (_, ext) = rewritten("x LIST \"\" {1}\r\n* RETURN (SUBSCRIBED)\r\n");
        let Extension::List(o) = ext else {
            panic!("not a list")
        };
        assert!(o.return_subscribed);
        assert_eq!(o.patterns, vec![b"*".to_vec()]);
        assert!(rewrite(b"x LIST (RECURSIVEMATCH) \"\" *\r\n").is_err());
        assert!(rewrite(b"x LIST (BOGUS) \"\" *\r\n").is_err());
    }

    #[test]
    fn search_return() {
        let (cmd, ext) = rewritten("s UID SEARCH RETURN (MIN COUNT) UNSEEN FROM \"bob\"\r\n");
        assert_eq!(cmd, "s UID SEARCH UNSEEN FROM \"bob\"\r\n");
        assert_eq!(
            ext,
            Extension::SearchReturn(vec!["MIN".into(), "COUNT".into()])
        );
        let (_, ext) = rewritten("s SEARCH RETURN () ALL\r\n");
        assert_eq!(ext, Extension::SearchReturn(vec!["ALL".into()]));
        let (_, ext) = rewritten("s SEARCH RETURN (SAVE) ALL\r\n");
        assert_eq!(ext, Extension::SearchReturn(vec!["SAVE".into()]));
        assert!(rewrite(b"s SEARCH RETURN (FIRST) ALL\r\n").is_err());
        assert!(rewrite(b"s SEARCH RETURN ALL\r\n").is_err());
    }
}
