//! Sender Rewriting Scheme: a forwarded message leaves with an envelope
//! sender in our own domain, so SPF at the destination checks our servers,
//! and a bounce to that address can be traced back to the real sender.
//!
//! `SRS0=HASH=TT=example.org=alice@forwarder.test` carries the original
//! sender; `SRS1=HASH=first.test==HASH=TT=example.org=alice@forwarder.test`
//! is what a second forwarder makes of an SRS0 address, pointing back at
//! the first one instead of growing. TT is the day (base32, mod 1024); the
//! hash (HMAC-SHA256 keyed with the server's secret, base32 so case does
//! not matter) stops anyone from using us as a relay with made-up
//! addresses.

use ring::hmac;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HASH_LEN: usize = 6;
/// How long a rewritten address is honoured for bounces.
pub const MAX_AGE_DAYS: i64 = 21;

/// Why a rewritten address is not honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrsError {
    Malformed,
    BadHash,
    Expired,
}

#[derive(Clone)]
pub struct Srs {
    key: hmac::Key,
}

impl Srs {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn hash(&self, parts: &[&str]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            ctx.update(part.to_ascii_lowercase().as_bytes());
            ctx.update(b"\0");
        }
        base32(ctx.sign().as_ref())[..HASH_LEN].to_string()
    }

    fn hash_ok(&self, given: &str, parts: &[&str]) -> bool {
        let want = self.hash(parts);
        // Constant-time enough for a 30-bit tag: compare every byte.
        given.len() == want.len()
            && given
                .bytes()
                .zip(want.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_uppercase() ^ b))
                == 0
    }

    /// The envelope sender to use when forwarding mail from `sender`
    /// through `via_domain` (one of ours). The null sender stays null.
    pub fn forward(&self, sender: &str, via_domain: &str, now: i64) -> String {
        let Some((local, domain)) = sender.rsplit_once('@') else {
            return sender.to_string();
        };
        if let Some(rest) = strip_tag(local, "SRS0") {
            // Someone else's SRS0: point back at them (SRS1).
            let opaque = format!("={rest}");
            let hash = self.hash(&[domain, &opaque]);
            return format!("SRS1={hash}={domain}={opaque}@{via_domain}");
        }
        if let Some(rest) = strip_tag(local, "SRS1") {
            // Already SRS1: keep the first forwarder, re-sign for us.
            if let Some((_, tail)) = rest.split_once('=')
                && let Some((first, opaque)) = tail.split_once('=')
            {
                let hash = self.hash(&[first, opaque]);
                return format!("SRS1={hash}={first}={opaque}@{via_domain}");
            }
        }
        let stamp = day_stamp(now);
        let hash = self.hash(&[&stamp, domain, local]);
        format!("SRS0={hash}={stamp}={domain}={local}@{via_domain}")
    }

    /// The address a bounce to `local` (an SRS local part at one of our
    /// domains) belongs to; `None` if `local` is no SRS address.
    pub fn reverse(&self, local: &str, now: i64) -> Option<Result<String, SrsError>> {
        if let Some(rest) = strip_tag(local, "SRS0") {
            return Some(self.reverse0(rest, now));
        }
        let rest = strip_tag(local, "SRS1")?;
        Some((|| {
            let (hash, tail) = rest.split_once('=').ok_or(SrsError::Malformed)?;
            let (first, opaque) = tail.split_once('=').ok_or(SrsError::Malformed)?;
            if first.is_empty() || !opaque.starts_with('=') {
                return Err(SrsError::Malformed);
            }
            if !self.hash_ok(hash, &[first, opaque]) {
                return Err(SrsError::BadHash);
            }
            // Back to the first forwarder, which checks its own SRS0.
            Ok(format!("SRS0{opaque}@{first}"))
        })())
    }

    fn reverse0(&self, rest: &str, now: i64) -> Result<String, SrsError> {
        let mut parts = rest.splitn(4, '=');
        let (Some(hash), Some(stamp), Some(domain), Some(local)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SrsError::Malformed);
        };
        if domain.is_empty() || local.is_empty() {
            return Err(SrsError::Malformed);
        }
        if !self.hash_ok(hash, &[stamp, domain, local]) {
            return Err(SrsError::BadHash);
        }
        let day = decode_stamp(stamp).ok_or(SrsError::Malformed)?;
        let today = (now / 86_400).rem_euclid(1024);
        if (today - day).rem_euclid(1024) > MAX_AGE_DAYS {
            return Err(SrsError::Expired);
        }
        Ok(format!("{local}@{domain}"))
    }
}

