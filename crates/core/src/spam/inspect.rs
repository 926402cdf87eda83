//! Judging a message: inbound at the end of DATA (authentication, rules,
//! each recipient's classifier and thresholds, lists, greylisting),
//! outbound at submission, and on its own for the spam check tool.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use mailroom_spam::bayes::{self, Clue};
use mailroom_spam::rules::{self, Context, Direction};
use mailroom_spam::verdict::{OFF, Thresholds};
use mailroom_spam::{Report, Verdict, View, tokens};
use mailroom_store::{Account, Greylisting};

use super::auth::DmarcPolicy;
use super::lists::{ip_allowed, list_hit};
use super::{bayes_counts, bayes_probability, effective_thresholds, score_table, thresholds};
use crate::Result;
use crate::address::domain_of;
use crate::mail::{Mail, Resolved};

/// Clues of the classifier shown each way by the check tool.
const CLUES_SHOWN: usize = 8;

/// How sure the account's own classifier must be for its word to count
/// beyond the global classifier's (`BAYES_OWN_SPAM`).
const OWN_TRAINING_DECIDES: f64 = 0.99;

/// What the spam check tool says of a message.
#[derive(Debug, Clone)]
pub struct Checked {
    pub report: Report,
    pub verdict: Verdict,
    pub thresholds: Thresholds,
    /// The words (tokens) that made the classifier lean to spam, strongest
    /// first; empty until it has learned enough.
    pub spam_clues: Vec<Clue>,
    /// The same for ham.
    pub ham_clues: Vec<Clue>,
}

/// A message received over the MX listener, about to be filed.
pub struct InboundCheck<'a> {
    pub body: &'a [u8],
    pub ip: IpAddr,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub recipients: &'a [Resolved],
}

/// How each copy is filed: headers added and the folder.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    /// `Authentication-Results`, for every copy.
    pub common: Vec<u8>,
    /// Per account id: `X-Spam-*` headers and whether it goes to Junk.
    pub accounts: HashMap<i64, (Vec<u8>, bool)>,
    /// The client's verified reverse DNS name, for the `Received:` line.
    pub client_name: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Inspection {
    Deliver {
        filing: Filing,
        score: f64,
    },
    /// Unknown sender, suspicious score: try again in this many seconds.
    Greylist {
        wait: i64,
        score: f64,
    },
    /// The text of the 550 5.7.1 reply.
    Reject {
        reason: String,
        score: f64,
    },
}

/// A submitted message, judged before it is accepted.
#[derive(Debug, Clone)]
pub struct OutboundCheck {
    pub report: Report,
    /// The sender's domain's reject threshold (999: off).
    pub reject_at: f64,
}

impl OutboundCheck {
    pub fn refused(&self) -> bool {
        self.reject_at < OFF && self.report.score >= self.reject_at
    }
}

/// The client network a greylist triplet names (/24 or /64), so a
/// sender's pool of outgoing servers counts as one.
fn network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

