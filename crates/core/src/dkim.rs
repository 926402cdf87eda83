//! DKIM keys (RFC 6376, Ed25519 per RFC 8463): every domain gets an
//! RSA-2048 and an Ed25519 key when it is added, under selectors named by
//! date so a later rotation can publish the next pair beside them, and the
//! DNS records a domain must publish to receive, send and be found.

use mailroom_store::DkimKey;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::Serialize;

use crate::sasl::base64_encode;
use crate::{CoreError, Result};

fn failed(what: &str, error: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("DKIM key generation failed ({what}): {error}"))
}

/// `mr202611r` and `mr202611e`: year and month of creation, then the kind.
fn selector(now: i64, kind: char) -> String {
    let date = crate::time::rfc5322(now);
    // "Sun, 29 Nov 2026 ..." -> 2026 and the month's number.
    let parts: Vec<&str> = date.split_whitespace().collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2]).unwrap_or(0) + 1;
    format!("mr{}{month:02}{kind}", parts[3])
}

/// A new RSA-2048 and Ed25519 key pair for a domain (CPU-heavy: call it
/// off the async threads).
pub fn generate(now: i64) -> Result<Vec<DkimKey>> {
    let rsa =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| failed("rsa", e))?;
    let rsa_private = rsa
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed("rsa", e))?
        .to_string();
    // RFC 6376 3.6.1: p= is the base64 SubjectPublicKeyInfo.
    let rsa_public = rsa
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| failed("rsa", e))?;
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|e| failed("ed25519", e))?;
    let ed = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| failed("ed25519", e))?;
    let ed_private = pem("PRIVATE KEY", pkcs8.as_ref());
    Ok(vec![
        DkimKey {
            selector: selector(now, 'r'),
            algorithm: "rsa-sha256".into(),
            private_key: rsa_private,
            public_key: base64_encode(rsa_public.as_bytes()),
            created_at: now,
        },
        DkimKey {
            selector: selector(now, 'e'),
            algorithm: "ed25519-sha256".into(),
            private_key: ed_private,
            // RFC 8463 4.2: p= is the raw 32-byte public key.
            public_key: base64_encode(ed.public_key().as_ref()),
            created_at: now,
        },
    ])
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    /// What it is for, for the person publishing it.
    pub purpose: &'static str,
}

/// Everything a hosted domain publishes: where its mail goes (MX), who
/// may send it (SPF, DKIM, DMARC), and where clients find the service
/// (RFC 6186 / RFC 8314 SRV records).
pub fn records(domain: &str, hostname: &str, keys: &[DkimKey]) -> Vec<DnsRecord> {
    let record = |name: String, kind, value: String, purpose| DnsRecord {
        name,
        kind,
        value,
        purpose,
    };
    let mut out = vec![
        record(
            format!("{domain}."),
            "MX",
            format!("10 {hostname}."),
            "incoming mail goes to this server",
        ),
        record(
            format!("{domain}."),
            "TXT",
            "v=spf1 mx -all".into(),
            "SPF: only the domain's MX hosts send its mail",
        ),
    ];
    for key in keys {
        let k = if key.algorithm.starts_with("ed25519") {
            "ed25519"
        } else {
            "rsa"
        };
        out.push(record(
            format!("{}._domainkey.{domain}.", key.selector),
            "TXT",
            format!("v=DKIM1; k={k}; p={}", key.public_key),
            "DKIM: the key outgoing mail is signed with",
        ));
    }
    out.push(record(
        format!("_dmarc.{domain}."),
        "TXT",
        format!("v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@{domain}"),
        "DMARC: mail failing SPF and DKIM alignment goes to spam; reports to postmaster",
    ));
    for (service, port, purpose) in [
        ("_submissions._tcp", 465, "clients find sending (TLS)"),
        ("_submission._tcp", 587, "clients find sending (STARTTLS)"),
        ("_imaps._tcp", 993, "clients find IMAP (TLS)"),
        ("_pop3s._tcp", 995, "clients find POP3 (TLS)"),
    ] {
        out.push(record(
            format!("{service}.{domain}."),
            "SRV",
            format!("0 1 {port} {hostname}."),
            purpose,
        ));
    }
    out
}

/// Headers a signature covers when the message has them (RFC 6376 5.4.1).
const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// `DKIM-Signature:` header lines for `message`, one per key of `domain`
/// (RSA and Ed25519 side by side, RFC 8463 7), relaxed/relaxed.
pub fn sign(domain: &str, keys: &[DkimKey], message: &[u8]) -> Result<String> {
    use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;
    use rustls_pki_types::PrivateKeyDer;
    use rustls_pki_types::pem::PemObject;

    let present: Vec<&str> = SIGNED_HEADERS
        .into_iter()
        .filter(|h| has_header(message, h))
        .collect();
    let mut out = String::new();
    for key in keys {
        let der = PrivateKeyDer::from_pem_slice(key.private_key.as_bytes())
            .map_err(|e| failed("reading the key", e))?;
        let signature = if key.algorithm.starts_with("ed25519") {
            let PrivateKeyDer::Pkcs8(pkcs8) = der else {
                return Err(failed("ed25519", "not a PKCS#8 key"));
            };
            let signer = Ed25519Key::from_pkcs8_der(pkcs8.secret_pkcs8_der())
                .map_err(|e| failed("ed25519", e))?;
            DkimSigner::from_key(signer)
                .domain(domain)
                .selector(&key.selector)
                .headers(present.iter().copied())
                .sign(message)
        } else {
            let signer = RsaKey::<Sha256>::from_key_der(der).map_err(|e| failed("rsa", e))?;
            DkimSigner::from_key(signer)
                .domain(domain)
                .selector(&key.selector)
                .headers(present.iter().copied())
                .sign(message)
        }
        .map_err(|e| failed("signing", e))?;
        out.push_str(&signature.to_header());
    }
    Ok(out)
}

/// Whether the message's header has a field called `name`.
fn has_header(message: &[u8], name: &str) -> bool {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 2);
    message[..end].split(|&b| b == b'\n').any(|line| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && line[name.len()] == b':'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_dated_and_records_complete() {
        // 2026-11-29
        let now = 1_795_946_400;
        assert_eq!(selector(now, 'r'), "mr202611r");
        let keys = generate(now).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(
            keys[0]
                .private_key
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(keys[1].public_key.len(), 44, "32 bytes in base64");
        let records = records("example.test", "mail.example.test", &keys);
        let find = |name: &str| records.iter().find(|r| r.name == name).unwrap();
        assert_eq!(find("example.test.").value, "10 mail.example.test.");
        assert!(
            find("mr202611r._domainkey.example.test.")
                .value
                .starts_with("v=DKIM1; k=rsa; p=MIIBIjAN")
        );
        assert!(
            find("mr202611e._domainkey.example.test.")
                .value
                .starts_with("v=DKIM1; k=ed25519; p=")
        );
        assert!(
            find("_dmarc.example.test.")
                .value
                .starts_with("v=DMARC1; p=quarantine")
        );
        assert_eq!(
            find("_submission._tcp.example.test.").value,
            "0 1 587 mail.example.test."
        );
    }
}
