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
    }
    let text = view.text.trim();
    let (all, upper) = letters(text);
    if all >= 100 && upper * 2 >= all {
        hits.push("BODY_MOSTLY_CAPS");
    }
    if text.matches("!!!").count() >= 2 {
        hits.push("BODY_EXCESS_EXCLAIM");
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
