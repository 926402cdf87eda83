//! RFC 5321 and its extensions as a client sees them on the wire.

use super::{HOST, SENDER, Smtp, deliver, inbox, message, message_count, queue_id, server_with};
use crate::server;

#[test]
fn greeting_and_ehlo_advertise_the_extensions() {
    let server = server();
    let mut smtp = Smtp::connect(&server);
    let ehlo = smtp.cmd("EHLO client.example");
    assert_eq!(ehlo.code(), 250);
    assert_eq!(
        ehlo.lines[0],
        format!("250-{HOST} Hello client.example [127.0.0.1]")
    );
    // Continuation lines use "250-", the last one "250 ".
    let (last, rest) = ehlo.lines.split_last().unwrap();
    assert!(
        rest.iter().all(|l| l.starts_with("250-")),
        "{:?}",
        ehlo.lines
    );
    assert!(last.starts_with("250 "), "{last}");
    let keywords: Vec<&str> = ehlo.texts()[1..].to_vec();
    for expected in [
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
        "STARTTLS",
    ] {
        assert!(
            keywords.contains(&expected),
            "EHLO lacks {expected}: {keywords:?}"
        );
    }
    // No AUTH on the MX port: that is for submission.
    assert!(
        !keywords.iter().any(|k| k.starts_with("AUTH")),
        "{keywords:?}"
    );
    smtp.quit();
}

#[test]
fn helo_gets_a_plain_answer_and_mail_still_flows() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::connect(&server);
    let helo = smtp.cmd("HELO old.client.example");
    assert_eq!(
        helo.lines,
        [format!("250 {HOST} Hello old.client.example [127.0.0.1]")]
    );
    // RFC 1869 4: no service extensions after HELO.
    smtp.expect(&format!("MAIL FROM:<{SENDER}> BODY=8BITMIME"), "555 5.5.4");
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0 OK");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5 OK");
    smtp.send("BDAT 4 LAST\r\nQUIT");
    assert!(smtp.reply().last().starts_with("503 5.5.1 BDAT needs EHLO"));
    // A refused chunk ends the transaction (RFC 3030 2).
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0 OK");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5 OK");
    smtp.expect("DATA", "354 End data with <CR><LF>.<CR><LF>");
    let reply = smtp.data_content(&message("helo", "sent after HELO"));
    queue_id(&reply);
    smtp.quit();
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace(SENDER, "old.client.example", "SMTP", "bob@example.test");
}

#[test]
fn noop_help_rset_and_quit() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect("NOOP", "250 2.0.0 OK");
    smtp.expect("NOOP with an argument", "250 2.0.0 OK");
    let help = smtp.cmd("HELP");
    assert_eq!(help.code(), 214, "{:?}", help.lines);
    assert!(help.last().starts_with("214 2.0.0 "), "{:?}", help.lines);
    // RSET ends the transaction: a new MAIL is not "nested", and a RCPT
    // without a new MAIL is out of sequence.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("RSET", "250 2.0.0 OK");
    smtp.expect("RCPT TO:<bob@example.test>", "503 5.5.1");
    smtp.expect("DATA", "503 5.5.1");
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RSET", "250 2.0.0");
    // RSET keeps the EHLO.
    smtp.expect("MAIL FROM:<>", "250 2.1.0");
    let quit = smtp.cmd("QUIT");
    assert_eq!(quit.lines, [format!("221 2.0.0 {HOST} closing connection")]);
    assert!(smtp.closed());
    assert_eq!(message_count(&server), 0);
}

#[test]
fn vrfy_does_not_reveal_which_accounts_exist_and_expn_is_refused() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    let existing = smtp.cmd("VRFY bob@example.test");
    let unknown = smtp.cmd("VRFY nobody@example.test");
    let bare = smtp.cmd("VRFY bob");
    assert_eq!(existing.code(), 252, "{:?}", existing.lines);
    assert_eq!(
        existing.lines, unknown.lines,
        "VRFY must not tell them apart"
    );
    assert_eq!(existing.lines, bare.lines);
    assert!(
        existing.last().starts_with("252 2."),
        "{:?}",
        existing.lines
    );
    for expn in ["EXPN staff", "EXPN bob@example.test"] {
        let reply = smtp.cmd(expn);
        assert!(
            reply.last().starts_with("502 5.5.1"),
            "{expn}: {:?}",
            reply.lines
        );
        // Nothing about bob in the answer.
        assert!(!reply.last().contains("bob"), "{:?}", reply.lines);
    }
    smtp.quit();
}

