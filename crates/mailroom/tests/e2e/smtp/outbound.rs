//! Mail for other domains: queued durably at submission, handed to the
//! remote host (here a second mailroom, as the smart host), and a
//! recipient the remote refuses comes back to the sender as a DSN naming
//! the host and its reply. An unreachable host leaves the message queued.

use crate::{builder, run_python, server};

pub(super) const PRELUDE: &str = r#"
import imaplib, json, os, smtplib, ssl, sys
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def check(cond, *what):
    if not cond:
        print("FAILED:", *what)
        sys.exit(1)
def submit(sender, to, subject):
    s = smtplib.SMTP(os.environ["MR_SUBMISSION_HOST"], int(os.environ["MR_SUBMISSION_PORT"]), timeout=20)
    s.starttls(context=CTX)
    s.login(sender, os.environ["PW"])
    s.sendmail(sender, to, f"From: {sender}\r\nTo: {', '.join(to)}\r\nSubject: {subject}\r\n\r\nThe agenda for Monday is attached below.\r\n")
    s.quit()
def wait_for_mail(port, user, count=1, seconds=30):
    """The INBOX's messages once it holds `count`: waits in IMAP IDLE for
    the server to announce them (no polling); fails after `seconds`."""
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=CTX)
    m.login(user, os.environ["PW"])
    typ, data = m.select("INBOX", readonly=True)
    exists = int(data[0])
    if exists < count:
        m.sock.settimeout(seconds)
        m.send(b"w1 IDLE\r\n")
        while exists < count:
            parts = m._get_line().split()
            if len(parts) == 3 and parts[2] == b"EXISTS":
                exists = int(parts[1])
        m.send(b"DONE\r\n")
        while not m._get_line().startswith(b"w1 "):
            pass
    found = [m.fetch(str(n), "(BODY.PEEK[])")[1][0][1] for n in range(1, exists + 1)]
    m.logout()
    return found
"#;

#[test]
fn mail_to_another_domain_is_delivered_and_a_refused_recipient_bounces() {
    let remote = server();
    remote.cli(&["domain", "add", "far.test"]).ok();
    remote.add_user("friend@far.test");
    let relay = remote.addr("smtp");
    let server = builder()
        .config(&format!("[outbound]\nrelay = \"{relay}\"\n"))
        .start();
    server.add_user("bob@example.test");
    let remote_imaps = remote.addr("imaps").port();
    // The records the sender's domain publishes, served to dkimpy.
    let records: serde_json::Map<String, serde_json::Value> = server
        .cli(&["--json", "domain", "dns", "example.test"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "TXT")
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["value"].clone()))
        .collect();
    let records = serde_json::Value::Object(records).to_string();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
import dkim
RECORDS = json.loads({records:?})
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    value = RECORDS.get(name if name.endswith(".") else name + ".")
    return value.encode() if value else None
submit("bob@example.test", ["friend@far.test", "nobody@far.test"], "Monday")
got = wait_for_mail({remote_imaps}, "friend@far.test")
# Signed with both keys of example.test, each verified by dkimpy.
check(got[0].count(b"DKIM-Signature:") == 2, got[0][:1500])
verifier = dkim.DKIM(got[0])
check(verifier.verify(idx=0, dnsfunc=dnsfunc), "the first signature verifies", got[0][:1500])
check(verifier.verify(idx=1, dnsfunc=dnsfunc), "the second signature verifies")
check(b"a=ed25519-sha256" in got[0] and b"a=rsa-sha256" in got[0], "one RSA and one Ed25519 signature")
check(b"Subject: Monday" in got[0] and b"with ESMTPSA" in got[0], got[0][:500])
# The remote offered STARTTLS, so the hop was encrypted (its Received says ESMTPS).
check(b"with ESMTPS id" in got[0], "delivered over TLS", got[0][:500])
bounce = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "bob@example.test")[0].decode()
check("Subject: Undelivered Mail Returned to Sender" in bounce, bounce[:400])
check("Return-Path: <>" in bounce, "a bounce has the null sender", bounce[:400])
check("<nobody@far.test>: 127.0.0.1 said: 550 5.1.1" in bounce, bounce)
check("Final-Recipient: rfc822; nobody@far.test" in bounce and "Status: 5.1.1" in bounce, bounce)
check("Subject: Monday" in bounce.split("text/rfc822-headers")[1], "the original header is returned")
"#
        ),
    );
    let listed = server.cli(&["--json", "queue", "list"]).ok().json();
    assert_eq!(
        listed,
        serde_json::json!([]),
        "settled messages leave the queue"
    );
}

/// The queue listing once the first delivery attempt is recorded (the
/// server says so in its log, which the test kit follows).
pub(super) fn wait_for_attempt(server: &mailroom_testkit::Server) -> serde_json::Value {
    server.wait_for_log(
        "delivery attempts recorded",
        std::time::Duration::from_secs(30),
    );
    server.cli(&["--json", "queue", "list"]).ok().json()
}

