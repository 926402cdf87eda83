//! The spam filter as senders and users meet it, over real SMTP and IMAP
//! with a real DNS server publishing SPF and DMARC: authenticated mail in
//! the Inbox with Authentication-Results and X-Spam headers, a spoofed
//! p=reject domain refused, p=quarantine in Junk, greylisting, block and
//! allow lists, the classifier learning from a move out of Junk, outbound
//! spam refused (and blocking the account), and the spam check tool.

use crate::api_resources::add;
use crate::run_python;

const PRELUDE: &str = r#"
import imaplib, json, os, smtplib, ssl, subprocess, sys, time
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
PW = os.environ["PW"]
def mx(sender, rcpt, text, helo="mx.good.example"):
    """(code, reply) of one message over the MX listener."""
    s = smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"]), local_hostname=helo, timeout=30)
    try:
        s.sendmail(sender, [rcpt], text)
        code, reply = 250, b"ok"
    except smtplib.SMTPDataError as e:
        code, reply = e.smtp_code, e.smtp_error
    except smtplib.SMTPRecipientsRefused as e:
        (code, reply), = e.recipients.values()
    s.quit()
    return code, reply.decode()
def message(sender, subject, body, extra=""):
    return (f"From: {sender}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            f"Message-ID: <{time.time_ns()}@{sender.split('@')[1]}>\r\n{extra}\r\n{body}\r\n")
def folder(name):
    m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=CTX)
    m.login("bob@example.test", PW)
    m.select(name, readonly=True)
    typ, data = m.search(None, "ALL")
    found = [m.fetch(n, "(BODY.PEEK[])")[1][0][1].decode() for n in data[0].split()]
    m.logout()
    return found
def header(text, name):
    """A header's value, unfolded."""
    head = text.split("\r\n\r\n", 1)[0].replace("\r\n\t", " ").replace("\r\n ", " ")
    for line in head.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None
def score(text):
    return float(header(text, "X-Spam-Score"))
"#;

fn dns() -> mailroom_testkit::DnsServer {
    mailroom_testkit::DnsServer::start(&[
        (
            "good.example",
            "@ TXT \"v=spf1 ip4:127.0.0.1 -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"",
        ),
        (
            "bank.example",
            "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"",
        ),
        (
            "shop.example",
            "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n_dmarc TXT \"v=DMARC1; p=quarantine\"",
        ),
    ])
}

