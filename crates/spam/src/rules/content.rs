//! The shape of the subject and the text: shouting, punctuation, empty
//! messages, HTML-only mail, invisible text, images instead of text.

use super::Hit;
use crate::message::View;

fn letters(text: &str) -> (usize, usize) {
    text.chars()
        .filter(|c| c.is_alphabetic())
        .fold((0, 0), |(all, upper), c| {
            (all + 1, upper + usize::from(c.is_uppercase()))
        })
}

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    if let Some(subject) = view.subject.as_deref() {
        let (all, upper) = letters(subject);
        if all >= 10 && upper * 10 >= all * 9 {
            hits.push("SUBJ_ALL_CAPS");
        }
        if subject.contains("!!") || subject.contains("??") || subject.contains("$$") {
            hits.push("SUBJ_EXCESS_PUNCT");
        }
        if subject.contains('$') || subject.contains('€') || subject.contains('£') {
            hits.push("SUBJ_MONEY");
        }
        if padded(subject) {
            hits.push("SUBJ_PADDED");
        } else if ends_with_tracking_id(subject) {
            hits.push("SUBJ_TRACKING_ID");
        }
    }
    let text = view.text.trim();
    let (all, upper) = letters(text);
    if all >= 100 && upper * 2 >= all {
        hits.push("BODY_MOSTLY_CAPS");
    }
    if text.matches("!!!").count() >= 2 {
        hits.push("BODY_EXCESS_EXCLAIM");
    }
    if money_amounts(text) >= 3 {
        hits.push("BODY_MONEY_AMOUNTS");
    }
    if !view.list_unsubscribe
        && !view.header_names.iter().any(|n| n == "list-id")
        && tells_how_to_unsubscribe(text)
    {
        hits.push("UNSUB_TEXT_NO_HEADER");
    }
    // A text cut at the size the filter reads ends anywhere.
    if view.text.len() < crate::message::MAX_TEXT && ends_with_random_token(text) {
        hits.push("BODY_TAIL_TOKEN");
    }
    if text.is_empty() && view.attachments.is_empty() && view.images == 0 {
        hits.push("EMPTY_BODY");
    }
    if view.has_html && !view.has_plain {
        hits.push("HTML_ONLY");
    }
    if view.has_html && view.images > 0 && all < 200 {
        hits.push("HTML_IMAGE_ONLY");
    }
    if view.has_html && hides_text(&view.html) {
        hits.push("HTML_INVISIBLE_TEXT");
    }
}

/// A last line that is one string of letters and digits (`xay2158961y`):
/// a mass mailer's per-copy token, making each copy differ from the next
/// (so checksums of known spam miss it) or naming the recipient. Short
/// ones (a radio call sign under a name) and hex ones (a commit, an id)
/// are something else.
fn ends_with_random_token(text: &str) -> bool {
    let Some(last) = text.lines().rev().map(str::trim).find(|l| !l.is_empty()) else {
        return false;
    };
    let count = |f: fn(&char) -> bool| last.chars().filter(f).count();
    (8..=24).contains(&last.len())
        && last.chars().all(|c| c.is_ascii_alphanumeric())
        && !last.chars().all(|c| c.is_ascii_hexdigit())
        && count(char::is_ascii_alphabetic) >= 2
        && count(char::is_ascii_digit) >= 2
}

/// Styles that hide text from the reader but not from a filter.
fn hides_text(html: &str) -> bool {
    let compact: String = html
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    [
        "display:none",
        "visibility:hidden",
        "font-size:0;",
        "font-size:0px",
        "font-size:1px",
        "opacity:0;",
    ]
    .iter()
    .any(|s| compact.contains(s))
        || compact.contains("font-size:0\"")
}

/// Mass mailers number their subjects to get past filters: `Hi   4471`
/// (set apart by extra spaces), `Your offer 23jk8q` (letters and digits
/// shuffled). Ticket, order and bug numbers (`Bug 123456`, `INV12345`)
/// are neither.
/// Eight blanks or more between words: what follows is pushed out of the
/// reader's sight, usually a tag that differs in every copy to defeat
/// checksums. Mail programs write one blank between words (folding is
/// undone before this, RFC 5322 2.2.3).
fn padded(subject: &str) -> bool {
    let trimmed = subject.trim();
    let mut run = 0;
    trimmed.chars().any(|c| {
        if c == ' ' || c == '\t' {
            run += 1;
            false
        } else {
            let hidden = run >= 8;
            run = 0;
            hidden
        }
    })
}

