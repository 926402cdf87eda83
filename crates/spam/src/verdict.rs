//! The score, what it means under a domain's thresholds, and the headers
//! that tell the reader why (`X-Spam-Score`, `X-Spam-Status`).

use crate::scores::{ADVERT_MAX, ADVERT_OVERLAP, ADVERT_TAGS, ScoreTable};

/// Scores at which each step starts; 999 turns a step off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub greylist: f64,
    pub junk: f64,
    pub reject: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            greylist: 4.0,
            junk: 6.0,
            reject: 15.0,
        }
    }
}

/// A step is off at this value or above.
pub const OFF: f64 = 999.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Inbox,
    /// Deliver to Inbox once the sender has retried (unknown senders only).
    Greylist,
    Junk,
    Reject,
}

impl Verdict {
    /// `inbox`, `greylist`, `junk` or `reject`, as the API and CLI say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Inbox => "inbox",
            Verdict::Greylist => "greylist",
            Verdict::Junk => "junk",
            Verdict::Reject => "reject",
        }
    }
}

/// The rules that fired, with their scores, and the sum.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub score: f64,
    /// Highest score first.
    pub tests: Vec<(String, f64)>,
    /// The classifier's spam probability, when it had an opinion.
    pub bayes: Option<f64>,
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Report {
    pub fn new(tags: &[&str], bayes: Option<f64>, table: &ScoreTable) -> Report {
        let mut tests: Vec<(String, f64)> = tags
            .iter()
            .map(|t| (t.to_string(), table.score(t)))
            .collect();
        if let Some(p) = bayes {
            let score = crate::bayes::score(p, |tag| table.score(tag));
            tests.push((
                crate::bayes::tag(p).to_string(),
                (score * 10.0).round() / 10.0,
            ));
        }
        // Scores an admin set are the admin's word and count in full.
        let advert: f64 = tests
            .iter()
            .filter(|(t, s)| {
                ADVERT_TAGS.contains(&t.as_str()) && *s > 0.0 && !table.is_overridden(t)
            })
            .map(|t| t.1)
            .sum();
        let taken_back = round(ADVERT_MAX - advert);
        if taken_back < 0.0 {
            tests.push((ADVERT_OVERLAP.to_string(), taken_back));
        }
        tests.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Report {
            score: round(tests.iter().map(|t| t.1).sum()),
            tests,
            bayes,
        }
    }

    /// What the score means under `t` (a step at 999 or above is off).
    pub fn verdict(&self, t: Thresholds) -> Verdict {
        let reached = |at: f64| at < OFF && self.score >= at;
        if reached(t.reject) {
            Verdict::Reject
        } else if reached(t.junk) {
            Verdict::Junk
        } else if reached(t.greylist) {
            Verdict::Greylist
        } else {
            Verdict::Inbox
        }
    }

    /// `tests=A(2.0),B(1.5)` as in the status header.
    pub fn tests_text(&self) -> String {
        self.tests
            .iter()
            .map(|(t, s)| format!("{t}({s:.1})"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The two header fields, folded at 78 columns (RFC 5322 2.2.3).
    pub fn headers(&self, required: f64) -> String {
        let yes = if required < OFF && self.score >= required {
            "Yes"
        } else {
            "No"
        };
        let mut status = format!(
            "X-Spam-Status: {yes}, score={:.1} required={:.1} tests=",
            self.score,
            required.min(OFF)
        );
        let mut line_len = status.len();
        for (i, (tag, score)) in self.tests.iter().enumerate() {
            let item = format!("{}{tag}({score:.1})", if i == 0 { "" } else { "," });
            if line_len + item.len() > 78 && i > 0 {
                status.push_str(",\r\n\t");
                let item = &item[1..];
                line_len = 1 + item.len();
                status.push_str(item);
            } else {
                line_len += item.len();
                status.push_str(&item);
            }
        }
        if self.tests.is_empty() {
            status.push_str("none");
        }
        format!("X-Spam-Score: {:.1}\r\n{status}\r\n", self.score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_thresholds_and_999_is_off() {
        let table = ScoreTable::default();
        let r = Report::new(
            &["DMARC_FAIL", "FROM_REPLYTO_DIFF", "URI_TEXT_MISMATCH"],
            None,
            &table,
        );
        assert_eq!(r.score, 6.0);
        assert_eq!(r.verdict(Thresholds::default()), Verdict::Junk);
        let off = Thresholds {
            greylist: OFF,
            junk: OFF,
            reject: OFF,
        };
        assert_eq!(r.verdict(off), Verdict::Inbox);
        assert_eq!(
            r.verdict(Thresholds {
                greylist: 1.0,
                junk: 2.0,
                reject: 5.0
            }),
            Verdict::Reject
        );
    }

    #[test]
    fn advertising_signs_count_once() {
        let table = ScoreTable::default();
        let advert = [
            "HTML_ONLY",
            "SPAM_PHRASES_1",
            "UNSUB_TEXT_NO_HEADER",
            "URI_MANY",
        ];
        let r = Report::new(&advert, None, &table);
        assert_eq!(r.score, crate::scores::ADVERT_MAX);
        assert!(r.tests.iter().any(|(t, s)| t == ADVERT_OVERLAP && *s < 0.0));
        // Deceit still counts in full on top.
        let r = Report::new(
            &[&advert[..], &["URI_TEXT_MISMATCH"]].concat(),
            None,
            &table,
        );
        assert_eq!(r.score, crate::scores::ADVERT_MAX + 2.5);
        // An admin's score for one of them counts in full.
        let table = ScoreTable::new([("HTML_ONLY".to_string(), 4.0)]);
        let r = Report::new(&advert, None, &table);
        assert_eq!(r.score, 4.0 + crate::scores::ADVERT_MAX);
        let table = ScoreTable::default();
        // Below the cap nothing is taken back.
        let r = Report::new(&["HTML_ONLY"], None, &table);
        assert!(r.tests.iter().all(|(t, _)| t != ADVERT_OVERLAP));
    }

    #[test]
    fn headers_list_every_test_with_its_score() {
        let table = ScoreTable::new([("MISSING_MID".to_string(), 2.0)]);
        let r = Report::new(&["MISSING_MID", "SPF_PASS"], None, &table);
        assert_eq!(
            r.headers(6.0),
            "X-Spam-Score: 1.9\r\nX-Spam-Status: No, score=1.9 required=6.0 tests=MISSING_MID(2.0),\r\n\tSPF_PASS(-0.1)\r\n"
        );
        let many: Vec<&str> = crate::scores::DEFAULTS
            .iter()
            .take(12)
            .map(|d| d.0)
            .collect();
        let folded = Report::new(&many, None, &table).headers(6.0);
        assert!(folded.lines().all(|l| l.len() <= 80), "{folded}");
    }
}