#[test]
fn inbound_mail_is_authenticated_scored_filed_and_learned_from() {
    let dns = dns();
    let server = crate::builder()
        .nameserver(dns.addr())
        .config("[security]\napi_rate_per_ip = 100000\n[spam]\ngreylist_delay_secs = 1\n")
        .start();
    server.cli(&["domain", "add", "example.test"]).ok();
    add(&server, "root@example.test", "master-admin");
    add(&server, "bob@example.test", "mail-user");
    let corpus = server.data_dir.join("../corpus");
    let prelude = format!("{PRELUDE}\n{}", include_str!("api_prelude.py"));
    run_python(
        &server,
        &prelude,
        &format!(
            r#"
CORPUS = {corpus:?}
MAILROOM = {binary:?}
CONFIG = {config:?}
master = login("root@example.test", PW)[1]["token"]

# Authenticated (SPF pass, aligned: DMARC pass): the Inbox, with the
# results and the score in the headers.
code, reply = mx("alice@good.example", "bob@example.test", message("Alice <alice@good.example>", "Minutes of Monday", "Here are the minutes of Monday's meeting. See you on Thursday."))
check(code == 250, code, reply)
inbox = folder("INBOX")
check(len(inbox) == 1, inbox)
results = header(inbox[0], "Authentication-Results")
check(results.startswith("{hostname}") and "spf=pass" in results and "dmarc=pass" in results and "dkim=none" in results, results)
status = header(inbox[0], "X-Spam-Status")
check(status.startswith("No, score=") and "required=6.0" in status and "SPF_PASS(-0.1)" in status and "DMARC_PASS(-0.3)" in status, status)
check(score(inbox[0]) < 0, inbox[0])

# A domain that publishes p=reject, spoofed from a host it does not list.
code, reply = mx("security@bank.example", "bob@example.test", message("Bank <security@bank.example>", "Your statement", "Your monthly statement is ready."))
check(code == 550 and "5.7.1" in reply and "bank.example requires (DMARC policy reject)" in reply, code, reply)
# p=quarantine: delivered, to Junk.
code, reply = mx("news@shop.example", "bob@example.test", message("Shop <news@shop.example>", "Our autumn catalogue", "The autumn catalogue is out."))
check(code == 250, code, reply)
junk = folder("Junk")
check(len(junk) == 1 and "dmarc=fail" in header(junk[0], "Authentication-Results") and "DMARC_FAIL" in header(junk[0], "X-Spam-Status"), junk)

# Lists: a blocked sender is refused; an allowed IP lets even the spoofed
# p=reject domain through (a domain entry would not: it can be forged).
check(call("POST", "/api/v1/domains/example.test/antispam/lists/block", {{"kind": "email", "value": "pest@good.example"}}, token=master)[0] == 201)
code, reply = mx("pest@good.example", "bob@example.test", message("pest@good.example", "Hello again", "Just checking in."))
check(code == 550 and "blocked by policy" in reply, code, reply)
check(call("POST", "/api/v1/domains/example.test/antispam/lists/allow", {{"kind": "domain", "value": "bank.example"}}, token=master)[0] == 201)
code, reply = mx("security@bank.example", "bob@example.test", message("security@bank.example", "Statement", "Statement ready."))
check(code == 550, "a domain entry does not override DMARC reject", code, reply)
check(call("POST", "/api/v1/domains/example.test/antispam/lists/allow", {{"kind": "ip", "value": "127.0.0.0/8"}}, token=master)[0] == 201)
code, reply = mx("security@bank.example", "bob@example.test", message("security@bank.example", "Statement", "Statement ready."))
check(code == 250, "an allowed IP range does", code, reply)
check(call("DELETE", "/api/v1/domains/example.test/antispam/lists/allow/ip/127.0.0.0%2F8", token=master)[0] == 204)

# Greylisting: a suspicious message from an unknown sender is deferred,
# its retry after the delay (1 s here) accepted, as a real MTA retries.
check(call("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 1, "junk": 999, "reject": 999}}, token=master)[0] == 200)
shady = message("offers@good.example", "Offer", "Click here to buy now, risk free, act now.")
code, reply = mx("offers@good.example", "bob@example.test", shady, helo="localhost")
check(code == 451 and "4.7.1 Greylisted: please try again in 1 second" in reply, code, reply)
for attempt in range(20):
    code, reply = mx("offers@good.example", "bob@example.test", shady, helo="localhost")
    if code == 250:
        break
    check(code == 451, code, reply)
    time.sleep(0.25)
check(code == 250, "the retry is accepted", code, reply)
check(call("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 999, "junk": 6, "reject": 15}}, token=master)[0] == 200)

# The classifier, trained on a small corpus, sends a watch advert with a
# shouted subject to Junk (the global classifier alone would not: it needs
# one other sign); moving it back to the Inbox teaches it, and the next one
# scores lower.
os.makedirs(CORPUS + "/spam"); os.makedirs(CORPUS + "/ham")
for n in range(25):
    rare = " replica chronograph bezel" if n % 6 == 0 else ""
    # Both kinds from good.example: the classifier learns sender domains too.
    open(f"{{CORPUS}}/spam/{{n}}.eml", "w").write(message("deals@good.example", f"Luxury offer {{n}}", f"Luxury watches at discount prices, genuine quality guaranteed, order today offer {{n}}{{rare}}"))
    open(f"{{CORPUS}}/ham/{{n}}.eml", "w").write(message("carol@good.example", f"Project report {{n}}", f"The project report for week {{n}} is attached; the schedule moves the review to Thursday afternoon"))
for kind in ("spam", "ham"):
    out = subprocess.run([MAILROOM, "--config", CONFIG, "spam", "train", "--" + kind, CORPUS + "/" + kind], capture_output=True, text=True)
    check(out.returncode == 0 and "trained 25 of 25" in out.stdout, out.stdout, out.stderr)
advert = message("alice@good.example", "CHRONOGRAPH REPLICAS", "replica chronograph bezel")
# The check tool names the words that swayed the classifier.
open(CORPUS + "/advert.eml", "w").write(advert)
out = subprocess.run([MAILROOM, "--config", CONFIG, "--json", "spam", "check", CORPUS + "/advert.eml"], capture_output=True, text=True)
clues = json.loads(out.stdout)[0]["clues"]
spammy = {{c["token"]: c["probability"] for c in clues["spam"]}}
check("replica" in spammy and "chronograph bezel" in spammy and min(spammy.values()) > 0.6, clues)
check(all(c["probability"] < 0.5 for c in clues["ham"]), clues)
out = subprocess.run([MAILROOM, "--config", CONFIG, "spam", "check", CORPUS + "/advert.eml"], capture_output=True, text=True)
check("spam     clues: " in out.stdout and "replica (" in out.stdout, out.stdout)
check(mx("alice@good.example", "bob@example.test", advert)[0] == 250)
junk = folder("Junk")
check(len(junk) == 2, len(junk))
first = score(junk[-1])
check(first >= 6 and "BAYES_9" in header(junk[-1], "X-Spam-Status"), header(junk[-1], "X-Spam-Status"))
m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=CTX)
m.login("bob@example.test", PW)
m.select("Junk")
typ, data = m.uid("SEARCH", None, "SUBJECT", "Chronograph")
uid = data[0].split()[-1]
typ, data = m.uid("MOVE", uid, "INBOX")
check(typ == "OK", typ, data)
m.logout()
check(mx("alice@good.example", "bob@example.test", advert)[0] == 250)
later = [t for t in folder("INBOX") + folder("Junk") if header(t, "Subject") == "CHRONOGRAPH REPLICAS"]
check(len(later) == 2, len(later))
second = min(score(t) for t in later)
check(second < first - 1, "learned from the move", first, second)
# Training is idempotent: the message is known as ham already; as spam it
# moves, and back again.
m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=CTX)
m.login("bob@example.test", PW)
m.select("INBOX", readonly=True)
inbox_uid = m.uid("SEARCH", None, "SUBJECT", "Chronograph")[1][0].split()[0].decode()
m.logout()
bob = login("bob@example.test", PW)[1]["token"]
train = lambda kind: call("POST", f"/api/v1/accounts/bob@example.test/mailboxes/INBOX/messages/{{inbox_uid}}/train", {{"as": kind}}, token=bob)
check(train("ham")[1] == {{"trained": False}}, "trained as ham by the move already")
check(train("spam")[1] == {{"trained": True}})
check(train("ham")[1] == {{"trained": True}})
check(call("POST", "/api/v1/accounts/bob@example.test/mailboxes/INBOX/messages/99999/train", {{"as": "ham"}}, token=bob)[0] == 404)
check(error_of(train("eggs"))[0] == 400)
"#,
            corpus = corpus.display().to_string(),
            binary = env!("CARGO_BIN_EXE_mailroom"),
            config = server.config_path.display().to_string(),
            hostname = server.hostname,
        ),
    );
}

#[test]
fn outbound_spam_is_refused_and_the_check_tool_explains_a_score() {
    let server = crate::builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    server.cli(&["domain", "add", "example.test"]).ok();
    add(&server, "root@example.test", "master-admin");
    add(&server, "bob@example.test", "mail-user");
    let phishing = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spam/tests/fixtures/phishing.eml");
    // The check tool on the command line: score, verdict, every rule.
    let checked = server
        .cli(&["spam", "check", phishing.to_str().unwrap()])
        .ok()
        .stdout;
    assert!(checked.contains("verdict  junk"), "{checked}");
    assert!(
        checked.contains("URI_TEXT_MISMATCH  a link shows one address and leads to another"),
        "{checked}"
    );
    // A MasterAdmin changes a rule's score.
    server.cli(&["spam", "score", "uri_ip_literal", "4.5"]).ok();
    let scores = server.cli(&["--json", "spam", "scores"]).ok().json();
    let rule = scores
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == "URI_IP_LITERAL")
        .unwrap()
        .clone();
    assert_eq!(
        (rule["score"].as_f64(), rule["default"].as_f64()),
        (Some(4.5), Some(2.0))
    );
    assert!(
        !server
            .cli(&["spam", "score", "NO_SUCH_RULE", "1"])
            .status
            .success()
    );

    let prelude = format!(
        "{}\n{}",
        crate::smtp::submission::PRELUDE,
        include_str!("api_prelude.py")
    );
    run_python(
        &server,
        &prelude,
        &format!(
            r#"
PHISHING = open({phishing:?}, "rb").read()
bob = login("bob@example.test", os.environ["PW"])[1]["token"]
master = login("root@example.test", os.environ["PW"])[1]["token"]
# The check tool over the API, for any user.
import urllib.request
req = urllib.request.Request(BASE + "/api/v1/spam/check", data=PHISHING, method="POST", headers={{"Authorization": "Bearer " + bob, "Content-Type": "message/rfc822"}})
report = json.loads(urllib.request.urlopen(req, timeout=20).read())
tags = {{t["tag"]: t for t in report["tests"]}}
check(report["verdict"] == "junk" and report["thresholds"] == {{"greylist": 4.0, "junk": 6.0, "reject": 15.0}}, report)
check(tags["URI_IP_LITERAL"]["score"] == 4.5 and tags["URI_TEXT_MISMATCH"]["description"], tags)
check(abs(report["score"] - sum(t["score"] for t in report["tests"])) < 0.05, report)
check(report["clues"] == {{"spam": [], "ham": []}}, "no clues before the classifier has learned", report)
# The rules' scores over the API (a MasterAdmin changes them).
check(call("PUT", "/api/v1/spam/scores/SUBJ_ALL_CAPS", {{"score": 2.0}}, token=master)[1]["score"] == 2.0)
default = [r for r in call("GET", "/api/v1/spam/scores", token=master)[1]["items"] if r["tag"] == "SUBJ_ALL_CAPS"][0]["default"]
check(call("PUT", "/api/v1/spam/scores/SUBJ_ALL_CAPS", {{"score": None}}, token=master)[1]["score"] == default != 2.0, "back to the default")
check(call("PUT", "/api/v1/spam/scores/SUBJ_ALL_CAPS", {{"score": 2.0}}, token=bob)[0] == 403)
check(call("GET", "/api/v1/spam/scores", token=bob)[0] == 403)

# Outbound: with the domain's reject threshold at 8, the phishing text is
# refused at submission, and three refusals in an hour block the account.
check(call("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 999, "junk": 6, "reject": 8}}, token=master)[0] == 200)
text = PHISHING.decode().replace("alerts@secure-banking.example", "bob@example.test").replace("ann@example.test", "friend@elsewhere.example")
s = submission()
s.login("bob@example.test", os.environ["PW"])
for n in range(3):
    refused(lambda: s.sendmail("bob@example.test", ["friend@elsewhere.example"], text), 550, "5.7.1 Message refused as spam by the outbound filter (score")
refused(lambda: s.sendmail("bob@example.test", ["friend@elsewhere.example"], text), 550, "Sending blocked for abusive activity")
s.quit()
blocks = call("GET", "/api/v1/stats/blocked-senders", token=master)[1]["items"]
check(blocks[0]["reason"] == "outbound mail refused as spam" and blocks[0]["message_ids"][0] == "<a81@secure-banking.example>", blocks)
"#,
            phishing = phishing.display().to_string(),
        ),
    );
}