impl Mail {
    /// Judges an inbound message for each of its local recipients.
    pub async fn inspect_inbound(&self, check: InboundCheck<'_>) -> Result<Inspection> {
        let store = self.store.as_ref();
        let view = View::parse(check.body);
        let hostname = self.settings().hostname.clone();
        let authentication = self
            .spam
            .authenticate(&hostname, check.body, check.ip, check.helo, check.mail_from)
            .await;
        let mut accounts: Vec<&Account> = Vec::new();
        for r in check.recipients {
            for a in &r.accounts {
                if !accounts.iter().any(|x| x.id == a.id) {
                    accounts.push(a);
                }
            }
        }
        let mut recipient_domains: Vec<String> = check
            .recipients
            .iter()
            .map(|r| domain_of(&r.address).to_string())
            .collect();
        recipient_domains.sort();
        recipient_domains.dedup();
        let context = Context {
            direction: Direction::Inbound,
            helo: check.helo.to_string(),
            ip: Some(check.ip),
            client_name: authentication.as_ref().and_then(|a| a.client_name.clone()),
            auth: authentication.as_ref().map(|a| a.auth),
            recipient_domains: recipient_domains.clone(),
            recipients: check
                .recipients
                .iter()
                .map(|r| r.address.to_ascii_lowercase())
                .collect(),
            now: self.now(),
        };
        let hits = rules::evaluate(&view, &context);
        let tokens = Arc::new(tokens::tokens(&view));
        let table = score_table(store).await?;
        let policy = authentication.as_ref().and_then(|a| a.failed_policy);

        let mut filing = Filing {
            common: authentication
                .as_ref()
                .map(|a| a.header.clone().into_bytes())
                .unwrap_or_default(),
            accounts: HashMap::new(),
            client_name: context.client_name.clone(),
        };
        let mut verdicts = Vec::new();
        let mut all_ip_allowed = !accounts.is_empty();
        let mut top_score = f64::MIN;
        for account in &accounts {
            let domain = domain_of(&account.email);
            let (t, _) = effective_thresholds(store, Some(domain)).await?;
            let t = thresholds(t);
            let listed = list_hit(store, Some(domain), check.mail_from, Some(check.ip)).await?;
            let allowed = listed.as_ref().is_some_and(|l| l.allow);
            let blocked = listed.as_ref().is_some_and(|l| !l.allow);
            all_ip_allowed &= ip_allowed(store, domain, check.ip).await?;
            let bayes = bayes_probability(store, account.id, &tokens).await?;
            // The global classifier alone does not junk (it learned what
            // all users call spam; one user's newsletter is another's
            // spam), the account's own training does: it is this user's
            // word about mail like this.
            let mut account_hits = hits.clone();
            if bayes.is_some_and(|b| b.own && b.probability >= OWN_TRAINING_DECIDES) {
                account_hits.push("BAYES_OWN_SPAM");
            }
            let report = Report::new(&account_hits, bayes.map(|b| b.probability), &table);
            top_score = top_score.max(report.score);
            let mut verdict = report.verdict(t);
            if blocked {
                verdict = Verdict::Reject;
            } else if allowed {
                verdict = Verdict::Inbox;
            } else if policy == Some(DmarcPolicy::Quarantine) && verdict != Verdict::Reject {
                verdict = Verdict::Junk;
            }
            let junk = matches!(verdict, Verdict::Junk | Verdict::Reject);
            filing
                .accounts
                .insert(account.id, (report.headers(t.junk).into_bytes(), junk));
            verdicts.push((account, verdict, report, t, blocked));
        }
        let score = if top_score == f64::MIN {
            0.0
        } else {
            top_score
        };

        // RFC 7489 6.6.2: the From: domain asked for refusal; only an
        // allowed sending address (IP/CIDR) overrides it, as a domain
        // entry could itself be forged.
        if policy == Some(DmarcPolicy::Reject) && !all_ip_allowed {
            let domain = authentication.map(|a| a.from_domain).unwrap_or_default();
            return Ok(Inspection::Reject {
                reason: format!(
                    "Message rejected: it fails the authentication that {domain} requires (DMARC policy reject)"
                ),
                score,
            });
        }
        if !verdicts.is_empty() && verdicts.iter().all(|v| v.1 == Verdict::Reject) {
            let (_, _, report, t, blocked) = &verdicts[0];
            let reason = if *blocked {
                format!("Message from <{}> blocked by policy", check.mail_from)
            } else {
                format!(
                    "Message rejected as spam (score {:.1}, limit {:.1}): {}",
                    report.score,
                    t.reject,
                    report.tests_text()
                )
            };
            return Ok(Inspection::Reject { reason, score });
        }
        let mut wait = 0;
        for (account, verdict, _, _, _) in &verdicts {
            if *verdict == Verdict::Greylist {
                let triplet = format!(
                    "{} {} {}",
                    network(check.ip),
                    check.mail_from.to_lowercase(),
                    account.email
                );
                if let Greylisting::Wait(w) = store
                    .greylist(&triplet, self.spam.greylist_delay_secs)
                    .await?
                {
                    wait = wait.max(w);
                }
            }
        }
        if wait > 0 {
            return Ok(Inspection::Greylist { wait, score });
        }
        Ok(Inspection::Deliver { filing, score })
    }

    /// Judges a message `account` submits (no rules about the sending
    /// host: it is our own user).
    pub async fn check_outbound(&self, account: &Account, body: &[u8]) -> Result<OutboundCheck> {
        let store = self.store.as_ref();
        let view = View::parse(body);
        let mut context = Context::standalone(self.now());
        context.direction = Direction::Outbound;
        let hits = rules::evaluate(&view, &context);
        let tokens = Arc::new(tokens::tokens(&view));
        let bayes = bayes_probability(store, 0, &tokens).await?;
        let report = Report::new(
            &hits,
            bayes.map(|b| b.probability),
            &score_table(store).await?,
        );
        let (t, _) = effective_thresholds(store, Some(domain_of(&account.email))).await?;
        Ok(OutboundCheck {
            report,
            reject_at: t.reject,
        })
    }

