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
        if ends_with_tracking_id(subject) {
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

/// Mass mailers number their subjects to get past filters: `Hi   4471`,
/// `Your offer [X7Q29]`.
fn ends_with_tracking_id(subject: &str) -> bool {
    let trimmed = subject.trim_end();
    let Some((before, last)) = trimmed.rsplit_once(char::is_whitespace) else {
        return false;
    };
    let last = last.trim_matches(|c: char| matches!(c, '[' | ']' | '(' | ')' | '#' | '-' | '_'));
    let digits = last.chars().filter(char::is_ascii_digit).count();
    let letters = last.chars().filter(char::is_ascii_alphabetic).count();
    if digits < 3 || !last.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let spaced = before.ends_with(char::is_whitespace);
    spaced || (letters > 0 && digits > 0 && last.len() >= 5) || digits >= 5
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
/// List-Unsubscribe header every legitimate sender now uses.
fn tells_how_to_unsubscribe(text: &str) -> bool {
    let lower = text.to_lowercase();
    let asks = [
        "remove",
        "unsubscribe",
        "opt-out",
        "opt out",
        "taken off",
        "no longer wish",
    ]
    .iter()
    .any(|w| lower.contains(w));
    asks && [
        "this e-mail",
        "this email",
        "this message",
        "our list",
        "mailing list",
        "our database",
        "future mailings",
        "future e-mail",
        "future email",
        "future offers",
    ]
    .iter()
    .any(|w| lower.contains(w))
}
