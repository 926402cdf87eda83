//! Development tool: how well the rules and the classifier separate the
//! development groups of the SpamAssassin corpus (never the held-out ones),
//! in memory, without a store. Used to develop rules and scores.
//!
//! cargo run --release -p mailroom-spam --example corpus_eval -- HAM_DIR SPAM_DIR [split]
//!
//! split: `time` (default) trains on the older half of each group (by Date:)
//! and scores the newer half, as the held-out groups are newer mail; `cv`
//! is a 2-fold cross-validation both ways; `unfamiliar` leaves each large
//! source of ham (a mailing list) out of training in turn and scores it:
//! false positives on a kind of ham the classifier never saw; `senders`
//! is a 2-fold split that keeps each sender together (ham by its list,
//! spam by the network that handed it over, else its From: domain), so
//! the classifier never scores a campaign it was trained on.
//!
//! Prints the false-positive rate and recall at the junk threshold, the
//! classifier's bands among missed spam, and each tag's share of ham and
//! spam (with how many missed spam carry it).

use std::collections::HashMap;
use std::path::Path;

use mailroom_spam::bayes::{self, Counts};
use mailroom_spam::message::HeaderState;
use mailroom_spam::rules::{self, Context};
use mailroom_spam::{Report, ScoreTable, View, tokens};

struct Sample {
    spam: bool,
    date: i64,
    name: String,
    /// The mailing list it came through (`List-Id:`), or "direct".
    source: String,
    /// Who sent it, for the `senders` split.
    sender: String,
    tags: Vec<&'static str>,
    tokens: Vec<u64>,
}

fn load(dir: &str, spam: bool) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let Ok(raw) = std::fs::read(&path) else {
            continue;
        };
        let view = View::parse(&raw);
        let date = match view.date {
            HeaderState::Valid(at) => at,
            _ => 0,
        };
        let source = view
            .header_text
            .iter()
            .find(|(name, _)| name == "list-id")
            .and_then(|(_, v)| v.split_whitespace().last().map(str::to_string))
            .unwrap_or_else(|| "direct".into());
        let sender = if spam {
            sender_of(&view)
        } else {
            source.clone()
        };
        out.push(Sample {
            spam,
            date,
            source,
            sender,
            name: file_name(&path),
            tags: rules::evaluate(&view, &Context::standalone(date)),
            tokens: tokens::tokens(&view),
        });
    }
    out
}

