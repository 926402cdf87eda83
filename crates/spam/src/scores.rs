//! What each tag is worth. The defaults below are ours; a MasterAdmin may
//! override any of them (kept in the store, applied by the caller).

use std::collections::HashMap;

/// (tag, default score, what it means).
pub const DEFAULTS: &[(&str, f64, &str)] = &[
    (
        "SPF_PASS",
        -0.1,
        "the sending host may send for the envelope domain (SPF)",
    ),
    (
        "SPF_FAIL",
        1.5,
        "the envelope domain says this host may not send for it (SPF fail)",
    ),
    (
        "SPF_SOFTFAIL",
        0.7,
        "the envelope domain doubts this host (SPF softfail)",
    ),
    ("SPF_NEUTRAL", 0.3, "SPF neutral"),
    ("SPF_NONE", 0.1, "the envelope domain publishes no SPF"),
    ("SPF_ERROR", 0.0, "SPF could not be checked (DNS error)"),
    ("DKIM_VALID", -0.1, "a DKIM signature verifies"),
    (
        "DKIM_INVALID",
        1.0,
        "a DKIM signature is present but does not verify",
    ),
    ("DKIM_NONE", 0.1, "no DKIM signature"),
    ("DKIM_ERROR", 0.0, "DKIM could not be checked (DNS error)"),
    (
        "DMARC_PASS",
        -0.3,
        "the From: domain is authenticated (DMARC)",
    ),
    (
        "DMARC_FAIL",
        2.0,
        "the From: domain is not authenticated although it asks to be (DMARC)",
    ),
    ("ARC_INVALID", 0.5, "a broken ARC chain"),
    (
        "RDNS_MISMATCH",
        0.8,
        "the client's address has no matching reverse DNS name",
    ),
    (
        "HELO_IP_LITERAL",
        1.2,
        "the client greeted with an IP address",
    ),
    ("HELO_LOCALHOST", 1.5, "the client greeted as localhost"),
    (
        "HELO_NO_DOT",
        0.8,
        "the client's greeting is not a full host name",
    ),
    (
        "HELO_OTHER_DOMAIN",
        1.5,
        "the client greeted with a bare domain that is not its own",
    ),
    (
        "RCVD_DYNAMIC",
        1.0,
        "handed over directly by an address with its provider's generic name (home, dial-up), not a named mail server",
    ),
    (
        "BODY_TAIL_TOKEN",
        0.8,
        "the text ends with a string of letters and digits that differs per copy",
    ),
    (
        "FORGED_MUA",
        1.5,
        "names a mail program, yet lacks what that program always writes",
    ),
    (
        "MIME_BASE64_TEXT",
        0.5,
        "plain ASCII text or headers sent as base64",
    ),
    (
        "MIME_8BIT_UNLABELLED",
        1.0,
        "text labelled ASCII carries 8-bit characters",
    ),
    (
        "FROM_WEBMAIL_FORGED",
        1.5,
        "From: is a big webmail's address, yet none of its servers handled it",
    ),
    (
        "FROM_OWN_DOMAIN_UNAUTH",
        3.0,
        "From: claims the recipient's own domain without authentication",
    ),
    ("MIME_UNPARSABLE", 2.0, "the message cannot be parsed"),
    ("MISSING_FROM", 1.0, "no From: header"),
    ("FROM_MALFORMED", 1.5, "From: has no valid address"),
    ("FROM_MULTIPLE", 1.0, "more than one From: address"),
    (
        "FROM_REPLYTO_DIFF",
        1.5,
        "replies go to another domain than the sender's",
    ),
    (
        "FROM_NAME_SPOOF",
        2.5,
        "the sender's display name shows a different address",
    ),
    (
        "FROM_NAME_RCPT_DOMAIN",
        2.0,
        "the sender's display name uses the recipient's domain",
    ),
    ("MISSING_DATE", 0.5, "no Date: header"),
    ("DATE_INVALID", 1.2, "Date: cannot be read"),
    ("DATE_IN_FUTURE", 1.5, "Date: is more than a day ahead"),
    (
        "DATE_AHEAD",
        1.0,
        "Date: is hours ahead of when the message was received",
    ),
    ("DATE_IN_PAST", 0.5, "Date: is more than 30 days old"),
    ("DATE_NO_ZONE", 1.0, "Date: names no time zone"),
    (
        "DATE_WEEKDAY_WRONG",
        0.5,
        "Date: names the wrong day of the week for its date",
    ),
    (
        "PRIORITY_HIGH",
        0.5,
        "the sender marked the message urgent (X-Priority, Importance)",
    ),
    ("MISSING_MID", 0.8, "arrived without a Message-ID: header"),
    ("MID_MALFORMED", 0.5, "Message-ID: is malformed"),
    ("MISSING_SUBJECT", 0.3, "no subject"),
    ("MISSING_TO", 0.1, "no To: header"),
    (
        "MISSING_MIME_VERSION",
        0.8,
        "HTML or attachments without MIME-Version:",
    ),
    ("BULK_MAIL", 0.0, "bulk or list mail"),
    (
        "BULK_NO_UNSUBSCRIBE",
        0.3,
        "bulk mail without a List-Unsubscribe: header",
    ),
    (
        "FROM_LOCAL_DIGITS",
        0.3,
        "the sender's address has three or more digits",
    ),
    (
        "REPLYTO_FREEMAIL",
        1.0,
        "replies go to a free mailbox, not the sender's domain",
    ),
    ("TO_UNDISCLOSED", 0.8, "the recipients are hidden"),
    (
        "RCPT_NOT_ADDRESSED",
        1.0,
        "sent blind: the recipient is in neither To: nor Cc:",
    ),
    ("TO_MANY", 0.5, "five or more addresses in To:"),
    (
        "SUBJ_TRACKING_ID",
        1.0,
        "the subject ends with a tracking number",
    ),
    (
        "SUBJ_PADDED",
        1.5,
        "blanks in the subject push a tag out of sight",
    ),
    ("SUBJ_ALL_CAPS", 1.2, "the subject is in capitals"),
    (
        "SUBJ_EXCESS_PUNCT",
        1.0,
        "the subject has repeated !! ?? or $$",
    ),
    ("SUBJ_MONEY", 0.7, "the subject talks money"),
    ("BODY_MOSTLY_CAPS", 1.2, "the text is mostly capitals"),
    ("BODY_EXCESS_EXCLAIM", 0.5, "the text has repeated !!!"),
    (
        "BODY_MONEY_AMOUNTS",
        0.3,
        "the text names three or more sums of money",
    ),
    (
        "UNSUB_TEXT_NO_HEADER",
        1.0,
        "removal instructions in the text but no List-Unsubscribe: header",
    ),
    ("EMPTY_BODY", 1.5, "no text and no attachment"),
    ("HTML_ONLY", 0.8, "HTML without a plain text version"),
    ("HTML_IMAGE_ONLY", 1.0, "images with hardly any text"),
    (
        "HTML_INVISIBLE_TEXT",
        1.5,
        "text hidden from the reader by its style",
    ),
    ("HTML_FORM", 0.5, "a form to fill in inside the message"),
    ("HTML_FONT_LARGE", 0.3, "headline-sized fonts"),
    (
        "HTML_CLICK_HERE_LINK",
        0.3,
        "a link that says only \"click here\"",
    ),
    (
        "TOPIC_ADVANCE_FEE",
        1.0,
        "about moving a fortune abroad for a share",
    ),
    ("TOPIC_LOANS_DEBT", 1.0, "about mortgages, loans and debt"),
    ("TOPIC_PILLS", 1.0, "about pills and diets"),
    ("TOPIC_EASY_MONEY", 1.0, "about money made at home"),
    ("TOPIC_STOCK_TIP", 1.0, "a stock tip"),
    (
        "TOPIC_LISTS_FOR_SALE",
        1.0,
        "selling addresses or bulk mailing",
    ),
    ("TOPIC_ADULT", 1.0, "adult content"),
    ("TOPIC_DIPLOMA", 1.0, "degrees without study"),
    ("TOPIC_PRIZE", 1.0, "a prize to claim"),
    ("SPAM_PHRASES_1", 1.0, "one or two phrases common in spam"),
    (
        "SPAM_PHRASES_3",
        1.5,
        "three to five phrases common in spam",
    ),
    ("SPAM_PHRASES_6", 3.0, "six or more phrases common in spam"),
    ("URI_IP_LITERAL", 2.0, "a link to a bare IP address"),
    ("URI_SHORTENER", 1.0, "a link through a URL shortener"),
    (
        "URI_TEXT_MISMATCH",
        2.5,
        "a link shows one address and leads to another",
    ),
    ("URI_MANY", 0.5, "more than 50 links"),
    (
        "ATTACH_EXECUTABLE",
        4.0,
        "an attachment that runs as a program",
    ),
    (
        "ATTACH_DOUBLE_EXT",
        4.0,
        "an attachment hiding its type behind a second extension",
    ),
    ("ATTACH_MACRO", 1.5, "an Office document with macros"),
    (
        "BAYES_00",
        -2.5,
        "the classifier: spam probability below 1%",
    ),
    ("BAYES_05", -1.5, "the classifier: 1 to 5%"),
    ("BAYES_20", -0.7, "the classifier: 5 to 20%"),
    ("BAYES_40", -0.2, "the classifier: 20 to 40%"),
    ("BAYES_50", 1.5, "the classifier: 40 to 60%"),
    ("BAYES_60", 2.5, "the classifier: 60 to 80%"),
    ("BAYES_80", 4.5, "the classifier: 80 to 95%"),
    ("BAYES_95", 5.0, "the classifier: 95 to 99%"),
    ("BAYES_99", 5.0, "the classifier: 99 to 99.9%"),
    ("BAYES_999", 5.5, "the classifier: above 99.9%"),
    (
        "BAYES_OWN_SPAM",
        1.0,
        "the account's own training calls it spam (99% or more)",
    ),
];