#[test]
fn commands_out_of_sequence_are_refused() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::connect(&server);
    // Before EHLO.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "503 5.5.1");
    smtp.expect("EHLO client.example", "250 ");
    // RCPT and DATA before MAIL.
    smtp.expect("RCPT TO:<bob@example.test>", "503 5.5.1");
    smtp.expect("DATA", "503 5.5.1");
    smtp.expect("BDAT 0 LAST", "503 5.5.1");
    // Nested MAIL.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("MAIL FROM:<other@sender.test>", "503 5.5.1");
    // DATA without a valid recipient.
    smtp.expect("RCPT TO:<nobody@example.test>", "550 5.1.1");
    smtp.expect("DATA", "554 5.5.1");
    // The 554 did not start a data phase: commands still work.
    smtp.expect("NOOP", "250 2.0.0");
    smtp.quit();
    assert_eq!(message_count(&server), 0);
}

#[test]
fn unknown_commands_get_500_and_every_error_has_an_enhanced_status_code() {
    let server = server_with("max_errors = 100");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::connect(&server);
    let unknown = smtp.cmd("FROB x");
    assert!(
        unknown.last().starts_with("500 5.5.2"),
        "{:?}",
        unknown.lines
    );
    let before_ehlo = [
        ("MAIL FROM:<a@sender.test>", 503),
        ("RCPT TO:<bob@example.test>", 503),
        ("DATA", 503),
        ("EHLO", 501),
        ("HELO", 501),
    ];
    let after_ehlo = [
        ("FROB", 500),
        ("", 500),
        ("MAIL FROM:no-brackets@sender.test", 501),
        ("MAIL TO:<a@sender.test>", 501),
        ("MAIL FROM:<a@sender.test> FOO=BAR", 555),
        ("MAIL FROM:<a@sender.test> SIZE=99999999999", 552),
        // RFC 1870 5: up to 20 digits is a size, however large.
        ("MAIL FROM:<a@sender.test> SIZE=99999999999999999999", 552),
        ("MAIL FROM:<a@sender.test> SIZE=999999999999999999999", 501),
        // RFC 5321 4.1.1.6: VRFY names what to verify.
        ("VRFY", 501),
        ("MAIL FROM:<a@sender.test> SIZE=lots", 501),
        ("MAIL FROM:<jörg@sender.test>", 553),
        ("RCPT TO:<bob@example.test>", 503),
        ("EXPN all", 502),
        ("AUTH PLAIN AGJvYgBwYXNz", 503),
        ("STARTTLS please", 501),
        ("DATA now", 501),
        ("BDAT x", 501),
        ("QUIT now", 501),
    ];
    let in_transaction = [
        ("RCPT TO:<>", 501),
        ("RCPT TO:<no-domain>", 501),
        ("RCPT TO:<nobody@example.test>", 550),
        ("RCPT TO:<someone@elsewhere.test>", 554),
        ("RCPT TO:<bob@example.test> NOTIFY=NEVER", 555),
        ("DATA", 554),
    ];
    let check = |smtp: &mut Smtp, cases: &[(&str, u16)]| {
        for (line, code) in cases {
            let reply = smtp.cmd(line);
            assert_eq!(reply.code(), *code, "{line:?}: {:?}", reply.lines);
            reply.assert_enhanced(line);
        }
    };
    check(&mut smtp, &before_ehlo);
    smtp.expect("EHLO client.example", "250 ");
    check(&mut smtp, &after_ehlo);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    check(&mut smtp, &in_transaction);
    // Invalid UTF-8 and an over-long line, for good measure.
    smtp.raw.send_bytes(b"\xff\xfe\r\n");
    let reply = smtp.reply();
    assert_eq!(reply.code(), 500, "{:?}", reply.lines);
    reply.assert_enhanced("invalid UTF-8");
    // Successful replies other than greeting and EHLO carry one too.
    for (line, code) in [
        ("NOOP", 250),
        ("RSET", 250),
        ("VRFY bob", 252),
        ("HELP", 214),
    ] {
        let reply = smtp.cmd(line);
        assert_eq!(reply.code(), code, "{line}: {:?}", reply.lines);
        reply.assert_enhanced(line);
    }
    smtp.quit();
}

