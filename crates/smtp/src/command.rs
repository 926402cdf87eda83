//! SMTP command parsing (RFC 5321 4.1, with RFC 1870 SIZE, RFC 6152
//! 8BITMIME, RFC 6531 SMTPUTF8 and RFC 3030 CHUNKING parameters).

use crate::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    Mail(MailFrom),
    Rcpt(String),
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Help,
    Vrfy,
    Expn,
    StartTls,
    /// RFC 4954: the mechanism (upper-case) and an optional initial response.
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailFrom {
    /// The reverse-path; empty for the null sender `<>`.
    pub address: String,
    pub size: Option<u64>,
    pub eight_bit: bool,
    pub smtputf8: bool,
    /// Any parameter was given (extensions need EHLO, RFC 1869 4).
    pub parameters: bool,
}

/// RFC 5321 4.5.3.1: 64 octets of local part, 255 of domain, 256 of path.
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 255;
const MAX_PATH: usize = 256;

fn syntax(usage: &str) -> Reply {
    Reply::new(501, "5.5.4", format!("Syntax: {usage}"))
}

/// Parses one command line (without its CRLF).
pub fn parse(line: &[u8]) -> Result<Command, Reply> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Err(Reply::new(
            500,
            "5.5.2",
            "Error: invalid characters in command",
        ));
    };
    let (verb, rest) = match line.split_once(' ') {
        Some((v, r)) => (v, r.trim()),
        None => (line.trim_end(), ""),
    };
    match verb.to_ascii_uppercase().as_str() {
        "EHLO" | "HELO" => {
            let name = rest.split_whitespace().next().unwrap_or("");
            if name.is_empty() {
                return Err(syntax(&format!("{} hostname", verb.to_ascii_uppercase())));
            }
            Ok(if verb.eq_ignore_ascii_case("EHLO") {
                Command::Ehlo(name.to_string())
            } else {
                Command::Helo(name.to_string())
            })
        }
        "MAIL" => parse_mail(rest),
        "RCPT" => parse_rcpt(rest),
        "DATA" => no_argument(rest, Command::Data, "DATA"),
        "BDAT" => parse_bdat(rest),
        "RSET" => no_argument(rest, Command::Rset, "RSET"),
        "NOOP" => Ok(Command::Noop), // RFC 5321 4.1.1.9: a parameter is ignored
        "QUIT" => no_argument(rest, Command::Quit, "QUIT"),
        "HELP" => Ok(Command::Help),
        // RFC 5321 4.1.1.6: "VRFY" SP String.
        "VRFY" if rest.trim().is_empty() => Err(syntax("VRFY <address>")),
        "VRFY" => Ok(Command::Vrfy),
        "EXPN" => Ok(Command::Expn),
        "STARTTLS" => no_argument(rest, Command::StartTls, "STARTTLS"),
        "AUTH" => {
            let mut words = rest.split_whitespace();
            let Some(mechanism) = words.next() else {
                return Err(syntax("AUTH mechanism [initial-response]"));
            };
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(syntax("AUTH mechanism [initial-response]"));
            }
            Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial,
            })
        }
        _ => Err(Reply::new(500, "5.5.2", "Error: command not recognized")),
    }
}

fn no_argument(rest: &str, command: Command, usage: &str) -> Result<Command, Reply> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(syntax(usage))
    }
}

/// Strips `KEYWORD:` (case-insensitive), tolerating spaces after the colon
/// as many clients send them.
fn after_keyword<'a>(rest: &'a str, keyword: &str) -> Option<&'a str> {
    let head = rest.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| rest[keyword.len()..].trim_start())
}

fn parse_mail(rest: &str) -> Result<Command, Reply> {
    const USAGE: &str = "MAIL FROM:<address>";
    let after = after_keyword(rest, "FROM:").ok_or_else(|| syntax(USAGE))?;
    let (path, params) = split_path(after).ok_or_else(|| syntax(USAGE))?;
    let mut mail = MailFrom {
        address: parse_path(path, true).map_err(|r| r.unwrap_or_else(|| syntax(USAGE)))?,
        ..MailFrom::default()
    };
    for param in params.split_whitespace() {
        mail.parameters = true;
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => {
                // RFC 1870 5: size-value = 1*20DIGIT; one past u64 is too
                // large for any limit, not malformed.
                let size = match v.parse::<u64>() {
                    Ok(size) => size,
                    Err(_)
                        if (1..=20).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        u64::MAX
                    }
                    Err(_) => return Err(Reply::new(501, "5.5.4", "Bad SIZE parameter")),
                };
                mail.size = Some(size);
            }
            // RFC 1870 6: SIZE without its number is a syntax error.
            ("SIZE", None) => return Err(Reply::new(501, "5.5.4", "Bad SIZE parameter")),
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => mail.eight_bit = true,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => mail.eight_bit = false,
            ("SMTPUTF8", None) => mail.smtputf8 = true,
            // RFC 4954 5: the submitter's identity, which we take from AUTH.
            ("AUTH", Some(_)) => {}
            _ => {
                return Err(Reply::new(
                    555,
                    "5.5.4",
                    format!("Unsupported parameter {key}"),
                ));
            }
        }
    }
    Ok(Command::Mail(mail))
}

