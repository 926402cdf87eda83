//! Domain names as organisations own them.

/// The domain an organisation registered: the last two labels, or three
/// under a country's second level (`example.co.uk`).
pub fn registered(name: &str) -> &str {
    let name = name.trim_end_matches('.');
    let labels: Vec<&str> = name.rsplitn(4, '.').collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..]
            if tld.len() == 2
                && matches!(
                    *second,
                    "co" | "com"
                        | "net"
                        | "org"
                        | "ac"
                        | "edu"
                        | "gov"
                        | "gouv"
                        | "go"
                        | "ne"
                        | "or"
                        | "gob"
                        | "ltd"
                        | "plc"
                        | "me"
                        | "sch"
                        | "nhs"
                        | "mil"
                        | "nic"
                        | "gv"
                        | "lg"
                        | "ed"
                ) =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return name;
    }
    let cut: usize = labels[..keep].iter().map(|l| l.len() + 1).sum();
    &name[name.len() + 1 - cut..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domains() {
        assert_eq!(registered("mail.example.com"), "example.com");
        assert_eq!(registered("example.com"), "example.com");
        assert_eq!(registered("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registered("example.co.uk"), "example.co.uk");
        assert_eq!(registered("localhost"), "localhost");
    }
}