#[test]
fn mail_size_above_the_limit_is_refused_at_once() {
    let server = server();
    let mut smtp = Smtp::ready(&server);
    smtp.expect(
        &format!("MAIL FROM:<{SENDER}> SIZE=52428801"),
        "552 5.3.4 Message size exceeds fixed maximum message size",
    );
    smtp.expect(&format!("MAIL FROM:<{SENDER}> SIZE=52428800"), "250 2.1.0");
    smtp.expect("RSET", "250");
    smtp.expect(
        &format!("MAIL FROM:<{SENDER}> SIZE=1000 BODY=8BITMIME SMTPUTF8"),
        "250 2.1.0",
    );
    smtp.quit();
}

#[test]
fn dot_stuffing_is_undone_and_content_is_kept() {
    let server = server();
    server.add_user("bob@example.test");
    let content = "Subject: dots\r\n\r\n.leading dot\r\n.\r\n..two\r\nend\r\n";
    deliver(&server, &["bob@example.test"], content);
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body_text(), content);
}

#[test]
fn bdat_chunks_are_stored_byte_for_byte() {
    let server = server();
    server.add_user("bob@example.test");
    // Content a DATA transfer would have to stuff or could not carry: a
    // line that is only a dot, lines starting with dots, 8-bit bytes, a
    // chunk boundary inside a CRLF.
    let chunks: [&[u8]; 3] = [
        b"Subject: chunked\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n.starts with a dot\r",
        b"\n.\r\n..two dots\r\ncaf\xc3\xa9\r\n",
        b"last line\r\n",
    ];
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    let mut total = 0;
    for chunk in &chunks[..2] {
        total += chunk.len();
        smtp.send(&format!("BDAT {}\r\n", chunk.len()));
        smtp.raw.send_bytes(chunk);
        let reply = smtp.reply();
        assert_eq!(
            reply.last(),
            format!(
                "250 2.0.0 {} octets received, {total} in total",
                chunk.len()
            )
        );
    }
    smtp.send(&format!("BDAT {} LAST\r\n", chunks[2].len()));
    smtp.raw.send_bytes(chunks[2]);
    queue_id(&smtp.reply());

    // BDAT 0 LAST ends a transfer, and chunks can be pipelined.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    let second = b"Subject: second\r\n\r\n.\r\n";
    let mut pipelined = format!("BDAT {}\r\n", second.len()).into_bytes();
    pipelined.extend_from_slice(second);
    pipelined.extend_from_slice(b"BDAT 0 LAST\r\n");
    smtp.raw.send_bytes(&pipelined);
    assert!(smtp.reply().last().starts_with("250 2.0.0 "));
    queue_id(&smtp.reply());

    // A last chunk without the final line end gets one (RFC 5322 2.1), so
    // every reader counts the same size.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    let third = b"Subject: third\r\n\r\nno line end";
    smtp.send(&format!("BDAT {} LAST\r\n", third.len()));
    smtp.raw.send_bytes(third);
    queue_id(&smtp.reply());

    // Results a sender wrote in our name are not stored (RFC 8601 5);
    // another host's are.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    let forged = format!(
        "Authentication-Results: {HOST};\r\n dkim=pass header.d=bank.example\r\n\
         Authentication-Results: relay.other.example; spf=pass\r\n\
         X-Spam-Status: No, score=-5.0\r\nSubject: forged\r\n\r\nhello\r\n"
    );
    queue_id(&smtp.data_content(&forged));
    smtp.quit();

    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[0].body, chunks.concat());
    assert_eq!(stored[1].body, second);
    assert_eq!(stored[2].body, b"Subject: third\r\n\r\nno line end\r\n");
    assert_eq!(
        String::from_utf8_lossy(&stored[3].body),
        "Authentication-Results: relay.other.example; spf=pass\r\nSubject: forged\r\n\r\nhello\r\n"
    );
    assert_eq!(
        stored.iter().map(|s| s.uid).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    stored[0].assert_trace(SENDER, "client.example", "ESMTP", "bob@example.test");
}

