//! Who gets mail: RCPT TO answers (with the product's exact texts),
//! aliases, catch-all, plus-addressing, quotas, and directory changes made
//! by the CLI while the server runs.

use super::{
    HOST, SENDER, Smtp, deliver, inbox, message, message_count, queue_id, rcpt_reply, server_with,
    used_bytes,
};
use crate::server;

fn unknown(address: &str) -> String {
    format!(
        "550 5.1.1 <{address}>: Recipient address rejected: undeliverable address (User doesn't exist)"
    )
}

fn relay_denied(address: &str) -> String {
    format!("554 5.7.1 <{address}>: Relay access denied")
}

fn disabled(address: &str) -> String {
    format!("550 5.2.1 <{address}>: Recipient address rejected: mailbox disabled")
}

fn full(address: &str) -> String {
    format!("452 4.2.2 <{address}>: Mailbox full")
}

/// A message of about `size` bytes (lines of 78 octets).
fn sized_message(subject: &str, size: usize) -> String {
    let line = format!("{}\r\n", "x".repeat(76));
    message(subject, &line.repeat(size / line.len() + 1))
}

#[test]
fn an_unknown_user_is_refused_with_the_exact_text() {
    let server = server();
    server.add_user("bob@example.test");
    assert_eq!(
        rcpt_reply(&server, "nobody@example.test"),
        unknown("nobody@example.test")
    );
    // The address is quoted as the client wrote it.
    assert_eq!(
        rcpt_reply(&server, "No.Body@Example.TEST"),
        unknown("No.Body@Example.TEST")
    );
    assert_eq!(message_count(&server), 0);
    // RFC 5321 4.1.2: quotes a local part does not need name the same
    // mailbox.
    assert!(rcpt_reply(&server, "\"bob\"@example.test").starts_with("250 2.1.5"));
    assert!(rcpt_reply(&server, "\"b\\ob\"@example.test").starts_with("250 2.1.5"));
}

#[test]
fn other_domains_get_relay_access_denied() {
    let server = server();
    server.add_user("bob@example.test");
    for address in [
        "someone@elsewhere.test",
        "bob@sub.example.test",
        "bob@example.test.elsewhere.test",
        "bob@[127.0.0.1]",
    ] {
        assert_eq!(rcpt_reply(&server, address), relay_denied(address));
    }
    // Not even for a hosted sender, nor through the old relay tricks.
    let mut smtp = Smtp::ready(&server);
    smtp.expect("MAIL FROM:<bob@example.test>", "250 2.1.0");
    let routed = smtp.cmd("RCPT TO:<@example.test:someone@elsewhere.test>");
    assert_eq!(routed.last(), relay_denied("someone@elsewhere.test"));
    let percent = smtp.cmd("RCPT TO:<someone%elsewhere.test@example.test>");
    assert_eq!(
        percent.last(),
        unknown("someone%elsewhere.test@example.test")
    );
    smtp.expect("DATA", "554 5.5.1");
    smtp.quit();
    assert_eq!(message_count(&server), 0);
}

#[test]
fn a_disabled_account_is_refused_and_the_change_is_live() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    server
        .cli(&["alias", "add", "bobs@example.test", "bob@example.test"])
        .ok();
    assert_eq!(rcpt_reply(&server, "bob@example.test"), "250 2.1.5 OK");
    server
        .cli(&["account", "set", "bob@example.test", "--enabled", "false"])
        .ok();
    assert_eq!(
        rcpt_reply(&server, "bob@example.test"),
        disabled("bob@example.test")
    );
    assert_eq!(
        rcpt_reply(&server, "bob+tag@example.test"),
        disabled("bob+tag@example.test")
    );
    // An alias whose only member is disabled says so too.
    assert_eq!(
        rcpt_reply(&server, "bobs@example.test"),
        disabled("bobs@example.test")
    );
    // Others in the domain are not affected.
    assert_eq!(rcpt_reply(&server, "carol@example.test"), "250 2.1.5 OK");
    server
        .cli(&["account", "set", "bob@example.test", "--enabled", "true"])
        .ok();
    assert_eq!(rcpt_reply(&server, "bob@example.test"), "250 2.1.5 OK");
}

#[test]
fn a_suspended_domain_is_deferred_until_resumed() {
    let server = server();
    server.add_user("bob@example.test");
    server.cli(&["domain", "suspend", "example.test"]).ok();
    let reply = rcpt_reply(&server, "bob@example.test");
    assert!(
        reply.starts_with("451 4.3.2 <bob@example.test>: "),
        "{reply}"
    );
    server.cli(&["domain", "resume", "example.test"]).ok();
    assert_eq!(rcpt_reply(&server, "bob@example.test"), "250 2.1.5 OK");
}

