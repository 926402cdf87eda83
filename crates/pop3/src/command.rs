//! POP3 command lines (RFC 1939 3: keyword, then arguments).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(String),
    /// AUTH mechanism [initial-response] (RFC 5034).
    Auth(String, Option<String>),
    /// AUTH alone: the mechanisms, as older clients ask (RFC 1734).
    AuthMechanisms,
    Stat,
    List(Option<usize>),
    Uidl(Option<usize>),
    Retr(usize),
    Top(usize, usize),
    Dele(usize),
    Rset,
    Noop,
    Quit,
}

/// Parses a line without its CRLF; the error is the text of the `-ERR`.
pub fn parse(line: &[u8]) -> Result<Command, &'static str> {
    let line = std::str::from_utf8(line).map_err(|_| "Invalid characters in command")?;
    let (keyword, rest) = line.split_once(' ').unwrap_or((line, ""));
    let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
    let number = |i: usize| -> Result<usize, &'static str> {
        args.get(i)
            .and_then(|a| a.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or("Invalid message number")
    };
    let optional = || -> Result<Option<usize>, &'static str> {
        if args.is_empty() {
            Ok(None)
        } else {
            number(0).map(Some)
        }
    };
    let keyword = keyword.to_ascii_uppercase();
    // RFC 1939 3: each command takes the arguments it names, no more.
    let most = match keyword.as_str() {
        "CAPA" | "STLS" | "STAT" | "RSET" | "NOOP" | "QUIT" => 0,
        "LIST" | "UIDL" | "RETR" | "DELE" => 1,
        "TOP" | "AUTH" => 2,
        _ => usize::MAX,
    };
    if args.len() > most {
        return Err("Too many arguments");
    }
    Ok(match keyword.as_str() {
        "CAPA" => Command::Capa,
        "STLS" => Command::Stls,
        // The password may contain spaces: everything after "PASS ".
        "USER" if !rest.is_empty() => Command::User(rest.to_string()),
        "PASS" => Command::Pass(rest.to_string()),
        "AUTH" if !args.is_empty() => Command::Auth(
            args[0].to_ascii_uppercase(),
            args.get(1).map(|s| s.to_string()),
        ),
        "STAT" => Command::Stat,
        "LIST" => Command::List(optional()?),
        "UIDL" => Command::Uidl(optional()?),
        "RETR" => Command::Retr(number(0)?),
        "TOP" => {
            // RFC 1939 7: any non-negative number of lines; more than
            // the body has is the whole body.
            let lines = args
                .get(1)
                .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
                .map(|a| a.parse().unwrap_or(usize::MAX))
                .ok_or("Syntax: TOP msg lines")?;
            Command::Top(number(0)?, lines)
        }
        "DELE" => Command::Dele(number(0)?),
        "RSET" => Command::Rset,
        "NOOP" => Command::Noop,
        "QUIT" => Command::Quit,
        "AUTH" => Command::AuthMechanisms,
        "USER" => return Err("Missing argument"),
        _ => return Err("Unknown command"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let cases: Vec<(&str, Result<Command, &str>)> = vec![
            (
                "USER bob@example.test",
                Ok(Command::User("bob@example.test".into())),
            ),
            (
                "pass secret with spaces",
                Ok(Command::Pass("secret with spaces".into())),
            ),
            ("STAT", Ok(Command::Stat)),
            ("LIST", Ok(Command::List(None))),
            ("LIST 2", Ok(Command::List(Some(2)))),
            ("LIST 0", Err("Invalid message number")),
            ("LIST x", Err("Invalid message number")),
            ("UIDL 1", Ok(Command::Uidl(Some(1)))),
            ("RETR 3", Ok(Command::Retr(3))),
            ("RETR", Err("Invalid message number")),
            ("TOP 1 10", Ok(Command::Top(1, 10))),
            (
                "TOP 1 99999999999999999999",
                Ok(Command::Top(1, usize::MAX)),
            ),
            ("TOP 1", Err("Syntax: TOP msg lines")),
            ("DELE 1", Ok(Command::Dele(1))),
            (
                "AUTH plain AGJvYgBzZWNyZXQ=",
                Ok(Command::Auth(
                    "PLAIN".into(),
                    Some("AGJvYgBzZWNyZXQ=".into()),
                )),
            ),
            ("AUTH", Ok(Command::AuthMechanisms)),
            ("USER", Err("Missing argument")),
            ("STLS now", Err("Too many arguments")),
            ("LIST 1 2", Err("Too many arguments")),
            ("RETR 1 extra", Err("Too many arguments")),
            ("capa", Ok(Command::Capa)),
            ("XYZZY", Err("Unknown command")),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line.as_bytes()), expected, "{line}");
        }
        assert_eq!(parse(b"\xff"), Err("Invalid characters in command"));
    }
}
