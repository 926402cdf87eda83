//! Forwards: an account's mail sent on to other addresses with its
//! content unchanged and its envelope sender rewritten (SRS0), bounces to
//! the rewritten sender returned to the real one, made-up SRS addresses
//! refused, and a forwarding loop between two servers ended by a bounce.

use super::outbound::PRELUDE;
use crate::{builder, run_python, server};

#[test]
fn forwarded_mail_keeps_its_content_and_bounces_find_the_real_sender() {
    let remote = server();
    remote.cli(&["domain", "add", "far.test"]).ok();
    remote.add_user("friend@far.test");
    remote.add_user("sender@far.test");
    let server = builder()
        .config(&format!(
            "[outbound]\nrelay = \"{}\"\n",
            remote.addr("smtp")
        ))
        .start();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    let added = server
        .cli(&[
            "forward",
            "add",
            "bob@example.test",
            "friend@far.test",
            "nobody@far.test",
        ])
        .ok()
        .stdout;
    assert!(
        added.contains("bob@example.test forwards to friend@far.test, nobody@far.test")
            && added.contains("a copy stays"),
        "{added}"
    );
    // Mistakes are refused with the reason.
    let err = server
        .cli(&["forward", "add", "bob@example.test", "bob@example.test"])
        .fails();
    assert!(err.contains("forward loop"), "{err}");
    let err = server
        .cli(&["forward", "add", "bob@example.test", "ghost@example.test"])
        .fails();
    assert!(err.contains("no such account or alias"), "{err}");
    let err = server
        .cli(&["forward", "remove", "carol@example.test"])
        .fails();
    assert!(err.contains("forwards of carol@example.test"), "{err}");
    let listed = server.cli(&["--json", "forward", "list"]).ok().json();
    assert_eq!(
        listed,
        serde_json::json!([{
            "account": "bob@example.test",
            "destinations": ["friend@far.test", "nobody@far.test"],
            "keep_copy": true
        }])
    );
    let remote_imaps = remote.addr("imaps").port();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
import re
MX = (os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"]))
MESSAGE = "From: sender@far.test\r\nTo: bob@example.test\r\nSubject: Minutes\r\nX-Original: kept as sent\r\n\r\nThe minutes of Monday's meeting.\r\n"
s = smtplib.SMTP(*MX, timeout=20)
s.sendmail("sender@far.test", ["bob@example.test"], MESSAGE)
s.quit()
got = wait_for_mail({remote_imaps}, "friend@far.test")[0]
check(got.endswith(MESSAGE.encode()), "the forwarded content is unchanged", got)
srs = re.search(rb"Return-Path: <([^>]*)>", got).group(1).decode()
check(srs.startswith("SRS0=") and srs.endswith("=far.test=sender@example.test"), srs)
check(b"for <bob@example.test>" in got, "our hop is traced", got[:600])
own = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "bob@example.test")[0]
check(b"Subject: Minutes" in own and b"Return-Path: <sender@far.test>" in own, own[:400])
# nobody@far.test was refused: the bounce reached the real sender.
bounce = wait_for_mail({remote_imaps}, "sender@far.test")[0].decode()
check("Return-Path: <>" in bounce, bounce[:400])
check("<nobody@far.test>: 127.0.0.1 said: 550 5.1.1" in bounce, bounce)
# A later bounce from elsewhere to the rewritten sender goes home too.
s = smtplib.SMTP(*MX, timeout=20)
s.sendmail("", [srs], "From: MAILER-DAEMON@far.test\r\nTo: <" + srs + ">\r\nSubject: Returned mail\r\n\r\nThe recipient's mailbox is gone.\r\n")
s.quit()
later = wait_for_mail({remote_imaps}, "sender@far.test", 2)[1]
check(b"Subject: Returned mail" in later, later[:400])
# Addresses we did not make are refused.
s = smtplib.SMTP(*MX, timeout=20)
s.ehlo()
s.mail("")
code, text = s.rcpt(srs.replace("=sender@", "=mallory@"))
check(code == 550 and b"invalid or expired forwarding (SRS) address" in text, code, text)
s.quit()
"#
        ),
    );
    server
        .cli(&["forward", "remove", "bob@example.test", "nobody@far.test"])
        .ok();
    server
        .cli(&[
            "forward",
            "add",
            "bob@example.test",
            "carol@example.test",
            "--keep-copy",
            "false",
        ])
        .ok();
    let listed = server.cli(&["--json", "forward", "list"]).ok().json();
    assert_eq!(
        listed[0]["destinations"],
        serde_json::json!(["carol@example.test", "friend@far.test"]),
        "{listed}"
    );
    assert_eq!(listed[0]["keep_copy"], false, "{listed}");
    // Without a local copy, bob's Inbox stays as it was; carol, here, gets one.
    run_python(
        &server,
        PRELUDE,
        r#"
s = smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"]), timeout=20)
s.sendmail("sender@far.test", ["bob@example.test"], "From: sender@far.test\r\nSubject: Second\r\n\r\nFollow-up.\r\n")
s.quit()
got = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "carol@example.test")[0]
check(b"Subject: Second" in got, got[:300])
check(len(wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "bob@example.test")) == 1, "no new copy for bob")
"#,
    );
    server.cli(&["forward", "remove", "bob@example.test"]).ok();
    assert_eq!(
        server.cli(&["--json", "forward", "list"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn a_forwarding_loop_between_two_servers_ends_in_a_bounce() {
    // Two servers on one SMTP port, at 127.0.0.1 and 127.0.0.2, found
    // through MX records: each forwards the address back to the other.
    // The port is chosen here and freed before the servers take it, so a
    // server of another test may take it first: then try another.
    let mut attempt = 0;
    let (_dns, here, there) = loop {
        attempt += 1;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dns = mailroom_testkit::DnsServer::start(&[
            ("example.test", "@ MX 10 mx\nmx A 127.0.0.1"),
            ("far.test", "@ MX 10 mx\nmx A 127.0.0.2"),
        ]);
        let outbound = format!(
            "[outbound]\nnameserver = \"{}\"\nport = {port}\n",
            dns.addr()
        );
        let started = builder()
            .listen("smtp", format!("127.0.0.1:{port}").parse().unwrap())
            .config(&outbound)
            .try_start()
            .and_then(|here| {
                builder()
                    .hostname("mx.far.test")
                    .listen("smtp", format!("127.0.0.2:{port}").parse().unwrap())
                    .config(&outbound)
                    .try_start()
                    .map(|there| (here, there))
            });
        match started {
            Ok((here, there)) => break (dns, here, there),
            Err(why) if attempt < 5 && why.contains("Address already in use") => continue,
            Err(why) => panic!("{why}"),
        }
    };
    here.add_user("bob@example.test");
    here.add_user("loop@example.test");
    there.add_user("loop@far.test");
    here.cli(&[
        "forward",
        "add",
        "loop@example.test",
        "loop@far.test",
        "--keep-copy",
        "false",
    ])
    .ok();
    there
        .cli(&[
            "forward",
            "add",
            "loop@far.test",
            "loop@example.test",
            "--keep-copy",
            "false",
        ])
        .ok();
    run_python(
        &here,
        PRELUDE,
        r#"
submit("bob@example.test", ["loop@example.test"], "Round and round")
bounce = wait_for_mail(int(os.environ["MR_IMAPS_PORT"]), "bob@example.test", seconds=120)[0].decode()
check("Undelivered Mail Returned to Sender" in bounce, bounce[:400])
check("Status: 5.4.6" in bounce and "mail forwarding loop detected" in bounce, bounce)
check("Subject: Round and round" in bounce, "the original header is returned")
"#,
    );
}