/// The /16 network of the first public, non-fetch hop, else the From:
/// domain: a spam campaign's senders stay together.
fn sender_of(view: &View) -> String {
    for value in view.received().take(12) {
        let Some(hop) = mailroom_spam::received::parse(value) else {
            continue;
        };
        if let Some(std::net::IpAddr::V4(ip)) = hop.ip
            && mailroom_spam::received::is_public(ip.into())
            && !hop.is_retrieval()
        {
            let [a, b, ..] = ip.octets();
            return format!("net:{a}.{b}");
        }
    }
    view.from_mailbox()
        .and_then(|m| m.domain())
        .map_or_else(|| "none".into(), |d| format!("from:{d}"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[derive(Default)]
struct Model {
    counts: HashMap<u64, Counts>,
    totals: Counts,
}

impl Model {
    fn train(&mut self, s: &Sample) {
        for t in &s.tokens {
            let c = self.counts.entry(*t).or_default();
            if s.spam {
                c.spam += 1;
            } else {
                c.ham += 1;
            }
        }
        if s.spam {
            self.totals.spam += 1;
        } else {
            self.totals.ham += 1;
        }
    }

    fn probability(&self, s: &Sample) -> Option<f64> {
        let counts = s
            .tokens
            .iter()
            .map(|t| self.counts.get(t).copied().unwrap_or_default());
        bayes::spam_probability(counts, self.totals)
    }
}

/// (train, test) index pairs.
fn splits(samples: &[Sample], mode: &str) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut by_class: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (i, s) in samples.iter().enumerate() {
        by_class[usize::from(s.spam)].push(i);
    }
    if mode == "unfamiliar" {
        // Each large source of ham in turn is left out of training and
        // scored: how the classifier treats a kind of ham it never saw.
        let mut sizes: HashMap<&str, usize> = HashMap::new();
        for &i in &by_class[0] {
            *sizes.entry(samples[i].source.as_str()).or_default() += 1;
        }
        let spam_train: Vec<usize> = by_class[1]
            .iter()
            .copied()
            .filter(|&i| tokens::fnv1a(&samples[i].name).is_multiple_of(2))
            .collect();
        return sizes
            .into_iter()
            .filter(|(_, n)| *n >= 50)
            .map(|(source, _)| {
                let (test, mut train): (Vec<usize>, Vec<usize>) = by_class[0]
                    .iter()
                    .partition(|&&i| samples[i].source == source);
                train.extend_from_slice(&spam_train);
                (train, test)
            })
            .collect();
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    if mode == "senders" {
        for class in &by_class {
            for &i in class {
                if tokens::fnv1a(&samples[i].sender).is_multiple_of(2) {
                    a.push(i);
                } else {
                    b.push(i);
                }
            }
        }
        return vec![(a.clone(), b.clone()), (b, a)];
    }
    for class in &mut by_class {
        if mode == "time" {
            class.sort_by_key(|&i| samples[i].date);
        } else {
            class.sort_by_key(|&i| tokens::fnv1a(&samples[i].name));
        }
        let half = class.len() / 2;
        a.extend_from_slice(&class[..half]);
        b.extend_from_slice(&class[half..]);
    }
    if mode == "time" {
        vec![(a, b)]
    } else {
        vec![(a.clone(), b.clone()), (b, a)]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: corpus_eval HAM_DIR SPAM_DIR [time|cv|unfamiliar|senders]");
        std::process::exit(2);
    }
    let mode = args.get(3).map_or("time", String::as_str);
    let mut samples = load(&args[1], false);
    samples.extend(load(&args[2], true));
    // SCORES="TAG=score,...": try other scores without rebuilding.
    let overrides = std::env::var("SCORES").unwrap_or_default();
    let table = ScoreTable::new(overrides.split(',').filter_map(|kv| {
        let (tag, score) = kv.split_once('=')?;
        Some((tag.to_string(), score.parse().ok()?))
    }));
    let junk = 6.0;
    let (mut ham, mut spam, mut fp, mut caught) = (0, 0, 0, 0);
    let mut tag_counts: HashMap<String, [usize; 3]> = HashMap::new();
    let mut missed_bands: HashMap<&str, usize> = HashMap::new();
    let mut ham_bands: HashMap<&str, usize> = HashMap::new();
    let mut fps = Vec::new();
    for (train, test) in splits(&samples, mode) {
        let mut model = Model::default();
        for &i in &train {
            model.train(&samples[i]);
        }
        if let Ok(name) = std::env::var("EXPLAIN") {
            explain(&model, &name, &args[1..3]);
        }
        for &i in &test {
            let s = &samples[i];
            let p = model.probability(s);
            let report = Report::new(&s.tags, p, &table);
            let flagged = report.score >= junk;
            if s.spam {
                spam += 1;
                caught += usize::from(flagged);
                if !flagged {
                    if std::env::var_os("SHOW_MISSED").is_some() {
                        println!(
                            "MISS {} {:.1} {}",
                            s.name,
                            report.score,
                            report.tests_text()
                        );
                    }
                    *missed_bands
                        .entry(p.map_or("none", bayes::tag))
                        .or_default() += 1;
                }
            } else {
                ham += 1;
                *ham_bands.entry(p.map_or("none", bayes::tag)).or_default() += 1;
                if flagged {
                    fp += 1;
                    fps.push(format!(
                        "{} {:.1} {}",
                        s.name,
                        report.score,
                        report.tests_text()
                    ));
                }
            }
            for (tag, _) in &report.tests {
                let c = tag_counts.entry(tag.clone()).or_default();
                c[usize::from(s.spam)] += 1;
                if s.spam && !flagged {
                    c[2] += 1;
                }
            }
        }
    }
    println!(
        "{mode}: ham FP {fp}/{ham} = {:.2}%, spam recall {caught}/{spam} = {:.1}%",
        100.0 * fp as f64 / ham as f64,
        100.0 * caught as f64 / spam as f64
    );
    let mut bands: Vec<_> = missed_bands.into_iter().collect();
    bands.sort();
    println!("missed spam by band: {bands:?}");
    let mut bands: Vec<_> = ham_bands.into_iter().collect();
    bands.sort();
    println!("ham by band: {bands:?}");
    for f in &fps {
        println!("FP {f}");
    }
    let mut tags: Vec<_> = tag_counts.into_iter().collect();
    tags.sort_by(|a, b| b.1[2].cmp(&a.1[2]).then(b.1[1].cmp(&a.1[1])));
    println!("{:<24} {:>7} {:>7} {:>7}", "tag", "ham%", "spam%", "missed");
    for (tag, [h, s, m]) in tags {
        println!(
            "{tag:<24} {:>7.2} {:>7.2} {m:>7}",
            100.0 * h as f64 / ham as f64,
            100.0 * s as f64 / spam as f64
        );
    }
}

/// The classifier's strongest clues for one file of the corpus.
fn explain(model: &Model, name: &str, dirs: &[String]) {
    for dir in dirs {
        let Ok(raw) = std::fs::read(Path::new(dir).join(name)) else {
            continue;
        };
        let view = View::parse(&raw);
        let mut clues: Vec<(f64, String, Counts)> = tokens::token_texts(&view)
            .into_iter()
            .map(|t| {
                let c = model
                    .counts
                    .get(&tokens::fnv1a(&t))
                    .copied()
                    .unwrap_or_default();
                (bayes::token_probability(c, model.totals), t, c)
            })
            .filter(|(_, _, c)| c.spam + c.ham > 0)
            .collect();
        clues.sort_by(|a, b| (b.0 - 0.5).abs().total_cmp(&(a.0 - 0.5).abs()));
        println!("clues of {name} ({} tokens known):", clues.len());
        for (f, t, c) in clues.iter().take(60) {
            println!("  {f:.3} s{:<4} h{:<4} {t}", c.spam, c.ham);
        }
    }
}
