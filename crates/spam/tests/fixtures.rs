//! The rules on messages written for them: each fixture with the tags it
//! must earn, tags it must not, and where its score must land.

use mailroom_spam::rules::{self, Context};
use mailroom_spam::verdict::{Thresholds, Verdict};
use mailroom_spam::{Report, ScoreTable, View};

/// 29 Nov 2026, a day after the fixtures' dates.
const NOW: i64 = 1_795_910_400;

struct Case {
    file: &'static str,
    has: &'static [&'static str],
    lacks: &'static [&'static str],
    verdict: Verdict,
}

const CASES: &[Case] = &[
    Case {
        file: "newsletter.eml",
        has: &["BULK_MAIL"],
        lacks: &[
            "UNSUB_TEXT_NO_HEADER",
            "DATE_AHEAD",
            "SUBJ_TRACKING_ID",
            "BULK_NO_UNSUBSCRIBE",
            "HTML_ONLY",
            "URI_TEXT_MISMATCH",
            "SPAM_PHRASES_1",
            "MISSING_DATE",
            "SUBJ_PADDED",
            "MIME_8BIT_UNLABELLED",
        ],
        verdict: Verdict::Inbox,
    },
    Case {
        file: "personal.eml",
        has: &[],
        lacks: &[
            "FROM_REPLYTO_DIFF",
            "MISSING_MID",
            "FROM_LOCAL_DIGITS",
            "REPLYTO_FREEMAIL",
            "DATE_NO_ZONE",
            "DATE_AHEAD",
            "PRIORITY_HIGH",
            "RCVD_DYNAMIC",
            "HELO_OTHER_DOMAIN",
            "HELO_NO_DOT",
            "DATE_WEEKDAY_WRONG",
            "FORGED_MUA",
        ],
        verdict: Verdict::Inbox,
    },
    Case {
        // Handed straight to the MX by a cable modem greeting as a big
        // webmail, with a webmail From: none of its servers handled, no
        // Message-ID until the MX wrote one, and a Friday that is a
        // Saturday: on its words alone (no classifier) it is greylisted.
        file: "home-relay.eml",
        has: &[
            "RCVD_DYNAMIC",
            "HELO_OTHER_DOMAIN",
            "FROM_WEBMAIL_FORGED",
            "MISSING_MID",
            "DATE_WEEKDAY_WRONG",
        ],
        lacks: &["HELO_LOCALHOST", "HELO_NO_DOT", "MID_MALFORMED"],
        verdict: Verdict::Greylist,
    },
    Case {
        file: "phishing.eml",
        has: &[
            "FROM_REPLYTO_DIFF",
            "URI_IP_LITERAL",
            "URI_TEXT_MISMATCH",
            "HTML_ONLY",
            "HTML_INVISIBLE_TEXT",
            "SPAM_PHRASES_6",
            "SUBJ_EXCESS_PUNCT",
        ],
        lacks: &["HELO_NO_DOT", "SPF_NONE"],
        verdict: Verdict::Junk,
    },
    Case {
        file: "display-spoof.eml",
        has: &["FROM_NAME_SPOOF", "FROM_NAME_RCPT_DOMAIN"],
        lacks: &["MISSING_FROM"],
        verdict: Verdict::Greylist,
    },
    Case {
        file: "malformed.eml",
        has: &[
            "FROM_MALFORMED",
            "DATE_INVALID",
            "MID_MALFORMED",
            "MISSING_SUBJECT",
            "EMPTY_BODY",
        ],
        lacks: &[],
        verdict: Verdict::Greylist,
    },
    Case {
        file: "html-tricks.eml",
        has: &[
            "SUBJ_ALL_CAPS",
            "SUBJ_EXCESS_PUNCT",
            "SUBJ_MONEY",
            "URI_SHORTENER",
            "HTML_ONLY",
            "HTML_INVISIBLE_TEXT",
            "HTML_IMAGE_ONLY",
            "SPAM_PHRASES_6",
            "BULK_NO_UNSUBSCRIBE",
        ],
        lacks: &[],
        verdict: Verdict::Junk,
    },
    Case {
        file: "mass-mailer.eml",
        has: &[
            "FROM_LOCAL_DIGITS",
            "REPLYTO_FREEMAIL",
            "TO_UNDISCLOSED",
            "SUBJ_TRACKING_ID",
            "DATE_AHEAD",
            "PRIORITY_HIGH",
            "BODY_MONEY_AMOUNTS",
            "UNSUB_TEXT_NO_HEADER",
            "HTML_FONT_LARGE",
            "HTML_FORM",
            "HTML_CLICK_HERE_LINK",
        ],
        lacks: &["DATE_NO_ZONE", "DATE_IN_FUTURE", "TO_MANY"],
        verdict: Verdict::Junk,
    },
    Case {
        // A loan offer in Latin-1 labelled US-ASCII, its subject padded to
        // push a per-copy tag out of sight: two signs no mail program
        // leaves, on an otherwise tidy message.
        file: "unlabelled-8bit.eml",
        has: &["MIME_8BIT_UNLABELLED", "SUBJ_PADDED"],
        lacks: &["SUBJ_TRACKING_ID", "MIME_BASE64_TEXT"],
        verdict: Verdict::Inbox,
    },
    Case {
        // Base64 HTML whose closing boundary the mailer never wrote: read
        // as the reader's program shows it, not as base64 letters.
        file: "unclosed-base64.eml",
        has: &[
            "MIME_BASE64_TEXT",
            "URI_IP_LITERAL",
            "URI_TEXT_MISMATCH",
            "HTML_ONLY",
            "SPAM_PHRASES_6",
        ],
        lacks: &["EMPTY_BODY", "MIME_UNPARSABLE"],
        verdict: Verdict::Junk,
    },
    Case {
        file: "attachment.eml",
        has: &["ATTACH_EXECUTABLE", "ATTACH_DOUBLE_EXT"],
        lacks: &["EMPTY_BODY"],
        verdict: Verdict::Junk,
    },
    Case {
        file: "empty.eml",
        has: &["EMPTY_BODY", "MISSING_SUBJECT"],
        lacks: &["MISSING_FROM"],
        verdict: Verdict::Inbox,
    },
];