#[test]
fn bdat_stays_in_step_when_refused_and_only_bdat_rset_quit_noop_interleave() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    // Without a valid recipient the chunk is read and refused; the bytes
    // of the chunk are never taken for commands.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<nobody@example.test>", "550 5.1.1");
    let chunk = "QUIT\r\n";
    smtp.send(&format!("BDAT {} LAST\r\n{chunk}", chunk.len()));
    let refused = smtp.reply();
    assert!(
        refused.last().starts_with("554 5.5.1"),
        "{:?}",
        refused.lines
    );
    // The server answered the BDAT, not a QUIT hidden in its chunk.
    smtp.expect("NOOP", "250 2.0.0");

    // During a transfer, other commands are refused; RSET aborts it.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.send("BDAT 5\r\nhello");
    assert_eq!(
        smtp.reply().last(),
        "250 2.0.0 5 octets received, 5 in total"
    );
    smtp.expect("DATA", "503 5.5.1");
    smtp.expect("MAIL FROM:<other@sender.test>", "503 5.5.1");
    smtp.expect("NOOP", "250 2.0.0");
    smtp.expect("RSET", "250 2.0.0");
    smtp.expect("BDAT 0 LAST", "503 5.5.1");
    smtp.quit();
    assert_eq!(message_count(&server), 0);
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let server = server();
    server.add_user("bob@example.test");
    server.add_user("carol@example.test");
    let mut smtp = Smtp::connect(&server);
    // RFC 2920: everything up to DATA in one write.
    smtp.send(&format!(
        "EHLO client.example\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<bob@example.test>\r\n\
         RCPT TO:<nobody@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n"
    ));
    assert_eq!(smtp.reply().code(), 250);
    assert_eq!(smtp.reply().last(), "250 2.1.0 OK");
    assert_eq!(smtp.reply().last(), "250 2.1.5 OK");
    assert!(
        smtp.reply()
            .last()
            .starts_with("550 5.1.1 <nobody@example.test>")
    );
    assert_eq!(smtp.reply().last(), "250 2.1.5 OK");
    assert!(smtp.reply().last().starts_with("354 "));
    // The content, its end and the next transaction in one write too.
    smtp.send(&format!(
        "{}.\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
        message("pipelined one", "first")
    ));
    let first = queue_id(&smtp.reply());
    assert_eq!(smtp.reply().last(), "250 2.1.0 OK");
    assert_eq!(smtp.reply().last(), "250 2.1.5 OK");
    assert!(smtp.reply().last().starts_with("354 "));
    smtp.send(&format!(
        "{}.\r\nQUIT\r\n",
        message("pipelined two", "second")
    ));
    let second = queue_id(&smtp.reply());
    assert_ne!(first, second);
    assert!(smtp.reply().last().starts_with("221 "));
    assert!(smtp.closed());

    let bob = inbox(&server, "bob@example.test");
    assert_eq!(bob.len(), 2);
    assert!(bob[0].body_text().contains("Subject: pipelined one"));
    assert!(bob[1].body_text().contains("Subject: pipelined two"));
    assert!(bob[0].prefix.contains(&format!(" id {first}\r\n")));
    assert!(bob[1].prefix.contains(&format!(" id {second}\r\n")));
    let carol = inbox(&server, "carol@example.test");
    assert_eq!(carol.len(), 1);
    assert!(carol[0].body_text().contains("Subject: pipelined one"));
}

#[test]
fn utf8_addresses_need_the_smtputf8_parameter() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect("MAIL FROM:<jörg@sender.test>", "553 5.6.7");
    smtp.expect("MAIL FROM:<jörg@sender.test> SMTPUTF8", "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content("Subject: utf8\r\n\r\nGrüße\r\n"));
    // RFC 6531 3.7.3: the Received line names UTF8SMTP.
    let stored = inbox(&server, "bob@example.test");
    stored[0].assert_trace(
        "jörg@sender.test",
        "client.example",
        "UTF8SMTP",
        "bob@example.test",
    );
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("RSET", "250");
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<jörg@example.test>", "553 5.6.7");
    smtp.quit();
}

#[test]
fn a_bounce_with_the_null_sender_is_delivered() {
    // RFC 5321 4.5.5: an MX must accept the null reverse-path.
    let server = server();
    server.add_user("bob@example.test");
    let reply = super::transaction(
        &server,
        "",
        &["bob@example.test"],
        "Subject: Undelivered Mail Returned to Sender\r\n\r\nbounce\r\n",
    );
    queue_id(&reply);
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    stored[0].assert_trace("", "client.example", "ESMTP", "bob@example.test");
}
