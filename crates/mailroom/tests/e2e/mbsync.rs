//! A real sync client: isync's mbsync pulls a 1,000-message account, then
//! a change made on the server and one made on the client both propagate.

use std::path::Path;
use std::process::Command;

use mailroom_testkit::PASSWORD;

use crate::server;

fn mbsync(config: &Path) -> String {
    let out = Command::new("mbsync")
        .arg("-c")
        .arg(config)
        .arg("-a")
        .output()
        .expect("run mbsync (installed by scripts/install-test-deps)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mbsync failed:\n{text}");
    text
}

fn files_in(dir: &Path) -> Vec<String> {
    ["cur", "new"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn mbsync_pulls_1000_messages_and_changes_propagate_both_ways() {
    let server = server();
    server.add_user("sync@example.test");
    // 1,000 messages through the real SMTP listener on one connection.
    let out = server.python(
        r#"
import os, smtplib
with smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"])) as s:
    for i in range(1000):
        s.sendmail("bulk@sender.test", ["sync@example.test"], f"Subject: message {i}\r\nMessage-ID: <{i}@sender.test>\r\n\r\nbody {i}\r\n")
"#,
    );
    assert!(out.status.success(), "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let addr = server.addr("imaps");
    let config = dir.path().join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount test\nHost {}\nPort {}\nUser sync@example.test\nPass {PASSWORD}\nSSLType IMAPS\nCertificateFile /dev/null\nSystemCertificates no\n\n\
IMAPStore remote\nAccount test\n\n\
MaildirStore local\nPath {}/\nInbox {}/INBOX\n\n\
Channel inbox\nFar :remote:INBOX\nNear :local:INBOX\nCreate Near\nSync All\nExpunge Both\nSyncState *\n",
            addr.ip(),
            addr.port(),
            maildir.display(),
            maildir.display()
        ),
    )
    .unwrap();
    // Without a trusted certificate mbsync refuses; trust the server's own.
    let cert = server.data_dir.join("tls/cert.pem");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "CertificateFile /dev/null",
        &format!("CertificateFile {}", cert.display()),
    );
    std::fs::write(&config, text).unwrap();

    mbsync(&config);
    let inbox = maildir.join("INBOX");
    assert_eq!(files_in(&inbox).len(), 1000);

    // On the server: flag message 1 as \Flagged and delete message 2.
    let out = server.python(&format!(
        r#"
import imaplib, os, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m.login("sync@example.test", {PASSWORD:?})
m.select("INBOX")
m.store("1", "+FLAGS", "(\\Flagged)")
m.store("2", "+FLAGS", "(\\Deleted)")
m.expunge()
"#
    ));
    assert!(out.status.success(), "{}", out.stderr);
    // On the client: mark one message seen, the Maildir way (into cur/
    // with the S flag).
    let pick = ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(inbox.join(sub)).unwrap())
        .map(|e| e.unwrap().path())
        .find(|p| {
            // mbsync writes local files with LF line endings.
            let text = std::fs::read_to_string(p).unwrap().replace("\r\n", "\n");
            text.contains("Subject: message 500\n")
        })
        .expect("message 500 was pulled");
    let name = pick.file_name().unwrap().to_string_lossy().into_owned();
    let (base, flags) = name.split_once(":2,").unwrap_or((&name, ""));
    std::fs::rename(&pick, inbox.join("cur").join(format!("{base}:2,{flags}S"))).unwrap();

    mbsync(&config);
    let files = files_in(&inbox);
    assert_eq!(files.len(), 999, "the server's expunge reached the client");
    let flagged: Vec<_> = files.iter().filter(|f| f.contains(":2,F")).collect();
    assert_eq!(
        flagged.len(),
        1,
        "the server's flag reached the client: {flagged:?}"
    );

    let out = server.python(&format!(
        r#"
import imaplib, os, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL(os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m.login("sync@example.test", {PASSWORD:?})
m.select("INBOX", readonly=True)
print(m.search(None, "SEEN")[1][0].decode())
print(m.search(None, "SUBJECT", '"message 500"')[1][0].decode())
"#
    ));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert_eq!(lines[0], lines[1], "the client's \\Seen reached the server");
}