fn parse_rcpt(rest: &str) -> Result<Command, Reply> {
    const USAGE: &str = "RCPT TO:<address>";
    let after = after_keyword(rest, "TO:").ok_or_else(|| syntax(USAGE))?;
    let (path, params) = split_path(after).ok_or_else(|| syntax(USAGE))?;
    if let Some(param) = params.split_whitespace().next() {
        return Err(Reply::new(
            555,
            "5.5.4",
            format!("Unsupported parameter {param}"),
        ));
    }
    let address = parse_path(path, false).map_err(|r| r.unwrap_or_else(|| syntax(USAGE)))?;
    Ok(Command::Rcpt(address))
}

fn parse_bdat(rest: &str) -> Result<Command, Reply> {
    const USAGE: &str = "BDAT size [LAST]";
    let mut words = rest.split_whitespace();
    let size = words
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| syntax(USAGE))?;
    let last = match words.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(syntax(USAGE)),
    };
    if words.next().is_some() {
        return Err(syntax(USAGE));
    }
    Ok(Command::Bdat { size, last })
}

/// Splits `<path> params` at the `>` that closes the path, skipping any
/// `>` inside a quoted local part.
fn split_path(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('<')?;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => return Some((&inner[..i], inner[i + 1..].trim())),
            _ => {}
        }
    }
    None
}

/// Checks a path's mailbox; `Err(None)` means plain bad syntax.
fn parse_path(path: &str, null_allowed: bool) -> Result<String, Option<Reply>> {
    if path.is_empty() {
        return if null_allowed {
            Ok(String::new())
        } else {
            Err(None)
        };
    }
    if path.len() > MAX_PATH {
        return Err(Some(Reply::new(501, "5.1.3", "Path too long")));
    }
    // RFC 5321 4.1.1.3: a source route is accepted and ignored.
    let mailbox = match path.strip_prefix('@') {
        Some(routed) => routed.split_once(':').ok_or(None)?.1,
        None => path,
    };
    if !null_allowed && mailbox.eq_ignore_ascii_case("postmaster") {
        return Ok("postmaster".into());
    }
    let (local, domain) = mailbox.rsplit_once('@').ok_or(None)?;
    if local.is_empty() || domain.is_empty() || domain.len() > MAX_DOMAIN {
        return Err(Some(Reply::new(501, "5.1.3", "Bad address syntax")));
    }
    if local.len() > MAX_LOCAL {
        return Err(Some(Reply::new(501, "5.1.3", "Local part too long")));
    }
    let local_ok = if local.starts_with('"') {
        local.len() >= 2 && local.ends_with('"')
    } else {
        !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_ascii_control() && !" ()<>,;:\\\"[]@".contains(c))
    };
    let domain_ok = if domain.starts_with('[') {
        domain.ends_with(']')
    } else {
        domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
    };
    if !local_ok || !domain_ok {
        return Err(Some(Reply::new(501, "5.1.3", "Bad address syntax")));
    }
    Ok(match unquoted(local) {
        Some(plain) => format!("{plain}@{domain}"),
        None => mailbox.to_string(),
    })
}