#[test]
fn each_fixture_earns_its_tags_and_verdict() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut context = Context::standalone(NOW);
    context.recipient_domains = vec!["example.test".into()];
    let table = ScoreTable::default();
    let mut failures = Vec::new();
    for case in CASES {
        let raw = std::fs::read(dir.join(case.file)).expect(case.file);
        let view = View::parse(&raw);
        let hits = rules::evaluate(&view, &context);
        let report = Report::new(&hits, None, &table);
        for tag in case.has {
            if !hits.contains(tag) {
                failures.push(format!("{}: missing {tag} (got {hits:?})", case.file));
            }
        }
        for tag in case.lacks {
            if hits.contains(tag) {
                failures.push(format!("{}: unexpected {tag}", case.file));
            }
        }
        let verdict = report.verdict(Thresholds::default());
        if verdict != case.verdict {
            failures.push(format!(
                "{}: {verdict:?} at {} (want {:?}): {}",
                case.file,
                report.score,
                case.verdict,
                report.tests_text()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn inbound_mail_is_judged_by_its_origin_too() {
    use mailroom_spam::rules::{Auth, Check, Direction};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let raw = std::fs::read(dir.join("personal.eml")).unwrap();
    let view = View::parse(&raw);
    let mut context = Context::standalone(NOW);
    context.direction = Direction::Inbound;
    context.helo = "mail.friends.example".into();
    context.client_name = Some("mail.friends.example".into());
    context.recipient_domains = vec!["example.test".into()];
    context.auth = Some(Auth {
        spf: Check::Pass,
        dkim: Check::Pass,
        dmarc: Check::Pass,
        arc: Check::None,
        iprev: Check::Pass,
    });
    let hits = rules::evaluate(&view, &context);
    assert_eq!(hits, ["DKIM_VALID", "DMARC_PASS", "SPF_PASS"]);
    assert!(Report::new(&hits, None, &ScoreTable::default()).score < 0.0);

    // The same text claiming to come from the recipient's own domain,
    // from a host that greets as localhost, without authentication.
    let spoofed = String::from_utf8(raw)
        .unwrap()
        .replace("bob@friends.example", "boss@example.test");
    context.helo = "localhost".into();
    context.auth = Some(Auth {
        spf: Check::SoftFail,
        dkim: Check::None,
        dmarc: Check::Fail,
        arc: Check::None,
        iprev: Check::Fail,
    });
    let hits = rules::evaluate(&View::parse(spoofed.as_bytes()), &context);
    for tag in [
        "FROM_OWN_DOMAIN_UNAUTH",
        "HELO_LOCALHOST",
        "DMARC_FAIL",
        "SPF_SOFTFAIL",
        "RDNS_MISMATCH",
    ] {
        assert!(hits.contains(&tag), "{tag} in {hits:?}");
    }
    let report = Report::new(&hits, None, &ScoreTable::default());
    assert_eq!(
        report.verdict(Thresholds::default()),
        Verdict::Junk,
        "{}",
        report.tests_text()
    );

    // Inbound, the session names the host: a cable modem's address
    // greeting as a bare domain it does not belong to.
    context.helo = "friends.example".into();
    context.client_name = Some("c-203-0-113-57.hsd1.example-cable.net".into());
    context.ip = "203.0.113.57".parse().ok();
    let hits = rules::evaluate(&view, &context);
    for tag in ["RCVD_DYNAMIC", "HELO_OTHER_DOMAIN"] {
        assert!(hits.contains(&tag), "{tag} in {hits:?}");
    }
}