#[test]
fn the_declared_size_is_checked_against_the_quota_at_rcpt() {
    let server = server();
    server.add_user("bob@example.test");
    server
        .cli(&["account", "set", "bob@example.test", "--quota", "2KiB"])
        .ok();
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}> SIZE=3072"), "250 2.1.0");
    let reply = smtp.cmd("RCPT TO:<bob@example.test>");
    assert_eq!(reply.last(), full("bob@example.test"));
    smtp.expect("RSET", "250");
    smtp.expect(&format!("MAIL FROM:<{SENDER}> SIZE=1000"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.quit();
}

#[test]
fn the_quota_is_checked_again_with_the_real_size_at_the_end_of_data() {
    let server = server();
    server.add_user("bob@example.test");
    server
        .cli(&["account", "set", "bob@example.test", "--quota", "2KiB"])
        .ok();
    let big = sized_message("too big", 3 * 1024);
    // Without SIZE, and with a SIZE that lies.
    for mail in [
        format!("MAIL FROM:<{SENDER}>"),
        format!("MAIL FROM:<{SENDER}> SIZE=100"),
    ] {
        let mut smtp = Smtp::ready(&server);
        smtp.expect(&mail, "250 2.1.0");
        smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
        smtp.expect("DATA", "354");
        let reply = smtp.data_content(&big);
        assert_eq!(reply.lines, [full("bob@example.test")], "{mail}");
        smtp.quit();
    }
    assert!(inbox(&server, "bob@example.test").is_empty());
    assert_eq!(used_bytes(&server, "bob@example.test"), 0);
    // A message that fits is still taken.
    deliver(&server, &["bob@example.test"], &message("fits", "small"));
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
}

#[test]
fn a_full_mailbox_is_refused_at_rcpt_until_the_quota_is_raised() {
    let server = server();
    server.add_user("bob@example.test");
    server
        .cli(&["account", "set", "bob@example.test", "--quota", "1KiB"])
        .ok();
    // Fits by itself; with its trace headers it fills the mailbox.
    let content = sized_message("filler", 800);
    assert!(content.len() <= 1024, "{}", content.len());
    deliver(&server, &["bob@example.test"], &content);
    let used = used_bytes(&server, "bob@example.test");
    assert!(used >= 1024, "used {used}");
    assert_eq!(
        rcpt_reply(&server, "bob@example.test"),
        full("bob@example.test")
    );
    assert_eq!(
        rcpt_reply(&server, "Bob+x@example.test"),
        full("Bob+x@example.test")
    );
    server
        .cli(&["account", "set", "bob@example.test", "--quota", "1MiB"])
        .ok();
    assert_eq!(rcpt_reply(&server, "bob@example.test"), "250 2.1.5 OK");
}

#[test]
fn one_full_recipient_defers_the_message_for_everyone() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    server
        .cli(&["account", "set", "carol@example.test", "--quota", "2KiB"])
        .ok();
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("RCPT TO:<carol@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    let reply = smtp.data_content(&sized_message("for both", 3 * 1024));
    assert_eq!(reply.lines, [full("carol@example.test")]);
    smtp.quit();
    // All or nothing: the sender retries for both, nobody gets a copy now.
    assert_eq!(message_count(&server), 0);
}

#[test]
fn recipients_past_max_recipients_are_deferred() {
    let server = server_with("max_recipients = 2");
    for user in ["bob", "carol", "dave"] {
        server.add_user(&format!("{user}@example.test"));
    }
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("RCPT TO:<carol@example.test>", "250 2.1.5");
    smtp.expect("RCPT TO:<dave@example.test>", "452 4.5.3");
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("two of three", "hi")));
    smtp.quit();
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
    assert_eq!(inbox(&server, "carol@example.test").len(), 1);
    assert!(inbox(&server, "dave@example.test").is_empty());
}