#[test]
fn an_unreachable_host_keeps_the_message_queued_for_a_retry() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let server = builder()
        .config(&format!("[outbound]\nrelay = \"127.0.0.1:{port}\"\n"))
        .start();
    server.add_user("bob@example.test");
    run_python(
        &server,
        PRELUDE,
        r#"
submit("bob@example.test", ["friend@far.test"], "Monday")
"#,
    );
    // The worker's first attempt fails; the message stays, due later.
    let listed = wait_for_attempt(&server);
    let recipient = listed[0]["recipients"][0].clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        recipient["next_attempt_at"].as_i64().unwrap() - now > 30,
        "{recipient}"
    );
    assert!(
        recipient["last_reply"]
            .as_str()
            .unwrap()
            .contains("no host took the message"),
        "{recipient}"
    );
    let listed = server.cli(&["--json", "queue", "list"]).ok().json();
    let id = listed[0]["id"].as_i64().unwrap();
    let shown = server.cli(&["queue", "show", &id.to_string()]).ok().stdout;
    assert!(
        shown.contains("friend@far.test") && shown.contains("pending"),
        "{shown}"
    );
    server.cli(&["queue", "retry", &id.to_string()]).ok();
    server.cli(&["queue", "delete", &id.to_string()]).ok();
    assert_eq!(
        server.cli(&["--json", "queue", "list"]).ok().json(),
        serde_json::json!([])
    );
    let err = server.cli(&["queue", "show", &id.to_string()]).fails();
    assert!(err.contains(&format!("no queued message {id}")), "{err}");
}

#[test]
fn relay_policy_bounces_blocked_tlds_and_senders_with_the_exact_reason() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let server = builder()
        .config(&format!("[outbound]\nrelay = \"127.0.0.1:{port}\"\n"))
        .start();
    server.cli(&["domain", "add", "shop.icu"]).ok();
    server.add_user("ann@shop.icu");
    server.add_user("bob@example.test");
    let listed = server.cli(&["relay-policy", "list"]).ok().stdout;
    assert!(
        listed.contains("tld") && listed.contains("icu"),
        "icu is blocked by default: {listed}"
    );
    let bounce_check = |user: &str, text: &str| {
        format!(
            r#"
submit("{user}", ["friend@far.test"], "Offer")
bounce = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "{user}")[-1].decode()
check("Undelivered Mail Returned to Sender" in bounce, bounce[:300])
check("<friend@far.test>: 550 5.7.1 {text}" in bounce, bounce)
check("Diagnostic-Code: smtp; 550 5.7.1 {text}" in bounce, bounce)
"#
        )
    };
    run_python(
        &server,
        PRELUDE,
        &bounce_check(
            "ann@shop.icu",
            "Your domain's TLD is blacklisted from sending through this relay",
        ),
    );
    assert_eq!(
        server.cli(&["--json", "queue", "list"]).ok().json(),
        serde_json::json!([])
    );
    // A MasterAdmin exempts the domain: its mail is queued like any other.
    server.cli(&["relay-policy", "exempt", "shop.icu"]).ok();
    run_python(
        &server,
        PRELUDE,
        r#"submit("ann@shop.icu", ["friend@far.test"], "Offer")"#,
    );
    let queued = server.cli(&["--json", "queue", "list"]).ok().json();
    assert_eq!(queued[0]["sender"], "ann@shop.icu", "{queued}");
    // A blocked sender domain.
    server
        .cli(&["relay-policy", "block-sender", "example.test"])
        .ok();
    run_python(
        &server,
        PRELUDE,
        &bounce_check(
            "bob@example.test",
            "Sender email or domain is blacklisted from sending through this relay",
        ),
    );
    let err = server.cli(&["relay-policy", "unblock-tld", "com"]).fails();
    assert!(err.contains("com is not a blocked TLD"), "{err}");
}

#[test]
fn mail_is_routed_by_the_mx_records_a_real_dns_server_publishes() {
    let remote = server();
    for domain in ["far.test", "bare.test"] {
        remote.cli(&["domain", "add", domain]).ok();
    }
    remote.add_user("friend@far.test");
    remote.add_user("pal@bare.test");
    // far.test's preferred MX refuses connections (nothing listens on
    // 127.0.0.2), so the next one is tried; bare.test has no MX, only an
    // address (RFC 5321 5.1); nomail.test publishes a null MX (RFC 7505).
    let dns = mailroom_testkit::DnsServer::start(&[
        (
            "far.test",
            "@ MX 5 dead\n@ MX 10 mx\ndead A 127.0.0.2\nmx A 127.0.0.1",
        ),
        ("bare.test", "@ A 127.0.0.1"),
        ("nomail.test", "@ MX 0 ."),
    ]);
    let server = builder()
        .config(&format!(
            "[outbound]\nnameserver = \"{}\"\nport = {}\n",
            dns.addr(),
            remote.addr("smtp").port()
        ))
        .start();
    server.add_user("bob@example.test");
    let remote_imaps = remote.addr("imaps").port();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
submit("bob@example.test", ["friend@far.test", "pal@bare.test", "someone@nomail.test"], "Routing")
for user in ["friend@far.test", "pal@bare.test"]:
    got = wait_for_mail({remote_imaps}, user)
    check(b"Subject: Routing" in got[0], user, got[0][:400])
bounce = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "bob@example.test")[0].decode()
check("<someone@nomail.test>: nomail.test does not accept mail (null MX)" in bounce, bounce)
check("Status: 5.1.10" in bounce, bounce)
check("friend@far.test" not in bounce.split("text/rfc822-headers")[0], "only the null MX recipient bounced", bounce)
"#
        ),
    );
    assert_eq!(
        server.cli(&["--json", "queue", "list"]).ok().json(),
        serde_json::json!([]),
        "every recipient settled"
    );
}
