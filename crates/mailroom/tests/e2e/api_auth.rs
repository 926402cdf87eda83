//! Portal/API logins over real HTTP: one live session per account (the
//! older one is told it was ended by a newer login), the same answer for
//! every wrong credential, API access off refused with its own code, a
//! TOTP code required with 2FA on, and API keys that logins do not end.

use crate::{run_python, server};

const PRELUDE: &str = include_str!("api_prelude.py");

#[test]
fn a_new_login_ends_the_older_session_and_wrong_credentials_get_one_answer() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    server
        .cli(&[
            "account",
            "set",
            "carol@example.test",
            "--api-access",
            "false",
        ])
        .ok();
    let pw = mailroom_testkit::PASSWORD;
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
status, body, headers = login("bob@example.test", "{pw}")
check(status == 200 and body["account"]["email"] == "bob@example.test", status, body)
first = body["token"]
cookie = headers["Set-Cookie"]
check("HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie, cookie)
check(call("GET", "/api/v1/me", token=first)[1]["email"] == "bob@example.test")
# The portal's cookie works as well as the bearer token.
check(call("GET", "/api/v1/me", cookie=cookie.split(";")[0])[0] == 200)
# A second browser logs in: the first session is over, and says why.
second = login("bob@example.test", "{pw}")[1]["token"]
check(error_of(call("GET", "/api/v1/me", token=first)) ==
      (401, "invalid_authorization", "Invalid authorization: this session was ended by a newer login"))
check(call("GET", "/api/v1/me", token=second)[0] == 200)
# Logging out ends the session.
check(call("POST", "/api/v1/auth/logout", token=second)[0] == 204)
status, code, message = error_of(call("GET", "/api/v1/me", token=second))
check(status == 401 and code == "invalid_authorization", status, code, message)
check(error_of(call("GET", "/api/v1/me")) == (401, "invalid_authorization", "Invalid authorization: please log in"))
# Wrong password, unknown account: the same answer.
for user, password in [("bob@example.test", "Wrong1Password2"), ("nobody@example.test", "{pw}")]:
    check(error_of(login(user, password)) == (401, "authentication_error", "Authentication error"), user)
# API access off: its own code, and the sentence says mail still works.
status, code, message = error_of(login("carol@example.test", "{pw}"))
check(status == 403 and code == "api_access_disabled" and "mail programs still work" in message, message)
"#
        ),
    );
    // A disabled account gets the wrong-password answer.
    server
        .cli(&["account", "set", "bob@example.test", "--enabled", "false"])
        .ok();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"check(error_of(login("bob@example.test", "{pw}")) == (401, "authentication_error", "Authentication error"))"#
        ),
    );
}

#[test]
fn with_2fa_the_portal_wants_a_code_and_api_keys_outlive_logins() {
    let server = server();
    server.add_user("bob@example.test");
    let secret = server
        .cli(&["--json", "2fa", "setup", "bob@example.test"])
        .ok()
        .json()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let code = server
        .python(&format!(
            "import pyotp\nprint(pyotp.TOTP({secret:?}).now())"
        ))
        .ok()
        .stdout
        .trim()
        .to_string();
    server
        .cli(&["2fa", "confirm", "bob@example.test", &code])
        .ok();
    let key = server
        .cli(&[
            "--json",
            "api-key",
            "add",
            "bob@example.test",
            "backup script",
            "--read-only",
        ])
        .ok()
        .json()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let pw = mailroom_testkit::PASSWORD;
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
import pyotp, time
check(error_of(login("bob@example.test", "{pw}"))[:2] == (401, "totp_required"))
check(error_of(login("bob@example.test", "{pw}", "000000"))[:2] == (401, "totp_invalid"))
# The enrolment code was used; the next step's code is within the
# allowed clock skew (one step), and is new.
code = pyotp.TOTP({secret:?}).at(time.time() + 30)
check(code != {code:?}, "a different code")
status, body, _ = login("bob@example.test", "{pw}", code)
check(status == 200, status, body)
me = call("GET", "/api/v1/me", token={key:?})[1]
check(me["email"] == "bob@example.test" and me["read_only"] is True, me)
"#
        ),
    );
    let listed = server
        .cli(&["--json", "api-key", "list", "bob@example.test"])
        .ok()
        .json();
    assert_eq!(listed[0]["name"], "backup script", "{listed}");
    assert!(listed[0]["last_used_at"].is_i64(), "{listed}");
    assert!(!listed.to_string().contains(&key));
    server
        .cli(&["api-key", "revoke", "bob@example.test", "backup script"])
        .ok();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"check(error_of(call("GET", "/api/v1/me", token={key:?})) == (401, "invalid_authorization", "Invalid authorization: unknown or revoked API key"))"#
        ),
    );
}

