//! How HTML mail is dressed: shouting font sizes, forms, links that say
//! only "click here". Weak signs (shops' newsletters dress the same way),
//! scored low; colours and remote images are not judged at all, as
//! nearly every commercial message has them.

use super::Hit;
use crate::message::View;

/// `<font ...>` tags of the HTML, lower case.
fn font_tags(html: &str) -> impl Iterator<Item = &str> + '_ {
    html.match_indices('<').filter_map(move |(at, _)| {
        let rest = &html[at + 1..];
        let tag = rest.get(..4)?;
        if !tag.eq_ignore_ascii_case("font") {
            return None;
        }
        // A tag runs to its '>', read no further than 200 bytes: a text of
        // unclosed tags must not cost the square of its length.
        let tag = super::head(rest, 200);
        Some(&tag[..tag.find('>').unwrap_or(tag.len())])
    })
}

/// `size=+2` and up or `size=5` and up: headline type in a letter.
fn is_large(font: &str) -> bool {
    let lower = font.to_ascii_lowercase();
    let Some(at) = lower.find("size=") else {
        return false;
    };
    let value = lower[at + 5..].trim_start_matches(['"', '\'']);
    match value.strip_prefix('+') {
        Some(up) => up.starts_with(['2', '3', '4', '5', '6', '7']),
        None => value.starts_with(['5', '6', '7']),
    }
}

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    if !view.has_html {
        return;
    }
    if font_tags(&view.html).any(is_large) {
        hits.push("HTML_FONT_LARGE");
    }
    if view.html.to_ascii_lowercase().contains("<form") {
        hits.push("HTML_FORM");
    }
    if view.links.iter().any(|l| {
        let text = l.text.trim().to_ascii_lowercase();
        text.starts_with("click here") || text == "click" || text == "here"
    }) {
        hits.push("HTML_CLICK_HERE_LINK");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_fonts() {
        assert!(is_large("font size=\"+3\" color=red"));
        assert!(is_large("FONT SIZE=6"));
        assert!(!is_large("font size=2"));
        assert!(!is_large("font face=arial"));
        let long = format!("<font {}>", "é".repeat(150));
        assert_eq!(font_tags(&long).count(), 1, "cut at a character boundary");
    }
}