#[test]
fn an_alias_reaches_every_member_once() {
    let server = server();
    for user in ["bob", "carol", "dave"] {
        server.add_user(&format!("{user}@example.test"));
    }
    server
        .cli(&[
            "alias",
            "add",
            "team@example.test",
            "bob@example.test",
            "carol@example.test",
        ])
        .ok();
    server
        .cli(&[
            "alias",
            "add",
            "all@example.test",
            "team@example.test",
            "dave@example.test",
        ])
        .ok();
    // The alias and one of its members named together: one copy each.
    deliver(
        &server,
        &["team@example.test", "bob@example.test"],
        &message("team", "to the team and bob"),
    );
    let bob = inbox(&server, "bob@example.test");
    let carol = inbox(&server, "carol@example.test");
    assert_eq!((bob.len(), carol.len()), (1, 1));
    assert!(inbox(&server, "dave@example.test").is_empty());
    bob[0].assert_trace(SENDER, "client.example", "ESMTP", "team@example.test");
    carol[0].assert_trace(SENDER, "client.example", "ESMTP", "team@example.test");
    // The body is stored once for both.
    assert_eq!(bob[0].blob_id, carol[0].blob_id);

    // Nested aliases.
    deliver(&server, &["all@example.test"], &message("all", "everyone"));
    for user in ["bob", "carol", "dave"] {
        let stored = inbox(&server, &format!("{user}@example.test"));
        let last = stored.last().expect("a message");
        assert!(last.body_text().contains("Subject: all\r\n"), "{user}");
        last.assert_trace(SENDER, "client.example", "ESMTP", "all@example.test");
    }
    assert_eq!(inbox(&server, "bob@example.test").len(), 2);
}

#[test]
fn the_catch_all_takes_only_addresses_nothing_else_answers_to() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    assert_eq!(
        rcpt_reply(&server, "anything@example.test"),
        unknown("anything@example.test")
    );
    server
        .cli(&["alias", "add", "@example.test", "bob@example.test"])
        .ok();
    deliver(
        &server,
        &["anything@example.test", "carol@example.test"],
        &message("catch-all", "hello"),
    );
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 1);
    bob[0].assert_trace(SENDER, "client.example", "ESMTP", "anything@example.test");
    let carol = inbox(&server, "carol@example.test");
    assert_eq!(carol.len(), 1);
    carol[0].assert_trace(SENDER, "client.example", "ESMTP", "carol@example.test");
    // Only for its own domain.
    server.add_domain("other.test");
    assert_eq!(
        rcpt_reply(&server, "anything@other.test"),
        unknown("anything@other.test")
    );
}

#[test]
fn plus_addressing_delivers_to_the_base_address() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    server
        .cli(&["alias", "add", "team@example.test", "carol@example.test"])
        .ok();
    deliver(
        &server,
        &["bob+news@example.test", "team+x@example.test"],
        &message("tagged", "plus"),
    );
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 1);
    bob[0].assert_trace(SENDER, "client.example", "ESMTP", "bob+news@example.test");
    assert_eq!(inbox(&server, "carol@example.test").len(), 1);
    // A tag on nobody is still nobody.
    assert_eq!(
        rcpt_reply(&server, "nobody+news@example.test"),
        unknown("nobody+news@example.test")
    );
    assert_eq!(
        rcpt_reply(&server, "+news@example.test"),
        unknown("+news@example.test")
    );
}

#[test]
fn plus_addressing_is_off_with_an_empty_delimiter() {
    let server = server_with("recipient_delimiter = \"\"");
    server.add_user("bob@example.test");
    assert_eq!(
        rcpt_reply(&server, "bob+news@example.test"),
        unknown("bob+news@example.test")
    );
    assert_eq!(rcpt_reply(&server, "bob@example.test"), "250 2.1.5 OK");
}

#[test]
fn another_recipient_delimiter_can_be_configured() {
    let server = server_with("recipient_delimiter = \"-\"");
    server.add_user("bob@example.test");
    assert_eq!(rcpt_reply(&server, "bob-news@example.test"), "250 2.1.5 OK");
    assert_eq!(
        rcpt_reply(&server, "bob+news@example.test"),
        unknown("bob+news@example.test")
    );
}

#[test]
fn local_parts_and_domains_are_case_insensitive() {
    let server = server();
    server.add_user("bob@example.test");
    server
        .cli(&["alias", "add", "team@example.test", "bob@example.test"])
        .ok();
    deliver(
        &server,
        &["BoB@ExAmPlE.TeSt"],
        &message("case one", "mixed case"),
    );
    deliver(
        &server,
        &["BOB+Tag@EXAMPLE.TEST"],
        &message("case two", "upper case"),
    );
    deliver(
        &server,
        &["Team@Example.Test"],
        &message("case three", "alias"),
    );
    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 3);
    assert_eq!(bob.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 2, 3]);
    // The trace names the canonical (lower-case) address.
    bob[0].assert_trace(SENDER, "client.example", "ESMTP", "bob@example.test");
    bob[1].assert_trace(SENDER, "client.example", "ESMTP", "bob+tag@example.test");
    bob[2].assert_trace(SENDER, "client.example", "ESMTP", "team@example.test");
}

