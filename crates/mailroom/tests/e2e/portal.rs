//! The portal in a real browser (Debian's Chromium driven by
//! playwright-core, `tests/browser/portal.mjs`): every page of the menu
//! as the MasterAdmin, with the keyboard and on a phone-sized screen; the
//! DomainAdmin's and MailUser's menus; enrolling 2FA, a device password
//! then used over IMAP, and the "Invalid authorization" a replaced
//! session gets. Screenshots are left in the target directory.

use std::path::Path;
use std::process::Command;

use crate::api_resources::add;
use crate::{builder, run_python};

#[test]
fn the_portal_works_in_a_real_browser() {
    let server = builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    server.cli(&["domain", "add", "example.test"]).ok();
    add(&server, "root@example.test", "master-admin");
    add(&server, "da@example.test", "domain-admin");
    add(&server, "bob@example.test", "mail-user");
    server
        .cli(&["domain-admin", "grant", "da@example.test", "example.test"])
        .ok();
    // Bob's mail program hammers its sending limit until he is blocked,
    // for the Blocked senders page.
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
master = login("root@example.test", os.environ["PW"])[1]["token"]
check(call("PUT", "/api/v1/abuse/settings", {"spam_refusals_per_hour": 3, "limit_refusals_per_hour": 1, "bounce_percent": 30, "bounce_min_recipients": 20}, token=master)[0] == 200)
s = submission()
s.login("bob@example.test", os.environ["PW"])
for n in range(3):
    try:
        s.sendmail("bob@example.test", ["da@example.test"], message("bob@example.test", "da@example.test", f"note {n}"))
    except smtplib.SMTPException:
        pass
s.quit()
check(call("GET", "/api/v1/stats/blocked-senders", token=master)[1]["total"] == 1)
"#,
    );
    // The page's own protections.
    run_python(
        &server,
        "",
        r#"
import os, urllib.request
r = urllib.request.urlopen(f"http://{os.environ['MR_HTTP_HOST']}:{os.environ['MR_HTTP_PORT']}/", timeout=10)
csp = r.headers["Content-Security-Policy"]
assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
assert r.headers["X-Frame-Options"] == "DENY"
assert "<script type=\"module\" src=\"/portal/app.js\">" in r.read().decode()
"#,
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/portal.mjs");
    let out = Command::new("node")
        .arg(&script)
        .env("MR_BASE", format!("http://{}", server.addr("http")))
        .env("MR_USER", "root@example.test")
        .env("MR_DA", "da@example.test")
        .env("MR_MAILUSER", "bob@example.test")
        .env("MR_PASSWORD", mailroom_testkit::PASSWORD)
        .env("MR_SHOTS", &shots)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for shot in [
        "accounts",
        "account",
        "domains",
        "aliases",
        "forwards",
        "antispam-lists",
        "antispam-thresholds",
        "dns",
        "global-lists",
        "sending-limits",
        "policy",
        "stats",
        "blocked-senders",
        "queue",
        "security-log",
        "my-account",
        "device-passwords",
        "api-keys",
        "domain-admin",
        "phone",
        "session-ended",
    ] {
        assert!(shots.join(format!("{shot}.png")).exists(), "{shot}.png");
    }
    // The device password made in the browser works for IMAP.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let device = stdout
        .lines()
        .find_map(|l| l.strip_prefix("DEVICE_PASSWORD="))
        .expect("the browser printed the device password");
    run_python(
        &server,
        "",
        &format!(
            r#"
import imaplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m.login("root@example.test", {device:?})
m.logout()
"#
        ),
    );
    // What the browser did is in the directory.
    let accounts = server.cli(&["--json", "account", "list"]).ok().json();
    assert!(
        accounts.to_string().contains("ann@portal.test"),
        "{accounts}"
    );
    let root = server
        .cli(&["--json", "account", "show", "root@example.test"])
        .ok()
        .json();
    assert_eq!(root["two_factor"], true, "2FA enrolled in the browser");
}
