//! Tags from the authentication results (SPF RFC 7208, DKIM RFC 6376,
//! DMARC RFC 7489, ARC RFC 8617, iprev RFC 8601).

use super::{Check, Context, Hit};

pub(super) fn check(context: &Context, hits: &mut Vec<Hit>) {
    let Some(a) = &context.auth else { return };
    hits.push(match a.spf {
        Check::Pass => "SPF_PASS",
        Check::Fail => "SPF_FAIL",
        Check::SoftFail => "SPF_SOFTFAIL",
        Check::Neutral => "SPF_NEUTRAL",
        Check::None => "SPF_NONE",
        Check::Error => "SPF_ERROR",
    });
    hits.push(match a.dkim {
        Check::Pass => "DKIM_VALID",
        Check::Fail | Check::SoftFail | Check::Neutral => "DKIM_INVALID",
        Check::None => "DKIM_NONE",
        Check::Error => "DKIM_ERROR",
    });
    match a.dmarc {
        Check::Pass => hits.push("DMARC_PASS"),
        Check::Fail | Check::SoftFail => hits.push("DMARC_FAIL"),
        _ => {}
    }
    if a.arc == Check::Fail {
        hits.push("ARC_INVALID");
    }
    if a.iprev == Check::Fail {
        hits.push("RDNS_MISMATCH");
    }
}