    /// Scores a message on its own (the spam check tool): the rules, the
    /// global classifier with its strongest clues, and the verdict under
    /// `domain`'s thresholds (or the global ones).
    pub async fn check_message(&self, body: &[u8], domain: Option<&str>) -> Result<Checked> {
        let store = self.store.as_ref();
        let view = View::parse(body);
        let hits = rules::evaluate(&view, &Context::standalone(self.now()));
        let texts = tokens::token_texts(&view);
        let hashes = Arc::new(texts.iter().map(|t| tokens::fnv1a(t)).collect::<Vec<_>>());
        let (totals, counts) = bayes_counts(store, 0, hashes).await?;
        let probability = bayes::spam_probability(counts.iter().copied(), totals);
        let (spam_clues, ham_clues) = match probability {
            Some(_) => bayes::clues(texts.into_iter().zip(counts), totals, CLUES_SHOWN),
            None => (Vec::new(), Vec::new()),
        };
        let report = Report::new(&hits, probability, &score_table(store).await?);
        let (t, _) = effective_thresholds(store, domain).await?;
        let thresholds = thresholds(t);
        Ok(Checked {
            verdict: report.verdict(thresholds),
            report,
            thresholds,
            spam_clues,
            ham_clues,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::Store;

    use crate::test_world::world;

    fn message(to: &str, subject: &str, text: &str) -> Vec<u8> {
        format!(
            "From: someone@sender.example\r\nTo: {to}\r\nSubject: {subject}\r\n\
             Date: Fri, 15 Jan 2027 08:00:00 +0000\r\nMessage-ID: <{subject}@sender.example>\r\n\
             \r\n{text}\r\n"
        )
        .into_bytes()
    }

    async fn inspect(mail: &Mail, email: &str, body: &[u8]) -> (Inspection, i64) {
        let recipient = mail.resolve(email, None).await.unwrap().unwrap();
        let inspection = mail
            .inspect_inbound(InboundCheck {
                body,
                ip: "192.0.2.7".parse().unwrap(),
                helo: "mail.sender.example",
                mail_from: "someone@sender.example",
                recipients: std::slice::from_ref(&recipient),
            })
            .await
            .unwrap();
        (inspection, recipient.accounts[0].id)
    }

    #[tokio::test]
    async fn the_accounts_own_training_weighs_more_than_the_global_classifier() {
        let w = world().await;
        let bob = w
            .store
            .account_get("bob@example.test")
            .await
            .unwrap()
            .unwrap();
        for n in 0..25 {
            let spam = message(
                "bob@example.test",
                &format!("offer{n}"),
                &format!("replica watches chronograph bezel discount luxury {n}"),
            );
            let ham = message(
                "bob@example.test",
                &format!("report{n}"),
                &format!("the weekly project report moves the review to thursday {n}"),
            );
            w.mail
                .train(bob.id, &format!("s{n}"), &spam, true)
                .await
                .unwrap();
            w.mail
                .train(bob.id, &format!("h{n}"), &ham, false)
                .await
                .unwrap();
        }
        let advert = |to| {
            message(
                to,
                "chrono",
                "replica watches chronograph bezel discount luxury",
            )
        };
        // Bob trained this kind of mail as spam himself: his word counts.
        let (inspection, id) =
            inspect(&w.mail, "bob@example.test", &advert("bob@example.test")).await;
        let Inspection::Deliver { filing, .. } = inspection else {
            panic!("not delivered: {inspection:?}");
        };
        let (headers, junk) = &filing.accounts[&id];
        let status = String::from_utf8_lossy(headers);
        assert!(status.contains("BAYES_OWN_SPAM") && *junk, "{status}");
        // Root trained nothing: the global classifier (which learned from
        // Bob) is as sure, but alone it does not junk; it only greylists.
        let (inspection, _) =
            inspect(&w.mail, "root@example.test", &advert("root@example.test")).await;
        assert!(
            matches!(inspection, Inspection::Greylist { score, .. } if score == 5.5),
            "{inspection:?}"
        );
    }
}