#[test]
fn postmaster_is_always_accepted() {
    let server = server();
    server.add_domain("example.test");
    let admin = format!("admin@{HOST}");
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    // RFC 5321 4.5.1: <postmaster> without a domain, any case, and
    // postmaster@ every hosted domain.
    smtp.expect("RCPT TO:<postmaster>", "250 2.1.5");
    smtp.expect("RCPT TO:<PostMaster>", "250 2.1.5");
    smtp.expect("RCPT TO:<postmaster@example.test>", "250 2.1.5");
    smtp.expect(&format!("RCPT TO:<Postmaster@{HOST}>"), "250 2.1.5");
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("for the postmaster", "hello")));
    smtp.quit();
    // The MasterAdmin reads it, once.
    let stored = inbox(&server, &admin);
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace(
        SENDER,
        "client.example",
        "ESMTP",
        &format!("postmaster@{HOST}"),
    );
    assert_eq!(message_count(&server), 1);
}

#[test]
fn directory_changes_made_by_the_cli_take_effect_at_once() {
    let server = server();
    // A session opened before the account exists.
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    let before = smtp.cmd("RCPT TO:<new@example.test>");
    assert_eq!(before.last(), relay_denied("new@example.test"));
    server.add_user("new@example.test");
    // A new account receives at once, in the same session.
    smtp.expect("RCPT TO:<new@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("welcome", "first mail")));
    smtp.quit();
    let stored = inbox(&server, "new@example.test");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].uid, 1);

    server
        .cli(&["alias", "add", "hello@example.test", "new@example.test"])
        .ok();
    assert_eq!(rcpt_reply(&server, "hello@example.test"), "250 2.1.5 OK");
    server
        .cli(&["account", "set", "new@example.test", "--enabled", "false"])
        .ok();
    assert_eq!(
        rcpt_reply(&server, "new@example.test"),
        disabled("new@example.test")
    );
    server
        .cli(&["account", "remove", "new@example.test", "--force"])
        .ok();
    assert_eq!(
        rcpt_reply(&server, "new@example.test"),
        unknown("new@example.test")
    );
    server
        .cli(&["domain", "remove", "example.test", "--force"])
        .ok();
    assert_eq!(
        rcpt_reply(&server, "new@example.test"),
        relay_denied("new@example.test")
    );
}

#[test]
fn a_domain_equal_to_the_server_hostname_works() {
    let server = server();
    let carol = format!("carol@{HOST}");
    server.add_user(&carol);
    deliver(&server, &[&carol], &message("hostname", "local domain"));
    let stored = inbox(&server, &carol);
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace(SENDER, "client.example", "ESMTP", &carol);
    let nobody = format!("nobody@{HOST}");
    assert_eq!(rcpt_reply(&server, &nobody), unknown(&nobody));
}

#[test]
fn an_alias_pointing_off_site_is_accepted_and_queued_with_a_rewritten_sender() {
    // The remote host is down: the forwarded copy waits in the queue.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let server = crate::builder()
        .config(&format!("[outbound]\nrelay = \"127.0.0.1:{port}\"\n"))
        .start();
    server.add_user("bob@example.test");
    server
        .cli(&["alias", "add", "fwd@example.test", "someone@elsewhere.test"])
        .ok();
    deliver(
        &server,
        &["fwd@example.test"],
        &message("off site", "Forward me"),
    );
    let queued = server.cli(&["--json", "queue", "list"]).ok().json();
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{queued}");
    let sender = queued[0]["sender"].as_str().unwrap();
    assert!(
        sender.starts_with("SRS0=") && sender.ends_with("=sender.test=alice@example.test"),
        "{sender}"
    );
    assert_eq!(
        queued[0]["recipients"][0]["address"], "someone@elsewhere.test",
        "{queued}"
    );
    assert_eq!(inbox(&server, "bob@example.test").len(), 0);
}

#[test]
fn an_idn_domain_is_reached_by_its_unicode_name_over_smtputf8() {
    // The directory keeps IDNs in their xn-- form; an SMTPUTF8 client may
    // write the same domain as U-labels (RFC 6531 3.2, RFC 5890 2.3.2.1:
    // both forms name one domain).
    let server = server();
    server.add_user("bob@xn--bcher-kva.example");
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}> SMTPUTF8"), "250 2.1.0");
    smtp.expect("RCPT TO:<BOB@XN--BCHER-KVA.EXAMPLE>", "250 2.1.5");
    for unicode in ["bob@bücher.example", "bob@BÜCHER.example"] {
        let reply = smtp.cmd(&format!("RCPT TO:<{unicode}>"));
        assert_eq!(reply.last(), "250 2.1.5 OK", "{unicode}");
    }
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("idn", "Unicode domain")));
    smtp.quit();
    assert_eq!(inbox(&server, "bob@xn--bcher-kva.example").len(), 1);
}