/// Signs that a message is an advertisement. They say what kind of
/// sender wrote it, not whether the reader asked for it: a shop's
/// newsletter has them as much as spam, and they come together, so their
/// sum would count one fact many times. Together they count at most
/// [`ADVERT_MAX`]; what decides is what the classifier learned and the
/// signs of deceit (forged headers, hidden text, lying links).
pub const ADVERT_TAGS: &[&str] = &[
    "BODY_MONEY_AMOUNTS",
    "BULK_NO_UNSUBSCRIBE",
    "FROM_LOCAL_DIGITS",
    "HTML_CLICK_HERE_LINK",
    "HTML_FONT_LARGE",
    "HTML_FORM",
    "HTML_IMAGE_ONLY",
    "HTML_ONLY",
    "SPAM_PHRASES_1",
    "SUBJ_MONEY",
    "UNSUB_TEXT_NO_HEADER",
    "URI_MANY",
];
pub const ADVERT_MAX: f64 = 2.0;
/// The tag that takes back what the advertising signs score above
/// [`ADVERT_MAX`].
pub const ADVERT_OVERLAP: &str = "ADVERT_OVERLAP";

/// What a tag means ("" for an unknown one).
pub fn describe(tag: &str) -> &'static str {
    if tag == ADVERT_OVERLAP {
        return "advertising signs count 2.0 at most together";
    }
    DEFAULTS
        .iter()
        .find(|(t, _, _)| *t == tag)
        .map_or("", |(_, _, about)| about)
}

/// The scores in force: the defaults with any overrides.
#[derive(Debug, Clone, Default)]
pub struct ScoreTable {
    overrides: HashMap<String, f64>,
}

impl ScoreTable {
    pub fn new(overrides: impl IntoIterator<Item = (String, f64)>) -> ScoreTable {
        ScoreTable {
            overrides: overrides.into_iter().collect(),
        }
    }

    pub fn is_known(tag: &str) -> bool {
        DEFAULTS.iter().any(|(t, _, _)| *t == tag)
    }

    /// Whether an admin set this tag's score.
    pub fn is_overridden(&self, tag: &str) -> bool {
        self.overrides.contains_key(tag)
    }

    pub fn score(&self, tag: &str) -> f64 {
        self.overrides.get(tag).copied().unwrap_or_else(|| {
            DEFAULTS
                .iter()
                .find(|(t, _, _)| *t == tag)
                .map_or(0.0, |(_, s, _)| *s)
        })
    }
}