fn ends_with_tracking_id(subject: &str) -> bool {
    let trimmed = subject.trim_end();
    let Some((before, last)) = trimmed.rsplit_once(char::is_whitespace) else {
        return false;
    };
    let last = last.trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | '#' | '-' | '_'));
    let digits = last.chars().filter(char::is_ascii_digit).count();
    if digits < 3 || !last.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let spaced = before.ends_with(char::is_whitespace);
    // Letter-digit changes: `INV12345` has one, `23jk8q` three.
    let changes = last
        .as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    spaced || changes >= 3
}

/// How many dollar amounts the text names (`$5`, `$ 1,000`).
fn money_amounts(text: &str) -> usize {
    text.match_indices('$')
        .filter(|(at, _)| {
            text[at + 1..]
                .trim_start_matches(' ')
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .count()
}

/// Removal instructions in the text itself ("to be removed from our
/// list, reply with REMOVE"): bulk mail that does not carry the
/// List-Unsubscribe header every legitimate sender now uses. The request
/// and what it is about must be close together (one sentence or so), not
/// anywhere in a long text.
fn tells_how_to_unsubscribe(text: &str) -> bool {
    const ASKS: &[&str] = &[
        "remove",
        "unsubscribe",
        "opt-out",
        "opt out",
        "taken off",
        "no longer wish",
    ];
    const ABOUT: &[&str] = &[
        "this e-mail",
        "this email",
        "this message",
        "this list",
        "our list",
        "mailing list",
        "our database",
        "future mailings",
        "future e-mail",
        "future email",
        "future offers",
        "further mailings",
        "further e-mail",
        "further email",
    ];
    const NEAR: usize = 120;
    let lower = text.to_lowercase();
    ASKS.iter().any(|ask| {
        lower.contains(ask)
            && super::phrase_positions(&lower, ask).any(|at| {
                let mut start = at.saturating_sub(NEAR);
                while !lower.is_char_boundary(start) {
                    start -= 1;
                }
                let window = super::head(&lower[start..], 2 * NEAR + ask.len());
                ABOUT.iter().any(|about| window.contains(about))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_ids_but_not_ticket_numbers() {
        assert!(ends_with_tracking_id("Hi   4471"));
        assert!(ends_with_tracking_id("Your offer 23jk8q"));
        assert!(!ends_with_tracking_id("Bug 123456"));
        assert!(!ends_with_tracking_id("Invoice INV12345"));
        assert!(!ends_with_tracking_id("Your ticket [#123456]"));
    }

    #[test]
    fn padding_hides_a_tag_but_folding_does_not_count() {
        assert!(padded("Lose weight now                      XAXFT"));
        assert!(padded("Rates\t\t\t\t\t\t\t\tare down"));
        assert!(!padded("Meeting  notes,   Tuesday"));
        assert!(!padded("Trailing blanks only           "));
        // A long subject folded onto an indented line reads as one line.
        let folded = "Subject: A rather long subject line that a mail program\r\n        folds onto a second line\r\n\r\nhi\r\n";
        let subject = View::parse(folded.as_bytes()).subject.unwrap_or_default();
        assert!(!padded(&subject), "{subject:?}");
    }

    #[test]
    fn a_token_on_the_last_line() {
        assert!(ends_with_random_token(
            "Best regards\nSales\nxay2158961y\n\n"
        ));
        assert!(!ends_with_random_token("Best regards\nAnn"));
        assert!(!ends_with_random_token("Your code is\n482913"));
        assert!(!ends_with_random_token("See you at 10am"));
        assert!(!ends_with_random_token(""));
        assert!(!ends_with_random_token("73,\nBob\nKD2ABC"));
        assert!(!ends_with_random_token("Fixed in\n3f9a2c1d"));
    }

    #[test]
    fn removal_instructions_are_one_request() {
        assert!(tells_how_to_unsubscribe(
            "To be removed from our mailing list, reply with REMOVE."
        ));
        let apart = format!(
            "I removed the old section. {} See this message below and our list of changes.",
            "Some more words here. ".repeat(20)
        );
        assert!(!tells_how_to_unsubscribe(&apart));
    }
}