/// A quoted local part that needs no quotes (`"alice"`, `"al\ice"`) as
/// the plain one it means: RFC 5321 4.1.2 makes the quoting transport
/// syntax, so both name one mailbox. None when it is not quoted or the
/// quotes are needed.
fn unquoted(local: &str) -> Option<String> {
    let inner = local.strip_prefix('"')?.strip_suffix('"')?;
    let mut plain = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        plain.push(if c == '\\' { chars.next()? } else { c });
    }
    let dot_atom = !plain.is_empty()
        && !plain.starts_with('.')
        && !plain.ends_with('.')
        && !plain.contains("..")
        && plain
            .chars()
            .all(|c| !c.is_ascii_control() && !" ()<>,;:\\\"[]@".contains(c));
    dot_atom.then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_a_local_part_does_not_need_are_dropped() {
        assert_eq!(
            parse_path("\"alice\"@example.test", false).ok().as_deref(),
            Some("alice@example.test")
        );
        assert_eq!(
            parse_path("\"al\\ice\"@example.test", false)
                .ok()
                .as_deref(),
            Some("alice@example.test")
        );
        assert_eq!(
            parse_path("\"john smith\"@example.test", false)
                .ok()
                .as_deref(),
            Some("\"john smith\"@example.test")
        );
    }

    fn mail(address: &str) -> Command {
        Command::Mail(MailFrom {
            address: address.into(),
            ..MailFrom::default()
        })
    }

    #[test]
    fn commands_parse() {
        let cases: Vec<(&str, Result<Command, u16>)> = vec![
            (
                "EHLO client.example",
                Ok(Command::Ehlo("client.example".into())),
            ),
            ("ehlo [192.0.2.1]", Ok(Command::Ehlo("[192.0.2.1]".into()))),
            ("HELO x", Ok(Command::Helo("x".into()))),
            ("EHLO", Err(501)),
            ("MAIL FROM:<a@b.example>", Ok(mail("a@b.example"))),
            ("mail from: <a@b.example>", Ok(mail("a@b.example"))),
            ("MAIL FROM:<>", Ok(mail(""))),
            (
                "MAIL FROM:<@relay.example:a@b.example>",
                Ok(mail("a@b.example")),
            ),
            (
                "MAIL FROM:<\"john doe\"@b.example>",
                Ok(mail("\"john doe\"@b.example")),
            ),
            ("MAIL FROM:a@b.example", Err(501)),
            ("MAIL FROM:<a@b.example", Err(501)),
            ("MAIL TO:<a@b.example>", Err(501)),
            ("MAIL FROM:<a@b.example> FOO=1", Err(555)),
            ("MAIL FROM:<a@b.example> SIZE=x", Err(501)),
            ("MAIL FROM:<a..b@b.example>", Err(501)),
            (
                "RCPT TO:<User@Example.test>",
                Ok(Command::Rcpt("User@Example.test".into())),
            ),
            (
                "RCPT TO:<Postmaster>",
                Ok(Command::Rcpt("postmaster".into())),
            ),
            ("RCPT TO:<>", Err(501)),
            (
                "AUTH plain AGJvYgBwdw==",
                Ok(Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial: Some("AGJvYgBwdw==".into()),
                }),
            ),
            (
                "AUTH LOGIN",
                Ok(Command::Auth {
                    mechanism: "LOGIN".into(),
                    initial: None,
                }),
            ),
            ("AUTH", Err(501)),
            (
                "MAIL FROM:<a@b.example> AUTH=<>",
                Ok(Command::Mail(MailFrom {
                    parameters: true,
                    ..MailFrom {
                        address: "a@b.example".into(),
                        ..MailFrom::default()
                    }
                })),
            ),
            ("RCPT TO:<a@b.example> NOTIFY=NEVER", Err(555)),
            ("RCPT TO:<nodomain>", Err(501)),
            ("DATA", Ok(Command::Data)),
            ("DATA now", Err(501)),
            (
                "BDAT 100",
                Ok(Command::Bdat {
                    size: 100,
                    last: false,
                }),
            ),
            (
                "BDAT 0 LAST",
                Ok(Command::Bdat {
                    size: 0,
                    last: true,
                }),
            ),
            ("BDAT x", Err(501)),
            ("BDAT 1 FIRST", Err(501)),
            ("NOOP anything", Ok(Command::Noop)),
            ("QUIT", Ok(Command::Quit)),
            ("STARTTLS", Ok(Command::StartTls)),
            ("STARTTLS now", Err(501)),
            ("FOO", Err(500)),
            ("", Err(500)),
        ];
        for (line, expected) in cases {
            let got = parse(line.as_bytes()).map_err(|r| r.code);
            assert_eq!(got, expected, "line {line:?}");
        }
    }

    #[test]
    fn mail_parameters_parse() {
        let got = parse(b"MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8").unwrap();
        assert_eq!(
            got,
            Command::Mail(MailFrom {
                address: "a@b.example".into(),
                size: Some(1000),
                eight_bit: true,
                smtputf8: true,
                parameters: true,
            })
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b.example> SIZE").unwrap_err().code,
            501
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b.example> BODY=BINARYMIME")
                .unwrap_err()
                .code,
            555
        );
    }

    #[test]
    fn utf8_addresses_parse_and_garbage_does_not() {
        assert_eq!(
            parse("RCPT TO:<jöran@bücher.example>".as_bytes()).unwrap(),
            Command::Rcpt("jöran@bücher.example".into())
        );
        assert_eq!(parse(b"RCPT TO:<\xff@x>").unwrap_err().code, 500);
        let long = format!("RCPT TO:<{}@example.test>", "a".repeat(65));
        assert_eq!(parse(long.as_bytes()).unwrap_err().code, 501);
    }
}