/// `rest` after `TAG=` or `TAG-` / `TAG+` (separators other forwarders
/// use), whatever the case.
fn strip_tag<'a>(local: &'a str, tag: &str) -> Option<&'a str> {
    let head = local.get(..tag.len())?;
    if !head.eq_ignore_ascii_case(tag) {
        return None;
    }
    let rest = &local[tag.len()..];
    rest.strip_prefix(['=', '-', '+'])
}

fn day_stamp(now: i64) -> String {
    let day = (now / 86_400).rem_euclid(1024) as usize;
    [BASE32[day >> 5] as char, BASE32[day & 31] as char]
        .iter()
        .collect()
}

fn decode_stamp(stamp: &str) -> Option<i64> {
    let digit = |c: u8| {
        BASE32
            .iter()
            .position(|&b| b == c.to_ascii_uppercase())
            .map(|p| p as i64)
    };
    match stamp.as_bytes() {
        [a, b] => Some(digit(*a)? * 32 + digit(*b)?),
        _ => None,
    }
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn a_forwarded_sender_comes_back_from_a_bounce() {
        let srs = Srs::new(b"secret");
        let rewritten = srs.forward("Alice@example.org", "fwd.test", NOW);
        assert!(rewritten.starts_with("SRS0="), "{rewritten}");
        assert!(
            rewritten.ends_with("=example.org=Alice@fwd.test"),
            "{rewritten}"
        );
        let local = rewritten.rsplit_once('@').unwrap().0;
        assert_eq!(
            srs.reverse(local, NOW + 86_400),
            Some(Ok("Alice@example.org".into()))
        );
        // Mail systems may change the case of the local part.
        assert_eq!(
            srs.reverse(&local.to_lowercase(), NOW),
            Some(Ok("alice@example.org".into()))
        );
        assert_eq!(srs.forward("", "fwd.test", NOW), "");
    }

    #[test]
    fn forged_expired_and_foreign_addresses_are_refused() {
        let srs = Srs::new(b"secret");
        let rewritten = srs.forward("alice@example.org", "fwd.test", NOW);
        let local = rewritten.rsplit_once('@').unwrap().0;
        let forged = local.replace("alice", "mallory");
        assert_eq!(srs.reverse(&forged, NOW), Some(Err(SrsError::BadHash)));
        assert_eq!(
            Srs::new(b"other").reverse(local, NOW),
            Some(Err(SrsError::BadHash))
        );
        assert_eq!(
            srs.reverse(local, NOW + (MAX_AGE_DAYS + 1) * 86_400),
            Some(Err(SrsError::Expired))
        );
        assert_eq!(srs.reverse("SRS0=x", NOW), Some(Err(SrsError::Malformed)));
        assert_eq!(srs.reverse("alice", NOW), None);
    }

    #[test]
    fn a_second_forwarder_points_back_at_the_first() {
        let first = Srs::new(b"first");
        let second = Srs::new(b"second");
        let once = first.forward("alice@example.org", "one.test", NOW);
        let twice = second.forward(&once, "two.test", NOW);
        assert!(twice.starts_with("SRS1="), "{twice}");
        assert!(twice.contains("=one.test=="), "{twice}");
        // A third hop keeps pointing at the first forwarder.
        let thrice = second.forward(&twice, "three.test", NOW);
        assert!(thrice.contains("=one.test==") && thrice.ends_with("@three.test"));
        let back = second
            .reverse(twice.rsplit_once('@').unwrap().0, NOW)
            .unwrap()
            .unwrap();
        assert_eq!(back, once);
        assert_eq!(
            first.reverse(back.rsplit_once('@').unwrap().0, NOW),
            Some(Ok("alice@example.org".into()))
        );
    }
}
