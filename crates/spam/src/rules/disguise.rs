//! Words disguised to slip past filters while a reader still reads them:
//! digits and signs for letters (`v1agra`, `fr€e`), letters spaced out
//! (`v i a g r a`), and words split by HTML comments or empty tags
//! (`via<!-- x -->gra`). Nobody writes to a friend like that.

use super::Hit;
use crate::message::View;

/// Words worth disguising.
const TARGETS: &[&str] = &[
    "viagra",
    "cialis",
    "valium",
    "xanax",
    "pharmacy",
    "prescription",
    "free",
    "money",
    "cash",
    "credit",
    "mortgage",
    "casino",
    "porn",
    "sex",
    "offer",
    "million",
    "loan",
    "winner",
    "click",
    "order",
    "remove",
    "unsubscribe",
];

/// Read a disguised word the way a reader does; `1` and `|` read as
/// `i` or as `l` (`one`).
fn undisguise(word: &str, one: char) -> String {
    word.chars()
        .filter_map(|c| match c {
            '0' => Some('o'),
            '1' | '|' => Some(one),
            '!' => Some('i'),
            '3' => Some('e'),
            '4' | '@' => Some('a'),
            '5' | '$' => Some('s'),
            '7' => Some('t'),
            '€' => Some('e'),
            c if c.is_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// `v1agra`: letters and stand-ins mixed in one word that reads as a
/// target word.
fn has_substituted_word(text: &str) -> bool {
    text.split_whitespace().any(|raw| {
        // Punctuation around a word is punctuation, not a disguise.
        let raw = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let stand_ins = raw.chars().filter(|c| !c.is_alphabetic()).count();
        let letters = raw.chars().count() - stand_ins;
        letters >= 2
            && stand_ins >= 1
            && raw
                .chars()
                .all(|c| c.is_alphabetic() || "013457!|@$€".contains(c))
            && ['i', 'l']
                .iter()
                .any(|&one| TARGETS.contains(&undisguise(raw, one).as_str()))
    })
}

/// `v i a g r a`, `c-a-s-h`: single letters joined by one separator.
/// `text` is lower case.
fn has_spaced_word(text: &str) -> bool {
    for sep in [' ', '-', '.', '_', '*'] {
        let mut run = String::new();
        let mut chars = text.chars().peekable();
        let mut previous_was_letter = false;
        while let Some(c) = chars.next() {
            if c.is_alphabetic()
                && !previous_was_letter
                && chars.peek().is_none_or(|n| *n == sep || !n.is_alphabetic())
            {
                run.push(c);
                previous_was_letter = true;
                continue;
            }
            if c == sep && previous_was_letter {
                previous_was_letter = false;
                continue;
            }
            if run.chars().count() >= 4 && TARGETS.iter().any(|t| run.contains(t)) {
                return true;
            }
            run.clear();
            previous_was_letter = c.is_alphabetic();
        }
        if run.chars().count() >= 4 && TARGETS.iter().any(|t| run.contains(t)) {
            return true;
        }
    }
    false
}

/// Letters on both sides of an HTML comment or an empty element, twice
/// or more: a word cut in two for the filter, whole for the reader.
fn splits_words_with_markup(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut splits = 0;
    let mut at = 0;
    while let Some(found) = lower[at..].find('<') {
        let start = at + found;
        let end = if lower[start..].starts_with("<!--") {
            match lower[start..].find("-->") {
                Some(e) => start + e + 3,
                // Nothing after an unclosed comment closes anything.
                None => break,
            }
        } else {
            match empty_element_end(super::head(&lower[start..], 200)) {
                Some(e) => start + e,
                None => {
                    at = start + 1;
                    continue;
                }
            }
        };
        // Go on after it: what it holds is not looked at again.
        at = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(end).copied();
        if before.is_some_and(|b| b.is_ascii_alphabetic())
            && after.is_some_and(|b| b.is_ascii_alphabetic())
        {
            splits += 1;
            if splits >= 2 {
                return true;
            }
        }
    }
    false
}

/// `<b></b>`, `<font color=x></font>`: where an element that holds
/// nothing ends.
fn empty_element_end(tag: &str) -> Option<usize> {
    let name: String = tag[1..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if name.is_empty() {
        return None;
    }
    let open_end = tag.find('>')? + 1;
    let close = format!("</{name}>");
    tag[open_end..]
        .starts_with(&close)
        .then(|| open_end + close.len())
}

/// `reading`: the subject and text, lower case.
pub(super) fn check(view: &View, reading: &str, hits: &mut Vec<Hit>) {
    if has_substituted_word(reading) || has_spaced_word(reading) {
        hits.push("DISGUISED_WORDS");
    }
    if view.has_html && splits_words_with_markup(&view.html) {
        hits.push("HTML_WORD_SPLIT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguised_words_are_read_through() {
        assert!(has_substituted_word("Cheap V1agra here"));
        assert!(has_substituted_word("100% fr3e!"));
        assert!(has_substituted_word("c1ick now"));
        assert!(!has_substituted_word("Version 1.0 is free"));
        assert!(!has_substituted_word("meet at 4pm"));
        assert!(has_spaced_word("get v i a g r a now"));
        assert!(has_spaced_word(&"C-A-S-H today".to_lowercase()));
        assert!(!has_spaced_word("a b c d e f"));
        assert!(!has_spaced_word("I am a free man"));
    }

    #[test]
    fn markup_inside_words() {
        assert!(splits_words_with_markup("Vi<!-- z -->ag<b></b>ra"));
        assert!(!splits_words_with_markup(
            "<p>Hello</p> <!-- note --> <b></b>"
        ));
        assert!(!splits_words_with_markup("Vi<!-- z -->agra"));
        // Hostile input stays linear: unclosed comments and tags.
        assert!(!splits_words_with_markup(&"a<!--".repeat(50_000)));
        assert!(!splits_words_with_markup(&"a<b".repeat(50_000)));
        let nested = format!("a{}-->b", "<!--".repeat(60_000));
        assert!(!splits_words_with_markup(&nested));
    }
}
