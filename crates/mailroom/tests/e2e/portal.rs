//! The portal in a real browser (Debian's Chromium driven by
//! playwright-core, `tests/browser/portal.mjs`): logging in, adding a
//! domain, an account and an alias, enrolling 2FA, creating a device
//! password, and the "Invalid authorization" a replaced session gets.
//! Screenshots are left in the target directory.

use std::path::Path;
use std::process::Command;

use crate::{builder, run_python};

#[test]
fn the_portal_works_in_a_real_browser() {
    let server = builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    server.cli(&["domain", "add", "example.test"]).ok();
    server
        .cli_with_stdin(
            &[
                "account",
                "add",
                "root@example.test",
                "--role",
                "master-admin",
                "--password-stdin",
            ],
            &format!("{}\n", mailroom_testkit::PASSWORD),
        )
        .ok();
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
    assert!(shots.join("session-ended.png").exists());
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
