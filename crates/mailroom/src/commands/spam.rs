//! `mailroom spam`: the spam check tool, training the global classifier
//! from files (the corpus benchmark uses it), and the score table.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use mailroom_core::Mail;
use mailroom_core::mail::{ChangeBus, MailSettings};
use mailroom_store::{Store, SystemClock};
use serde::Serialize;

use crate::cli::SpamCommand;
use crate::config::Config;
use crate::output::Output;

/// Files named, with directories expanded to the files in them (sorted).
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

#[derive(Serialize)]
struct Checked {
    file: String,
    score: f64,
    verdict: &'static str,
    required: f64,
    bayes: Option<f64>,
    tests: Vec<(String, f64)>,
    clues: Clues,
}

/// The classifier's strongest clues each way.
#[derive(Serialize)]
struct Clues {
    spam: Vec<mailroom_spam::bayes::Clue>,
    ham: Vec<mailroom_spam::bayes::Clue>,
}

pub async fn run(
    command: SpamCommand,
    store: Arc<dyn Store>,
    config: &Config,
    out: &Output,
) -> anyhow::Result<()> {
    let mail = Mail::new(
        store.clone(),
        Arc::new(SystemClock),
        ChangeBus::default(),
        MailSettings {
            hostname: config.hostname.clone(),
            recipient_delimiter: config.smtp.recipient_delimiter.clone(),
        },
    );
    match command {
        SpamCommand::Check { domain, files } => {
            let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
            if files.is_empty() {
                let mut body = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)?;
                inputs.push(("-".into(), body));
            }
            let mut results = Vec::new();
            for file in expand(&files)? {
                let body = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                inputs.push((file.display().to_string(), body));
            }
            for (name, body) in inputs {
                let checked = mail.check_message(&body, domain.as_deref()).await?;
                results.push(Checked {
                    file: name,
                    score: checked.report.score,
                    verdict: checked.verdict.as_str(),
                    required: checked.thresholds.junk,
                    bayes: checked.report.bayes,
                    tests: checked.report.tests,
                    clues: Clues {
                        spam: checked.spam_clues,
                        ham: checked.ham_clues,
                    },
                });
            }
            if results.len() == 1 && !out.json {
                let r = &results[0];
                println!("score    {:.1} (Junk at {:.1})", r.score, r.required);
                println!("verdict  {}", r.verdict);
                if let Some(p) = r.bayes {
                    println!("bayes    {:.3} spam probability", p);
                }
                for (side, clues) in [("spam", &r.clues.spam), ("ham", &r.clues.ham)] {
                    if !clues.is_empty() {
                        let shown: Vec<String> = clues
                            .iter()
                            .map(|c| format!("{} ({:.2})", c.token, c.probability))
                            .collect();
                        println!("{side:<8} clues: {}", shown.join(", "));
                    }
                }
                for (tag, score) in &r.tests {
                    println!(
                        "  {score:>5.1}  {tag}  {}",
                        mailroom_spam::scores::describe(tag)
                    );
                }
            } else {
                out.list(&results, &["SCORE", "VERDICT", "FILE"], |r| {
                    vec![format!("{:.1}", r.score), r.verdict.into(), r.file.clone()]
                });
            }
        }
        SpamCommand::Train { spam, ham, files } => {
            if spam == ham {
                bail!("say --spam or --ham");
            }
            let files = expand(&files)?;
            let mut changed = 0;
            for file in &files {
                let body = std::fs::read(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let key = blake3::hash(&body).to_hex().to_string();
                changed += usize::from(mail.train_global(&key, &body, spam).await?);
            }
            let class = if spam { "spam" } else { "ham" };
            out.done(&format!(
                "trained {changed} of {} messages as {class} ({} known already)",
                files.len(),
                files.len() - changed
            ));
        }
        SpamCommand::Scores => {
            let table = mailroom_core::spam::ScoreTable::new(store.spam_scores().await?);
            let rows: Vec<ScoreRow> = mailroom_spam::scores::DEFAULTS
                .iter()
                .map(|(tag, default, about)| ScoreRow {
                    tag,
                    score: table.score(tag),
                    default: *default,
                    about,
                })
                .collect();
            out.list(&rows, &["TAG", "SCORE", "DEFAULT", "MEANING"], |r| {
                vec![
                    r.tag.into(),
                    format!("{:.1}", r.score),
                    format!("{:.1}", r.default),
                    r.about.into(),
                ]
            });
        }
        SpamCommand::Score { tag, score } => {
            let tag = tag.to_ascii_uppercase();
            if !mailroom_core::spam::ScoreTable::is_known(&tag) {
                bail!("{tag}: no such rule (see `mailroom spam scores`)");
            }
            let value = if score.eq_ignore_ascii_case("default") {
                None
            } else {
                Some(
                    score
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && s.abs() <= 100.0)
                        .with_context(|| {
                            format!("{score}: give a number between -100 and 100, or default")
                        })?,
                )
            };
            store.spam_score_set(&tag, value).await?;
            out.done(&match value {
                Some(v) => format!("{tag} now scores {v:.1}"),
                None => format!("{tag} scores its default again"),
            });
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct ScoreRow {
    tag: &'static str,
    score: f64,
    default: f64,
    about: &'static str,
}
