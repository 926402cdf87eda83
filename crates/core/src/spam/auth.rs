//! Authentication of inbound mail with mail-auth: SPF (RFC 7208) for the
//! envelope sender, DKIM (RFC 6376), ARC (RFC 8617), DMARC (RFC 7489) for
//! the From: domain and iprev, summed up in an Authentication-Results
//! header (RFC 8601).

use std::net::IpAddr;

use mail_auth::common::headers::HeaderWriter;
use mail_auth::dmarc::Policy;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimResult, DmarcResult, IprevResult, SpfResult,
    dmarc::verify::DmarcParameters,
};
use mailroom_spam::rules::{Auth, Check};

use super::SpamEngine;

/// What the From: domain asks for mail that fails DMARC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
}

#[derive(Debug, Clone)]
pub struct Authentication {
    pub auth: Auth,
    /// `Authentication-Results: ...\r\n`
    pub header: String,
    /// The From: domain's policy, when DMARC failed.
    pub failed_policy: Option<DmarcPolicy>,
    /// The From: domain DMARC looked at.
    pub from_domain: String,
    /// The client's reverse DNS name, when it resolves back (iprev pass).
    pub client_name: Option<String>,
}

fn spf(result: SpfResult) -> Check {
    match result {
        SpfResult::Pass => Check::Pass,
        SpfResult::Fail => Check::Fail,
        SpfResult::SoftFail => Check::SoftFail,
        SpfResult::Neutral => Check::Neutral,
        SpfResult::None => Check::None,
        SpfResult::TempError | SpfResult::PermError => Check::Error,
    }
}

fn dkim(result: &DkimResult) -> Check {
    match result {
        DkimResult::Pass => Check::Pass,
        DkimResult::Fail(_) => Check::Fail,
        DkimResult::Neutral(_) => Check::Neutral,
        DkimResult::None => Check::None,
        DkimResult::TempError(_) | DkimResult::PermError(_) => Check::Error,
    }
}

impl SpamEngine {
    /// Checks a message received from `ip` (greeting `helo`, envelope
    /// sender `mail_from`); `None` when no DNS is configured.
    pub(crate) async fn authenticate(
        &self,
        hostname: &str,
        body: &[u8],
        ip: IpAddr,
        helo: &str,
        mail_from: &str,
    ) -> Option<Authentication> {
        let authenticator = self.authenticator.as_ref()?;
        let message = AuthenticatedMessage::parse(body)?;
        let helo_domain = if helo.is_empty() { "unknown" } else { helo };
        // Independent lookups at once: a slow answer costs its wait once.
        let (spf_output, dkim_output, arc_output, iprev_output) = tokio::join!(
            authenticator.verify_spf(SpfParameters::verify_mail_from(
                ip,
                helo_domain,
                hostname,
                mail_from
            )),
            authenticator.verify_dkim(&message),
            authenticator.verify_arc(&message),
            authenticator.verify_iprev(ip),
        );
        let mail_from_domain = mail_from.rsplit_once('@').map_or(helo_domain, |(_, d)| d);
        let dmarc_output = authenticator
            .verify_dmarc(DmarcParameters::new(
                &message,
                &dkim_output,
                mail_from_domain,
                &spf_output,
            ))
            .await;
        let header = AuthenticationResults::new(hostname)
            .with_dkim_results(&dkim_output, message.from())
            .with_spf_mailfrom_result(&spf_output, ip, mail_from, helo_domain)
            .with_arc_result(&arc_output, ip)
            .with_dmarc_result(&dmarc_output)
            .with_iprev_result(&iprev_output, ip)
            .to_header();
        // RFC 8601 2.7.1: say so when there was no signature to check.
        let header = if dkim_output.is_empty() {
            header.replacen(";\r\n\tspf=", ";\r\n\tdkim=none;\r\n\tspf=", 1)
        } else {
            header
        };
        // DKIM: the best of the signatures (one that verifies is enough).
        let dkim_check = dkim_output
            .iter()
            .map(|o| dkim(o.result()))
            .min_by_key(|c| match c {
                Check::Pass => 0,
                Check::Fail => 1,
                Check::Neutral | Check::SoftFail => 2,
                Check::Error => 3,
                Check::None => 4,
            })
            .unwrap_or(Check::None);
        let dmarc_check = match dmarc_output.result() {
            DmarcResult::Pass => Check::Pass,
            DmarcResult::Fail(_) => Check::Fail,
            DmarcResult::None => Check::None,
            DmarcResult::TempError(_) | DmarcResult::PermError(_) => Check::Error,
        };
        let failed_policy = (dmarc_check == Check::Fail).then(|| match dmarc_output.policy() {
            Policy::Reject => DmarcPolicy::Reject,
            Policy::Quarantine => DmarcPolicy::Quarantine,
            Policy::None | Policy::Unspecified => DmarcPolicy::None,
        });
        let arc_check = match arc_output.result() {
            DkimResult::None => Check::None,
            other => dkim(other),
        };
        Some(Authentication {
            auth: Auth {
                spf: spf(spf_output.result()),
                dkim: dkim_check,
                dmarc: dmarc_check,
                arc: arc_check,
                iprev: match iprev_output.result() {
                    IprevResult::Pass => Check::Pass,
                    IprevResult::Fail(_) | IprevResult::PermError(_) => Check::Fail,
                    IprevResult::TempError(_) => Check::Error,
                    IprevResult::None => Check::None,
                },
            },
            header,
            failed_policy,
            from_domain: dmarc_output.domain().to_string(),
            // iprev passes when any of the first names resolves back; only
            // a single name is surely the one that did.
            client_name: match iprev_output.result() {
                IprevResult::Pass => iprev_output
                    .ptr
                    .as_ref()
                    .filter(|names| names.len() == 1)
                    .and_then(|names| names.first())
                    .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                    // A PTR record can hold anything; only a host name is
                    // written into headers and matched by rules.
                    .filter(|n| {
                        !n.is_empty()
                            && n.len() <= 253
                            && n.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                    }),
                _ => None,
            },
        })
    }
}
