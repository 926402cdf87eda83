//! Outbound abuse protection and stats, as users meet them: a client that
//! hammers its sending limit gets the account blocked from sending
//! (submission answers 550 5.7.1), the user and the DomainAdmin find a
//! notice in their Inbox, the block shows under Stats > Blocked senders
//! with its evidence, and it is lifted only after a new password and 2FA.
//! The domain's stats count what was received, sent and refused.

use crate::{api_resources::add, run_python};

#[test]
fn a_client_hammering_its_limit_is_blocked_until_the_account_is_secured() {
    let server = crate::builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    server.cli(&["domain", "add", "example.test"]).ok();
    add(&server, "root@example.test", "master-admin");
    add(&server, "da@example.test", "domain-admin");
    add(&server, "bob@example.test", "mail-user");
    add(&server, "carol@example.test", "mail-user");
    server
        .cli(&["domain-admin", "grant", "da@example.test", "example.test"])
        .ok();
    server
        .cli(&["account", "set", "bob@example.test", "--send-local", "1/1h"])
        .ok();
    let prelude = format!(
        "{}\n{}",
        crate::smtp::submission::PRELUDE,
        include_str!("api_prelude.py")
    );
    run_python(
        &server,
        &prelude,
        r#"
import pyotp, socket
PW = os.environ["PW"]
master = login("root@example.test", PW)[1]["token"]
da = login("da@example.test", PW)[1]["token"]
limits = {"spam_refusals_per_hour": 3, "limit_refusals_per_hour": 2, "bounce_percent": 30, "bounce_min_recipients": 20}
check(call("PUT", "/api/v1/abuse/settings", limits, token=master)[0] == 200)
check(call("GET", "/api/v1/abuse/settings", token=master)[1] == limits)

# An unknown recipient over the MX counts as refused for the domain.
mx = smtplib.SMTP(*env("SMTP"), local_hostname="mx.sender.example", timeout=20)
refused(lambda: mx.sendmail("a@sender.example", ["nobody@example.test"], message("a@sender.example", "nobody@example.test", "hi")), 550, "User doesn't exist")
mx.quit()

s = submission()
s.login("bob@example.test", PW)
s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", "the one allowed"))
for n in range(3):
    refused(lambda: s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", f"again {n}")), 451, "Sending limit reached")
refused(lambda: s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", "blocked")), 550, "5.7.1 Sending blocked for abusive activity; contact your domain administrator")
s.quit()

# Bob still receives and reads mail; both he and the DomainAdmin are told.
notices = [m for m in inbox("bob@example.test") if b"Subject: Your account is blocked from sending" in m]
check(len(notices) == 1 and b"3 submissions refused by the sending limit within an hour" in notices[0], notices)
check(any(b"Subject: Blocked from sending: bob@example.test" in m for m in inbox("da@example.test")), "DomainAdmin notice")

blocks = call("GET", "/api/v1/stats/blocked-senders", token=da)[1]
check(blocks["total"] == 1, blocks)
block = blocks["items"][0]
check(block["email"] == "bob@example.test" and block["reason"] == "sending limit hammered", block)
check(block["evidence"] == ["3 submissions refused by the sending limit within an hour"], block)

# Unblocking waits for a new password and 2FA.
status, code, text = error_of(call("POST", "/api/v1/accounts/bob@example.test/unblock-sending", {}, token=da))
check(status == 409 and "password changed: no, 2FA: off" in text, status, text)
bob = login("bob@example.test", PW)[1]["token"]
NEW = "Brand9NewPassphrase"
check(call("POST", "/api/v1/me/password", {"current": PW, "new": NEW}, token=bob)[0] == 204)
bob = login("bob@example.test", NEW)[1]["token"]
secret = call("POST", "/api/v1/me/2fa/setup", {}, token=bob)[1]["secret"]
check(call("POST", "/api/v1/me/2fa/confirm", {"code": pyotp.TOTP(secret).now()}, token=bob)[0] == 200)
check(call("POST", "/api/v1/accounts/bob@example.test/unblock-sending", {}, token=da)[0] == 204)
check(call("GET", "/api/v1/stats/blocked-senders", token=da)[1]["total"] == 0)
device = call("POST", "/api/v1/me/device-passwords", {"name": "laptop"}, token=bob)[1]["password"]
call("PUT", "/api/v1/accounts/bob@example.test/sending", {"local": "default"}, token=da)
s = submission()
s.login("bob@example.test", device)
s.sendmail("bob@example.test", ["carol@example.test"], message("bob@example.test", "carol@example.test", "back again"))
s.quit()

# Stats: carol received two, bob sent two, one recipient refused.
stats = call("GET", "/api/v1/domains/example.test/stats?days=2", token=da)[1]
today = stats["days"][-1]
check(len(stats["days"]) == 2 and stats["days"][0]["received"] == 0, stats)
check(today["sent"] == 2 and today["rejected"] == 1, stats)
# Received: carol's two messages and the notices to bob and the DomainAdmin.
check(today["received"] == 4, stats)
check(stats["accounts"] == 4 and stats["storage_bytes"] > 0 and stats["blocked_senders"] == 0, stats)
overview = call("GET", "/api/v1/stats?days=1", token=da)[1]
check(overview["items"][0]["domain"] == "example.test" and overview["items"][0]["sent"] == 2, overview)
"#,
    );
}
