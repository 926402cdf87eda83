//! What the message is about: the subjects spam has kept to for decades
//! (advance-fee fraud, loans and debt, pills, get-rich schemes, stock
//! tips, mailing lists for sale, adult content, bought diplomas, prizes).
//! A single word says little ("loan", "prize"); a topic fires when the
//! text uses several of its phrases, as words.

use super::Hit;
use crate::message::View;

struct Topic {
    tag: Hit,
    phrases: &'static [&'static str],
    /// Distinct phrases needed.
    needs: usize,
}

const TOPICS: &[Topic] = &[
    Topic {
        tag: "TOPIC_ADVANCE_FEE",
        needs: 3,
        phrases: &[
            "next of kin",
            "beneficiary",
            "foreign partner",
            "foreign account",
            "late husband",
            "late father",
            "barrister",
            "strictly confidential",
            "utmost confidentiality",
            "mutual benefit",
            "trust fund",
            "security company",
            "diplomatic",
            "united states dollars",
            "us dollars",
            "million dollars",
            "percent of the total",
            "% of the total",
            "your assistance",
            "business proposal",
            "transfer the",
            "god bless",
            "reply urgently",
            "central bank",
        ],
    },
    Topic {
        tag: "TOPIC_LOANS_DEBT",
        needs: 3,
        phrases: &[
            "mortgage",
            "refinance",
            "refinancing",
            "interest rate",
            "debt consolidation",
            "credit card debt",
            "bad credit",
            "credit rating",
            "homeowner",
            "home owner",
            "lenders",
            "lender",
            "pre-approved",
            "monthly payment",
            "lowest rate",
            "equity",
            "free quote",
            "no obligation",
            "loan",
            "loans",
        ],
    },
    Topic {
        tag: "TOPIC_PILLS",
        needs: 2,
        phrases: &[
            "viagra",
            "cialis",
            "online pharmacy",
            "no prescription",
            "without prescription",
            "prescription",
            "weight loss",
            "lose weight",
            "fat burn",
            "diet pill",
            "herbal",
            "erection",
            "enlarge",
            "enlargement",
            "hgh",
            "anti-aging",
            "metabolism",
            "medication",
            "medications",
        ],
    },
    Topic {
        tag: "TOPIC_EASY_MONEY",
        needs: 3,
        phrases: &[
            "work from home",
            "home based business",
            "home-based business",
            "extra income",
            "residual income",
            "financial freedom",
            "be your own boss",
            "multi-level",
            "network marketing",
            "downline",
            "no experience",
            "make money",
            "earn money",
            "per week",
            "per month",
            "income",
            "opportunity",
            "$$$",
            "cash",
            "profit",
        ],
    },
    Topic {
        tag: "TOPIC_STOCK_TIP",
        needs: 3,
        phrases: &[
            "stock",
            "shares",
            "investors",
            "otc",
            "pink sheets",
            "symbol",
            "forward-looking statements",
            "forward looking statements",
            "target price",
            "strong buy",
            "breakout",
        ],
    },
    Topic {
        tag: "TOPIC_LISTS_FOR_SALE",
        needs: 2,
        phrases: &[
            "bulk email",
            "bulk e-mail",
            "email addresses",
            "e-mail addresses",
            "million email",
            "million e-mail",
            "targeted email",
            "email marketing",
            "e-mail marketing",
            "fresh email",
            "email extractor",
            "mass mail",
        ],
    },
    Topic {
        tag: "TOPIC_ADULT",
        needs: 2,
        phrases: &[
            "xxx",
            "hardcore",
            "porn",
            "horny",
            "nude",
            "naked",
            "webcam",
            "hot singles",
            "adult",
            "sex",
        ],
    },
    Topic {
        tag: "TOPIC_DIPLOMA",
        needs: 3,
        phrases: &[
            "diploma",
            "non-accredited",
            "life experience",
            "bachelor",
            "bachelors",
            "master's",
            "mba",
            "phd",
            "no exams",
            "no classes",
        ],
    },
    Topic {
        tag: "TOPIC_PRIZE",
        needs: 3,
        phrases: &[
            "winner",
            "you have won",
            "you've won",
            "prize",
            "lottery",
            "sweepstake",
            "sweepstakes",
            "congratulations",
            "claim your",
            "selected",
            "award",
        ],
    },
];

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    let mut text = view.subject.clone().unwrap_or_default();
    text.push('\n');
    text.push_str(&view.text);
    let text = text.to_lowercase();
    for topic in TOPICS {
        let found = super::phrases_used(&text, topic.phrases).len();
        if found >= topic.needs {
            hits.push(topic.tag);
        }
    }
}