#[test]
fn a_user_enrols_2fa_through_the_api_with_a_qr_code_an_app_can_read() {
    let server = server();
    server.add_user("bob@example.test");
    let pw = mailroom_testkit::PASSWORD;
    let png = server.data_dir.join("qr.png");
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
import pyotp, subprocess, time
token = login("bob@example.test", "{pw}")[1]["token"]
status, setup, _ = call("POST", "/api/v1/me/2fa/setup", {{}}, token=token)
check(status == 200 and setup["uri"].startswith("otpauth://totp/"), status, setup)
check(setup["qr_svg"].startswith("<?xml") and "<svg" in setup["qr_svg"], setup["qr_svg"][:100])
req = urllib.request.Request(BASE + "/api/v1/me/2fa/qr.png", headers={{"Authorization": "Bearer " + token}})
with urllib.request.urlopen(req, timeout=20) as r:
    check(r.headers["Content-Type"] == "image/png")
    open({png:?}, "wb").write(r.read())
# zbarimg reads the code as an authenticator app's camera would.
read = subprocess.run(["zbarimg", "--raw", "-q", {png:?}], capture_output=True, text=True)
check(read.stdout.strip() == setup["uri"], "the QR code carries the URI", read.stdout, read.stderr)
app = pyotp.parse_uri(read.stdout.strip())
check(error_of(call("POST", "/api/v1/me/2fa/confirm", {{"code": "000000"}}, token=token))[:2] == (400, "invalid"))
status, body, _ = call("POST", "/api/v1/me/2fa/confirm", {{"code": app.now()}}, token=token)
check(status == 200 and len(body["recovery_codes"]) == 10, status, body)
check(call("GET", "/api/v1/me", token=token)[1]["two_factor"] is True)
check(error_of(login("bob@example.test", "{pw}"))[:2] == (401, "totp_required"))
"#,
            png = png.display().to_string()
        ),
    );
    // The CLI writes the same kind of code for an administrator.
    server.add_user("carol@example.test");
    let file = server.data_dir.join("carol.png");
    let setup = server
        .cli(&[
            "--json",
            "2fa",
            "setup",
            "carol@example.test",
            "--qr-png",
            file.to_str().unwrap(),
        ])
        .ok()
        .json();
    let read = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&file)
        .output()
        .expect("zbarimg");
    assert_eq!(
        String::from_utf8_lossy(&read.stdout).trim(),
        setup["uri"].as_str().unwrap()
    );
}

#[test]
fn changing_the_password_needs_the_current_one_and_ends_sessions_that_used_it() {
    let server = server();
    server.add_user("bob@example.test");
    let pw = mailroom_testkit::PASSWORD;
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
import imaplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m.login("bob@example.test", "{pw}")
token = login("bob@example.test", "{pw}")[1]["token"]
status, code, message = error_of(call("POST", "/api/v1/me/password", {{"current": "Wrong1Password2", "new": "Brand2NewPassword9"}}, token=token))
check(status == 400 and "current password is not right" in message, message)
status, code, message = error_of(call("POST", "/api/v1/me/password", {{"current": "{pw}", "new": "short"}}, token=token))
check(status == 400, "the password policy applies", message)
check(call("POST", "/api/v1/me/password", {{"current": "{pw}", "new": "Brand2NewPassword9"}}, token=token)[0] == 204)
# The session that changed it goes on; the IMAP session on the old
# password ends at its next command.
check(call("GET", "/api/v1/me", token=token)[0] == 200)
try:
    m.noop()
    check(False, "the old-password IMAP session should have ended")
except imaplib.IMAP4.abort as e:
    check("Access was revoked" in str(e), str(e))
m2 = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m2.login("bob@example.test", "Brand2NewPassword9")
m2.logout()
"#
        ),
    );
    // A reset by an administrator (here the CLI) ends every session too,
    // and revokes the API keys and device passwords the holder of the old
    // password could have made: resets follow leaks.
    let made = run_python(
        &server,
        PRELUDE,
        r#"
status, body, _ = login("bob@example.test", "Brand2NewPassword9")
check(status == 200, status, body)
token = body["token"]
status, key = call("POST", "/api/v1/me/api-keys", {"name": "script"}, token=token)[:2]
check(status == 201, status, key)
status, device = call("POST", "/api/v1/me/device-passwords", {"name": "phone"}, token=token)[:2]
check(status == 201, status, device)
check(call("GET", "/api/v1/me", token=key["key"])[0] == 200)
print(token, key["key"], device["password"].replace(" ", ""))
"#,
    );
    let made: Vec<&str> = made.split_whitespace().collect();
    let (token, key, device) = (made[0], made[1], made[2]);
    server
        .cli_with_stdin(
            &["account", "passwd", "bob@example.test", "--password-stdin"],
            "Reset3ByAdmin77\n",
        )
        .ok();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
check(call("GET", "/api/v1/me", token="{token}")[0] == 401, "the session of the old password ended")
check(call("GET", "/api/v1/me", token="{key}")[0] == 401, "the API key was revoked")
import imaplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
try:
    m.login("bob@example.test", "{device}")
    check(False, "the device password was revoked")
except imaplib.IMAP4.error:
    pass
m.login("bob@example.test", "Reset3ByAdmin77")
"#
        ),
    );
    let log = server
        .cli(&["--json", "security", "log", "--account", "bob@example.test"])
        .ok()
        .json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "password-changed"),
        "{log}"
    );
    assert!(
        log.as_array().unwrap().iter().any(|e| {
            e["event"] == "credentials-revoked"
                && e["detail"].as_str().is_some_and(|d| {
                    d.contains("API key \"script\"") && d.contains("device password \"phone\"")
                })
        }),
        "{log}"
    );
}
