//! The sending program: a message that names one mail program yet lacks
//! what that program always writes was made by something else pretending
//! (mass-mailing software copies the names of common programs).

use super::Hit;
use crate::message::View;

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    let mailer = view
        .header_text
        .iter()
        .find(|(name, _)| name == "x-mailer")
        .map(|(_, value)| value.to_ascii_lowercase());
    let mime_ole = view.header_names.iter().any(|n| n == "x-mimeole");
    let claims_old_outlook = mailer.as_deref().is_some_and(old_outlook);
    let microsoft = mailer
        .as_deref()
        .is_some_and(|m| m.contains("microsoft") || m.contains("outlook"));
    // Outlook Express and Outlook up to 2003 always add X-MimeOLE; they
    // (and programs on Windows' own mail library, which add X-MimeOLE
    // too) alone write Message-IDs as `hex12$hex8$hex8@host`.
    if (claims_old_outlook && !mime_ole)
        || (outlook_message_id(&view.message_id_raw) && !microsoft && !mime_ole)
        || view.boundary.as_deref().is_some_and(imitated_boundary)
    {
        hits.push("FORGED_MUA");
    }
    if view.ascii_in_base64 {
        hits.push("MIME_BASE64_TEXT");
    }
    if view.unlabelled_8bit {
        hits.push("MIME_8BIT_UNLABELLED");
    }
}

/// Outlook Express (Windows) or Outlook up to 2003 (`Outlook IMO`,
/// `Outlook, Build 10.0...`, `Office Outlook, Build 11.0...`); Outlook
/// 2007 (`Office Outlook 12.0`) and later write no X-MimeOLE.
fn old_outlook(mailer: &str) -> bool {
    if mailer.contains("macintosh") || !mailer.contains("microsoft") {
        return false;
    }
    mailer.contains("outlook express")
        || (mailer.contains("outlook") && (mailer.contains("build") || mailer.contains("imo")))
}

/// Microsoft's MIME library writes `----=_NextPart_000_0005_01C2...`:
/// its part number follows `_NextPart_`; random letters there are an
/// imitation.
fn imitated_boundary(boundary: &str) -> bool {
    let Some(rest) = boundary.strip_prefix("----=_NextPart_") else {
        return false;
    };
    let bytes = rest.as_bytes();
    !(bytes.len() > 4 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'_')
}

/// `<001c01c25a3b$2d4e5b20$0200a8c0@host>`: twelve hex digits, then two
/// groups of eight after dollar signs. (Outlook since 2007 ends its groups
/// with `$@`, which is not this.)
fn outlook_message_id(id: &str) -> bool {
    let Some(id) = id.trim().strip_prefix('<') else {
        return false;
    };
    let Some((local, _)) = id.split_once('@') else {
        return false;
    };
    let groups: Vec<&str> = local.split('$').collect();
    let hex = |g: &str, n: usize| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit());
    matches!(groups.as_slice(), [a, b, c] if hex(a, 12) && hex(b, 8) && hex(c, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(headers: &str) -> Vec<Hit> {
        let raw = format!("{headers}From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n");
        let mut hits = Vec::new();
        check(&View::parse(raw.as_bytes()), &mut hits);
        hits
    }

    #[test]
    fn outlook_without_what_outlook_writes() {
        let id = "Message-ID: <000801c25a3b$2d4e5b20$0200a8c0@pc>\r\n";
        let oe = "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\r\n";
        let ole = "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2600.0000\r\n";
        assert!(tags(&format!("{id}{oe}{ole}")).is_empty());
        assert_eq!(tags(&format!("{id}{oe}")), ["FORGED_MUA"]);
        assert_eq!(tags(id), ["FORGED_MUA"]);
        assert_eq!(
            tags(&format!("{id}X-Mailer: The Bat! (v1.52f) Business\r\n")),
            ["FORGED_MUA"]
        );
        // Outlook today: no X-MimeOLE, three groups ending `$@`.
        assert!(
            tags("Message-ID: <004801d8e7c6$5a2b1c40$0e8154c0$@example.com>\r\nX-Mailer: Microsoft Outlook 16.0\r\n")
                .is_empty()
        );
        assert!(tags("X-Mailer: Microsoft Outlook Express Macintosh Edition - 4.5\r\n").is_empty());
        // Outlook 2007: no X-MimeOLE, and that is how it is.
        assert!(
            tags("Message-ID: <000001c7a1b2$3c4d5e60$7f8a9b0c@example.com>\r\nX-Mailer: Microsoft Office Outlook 12.0\r\n")
                .is_empty()
        );
        // A program on Windows' mail library (CDO) with its own name.
        assert!(tags(&format!("{id}X-Mailer: Shop mailer 2.1\r\n{ole}")).is_empty());
        assert!(tags("X-Mailer: Mutt/1.4i\r\nMessage-ID: <20020822@host>\r\n").is_empty());
        let multipart = |boundary: &str| {
            format!(
                "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\r\n"
            )
        };
        assert!(tags(&multipart("----=_NextPart_000_0005_01C26412.7545C1D0")).is_empty());
        assert_eq!(
            tags(&multipart("----=_NextPart_vXklypZzzDWWhOFZ5e1rZ")),
            ["FORGED_MUA"]
        );
        assert!(tags(&multipart("b1")).is_empty());
    }
}
