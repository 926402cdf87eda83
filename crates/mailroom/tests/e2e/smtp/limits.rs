//! Abuse and robustness: sizes, line lengths, garbage, error counts,
//! timeouts and connection limits. Each test sets small limits.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mailroom_testkit::{RawClient, Server};

use super::{HOST, SENDER, Smtp, deliver, inbox, message, message_count, queue_id, server_with};
use crate::server;

const TOO_BIG: &str = "552 5.3.4 Message size exceeds fixed maximum message size";
const TIMEOUT: &str = "421 4.4.2 mail.example.test Error: timeout exceeded";

/// Opens MAIL/RCPT for bob and sends DATA.
fn start_data(smtp: &mut Smtp) {
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("DATA", "354");
}

#[test]
fn messages_over_max_message_size_are_refused_and_nothing_is_stored() {
    let server = server_with("max_message_size = \"1KiB\"");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::connect(&server);
    let ehlo = smtp.cmd("EHLO client.example");
    assert!(ehlo.texts().contains(&"SIZE 1024"), "{:?}", ehlo.lines);
    // Declared too big: refused at MAIL.
    smtp.expect(&format!("MAIL FROM:<{SENDER}> SIZE=1025"), TOO_BIG);
    // Not declared: refused at the end of data.
    start_data(&mut smtp);
    let line = format!("{}\r\n", "y".repeat(70));
    let reply = smtp.data_content(&message("too big", &line.repeat(30)));
    assert_eq!(reply.lines, [TOO_BIG]);
    // The session is still in step.
    smtp.expect("NOOP", "250 2.0.0 OK");
    // Same through BDAT.
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    let chunk = "z".repeat(2048);
    smtp.send(&format!("BDAT {} LAST\r\n{chunk}", chunk.len()));
    assert_eq!(smtp.reply().lines, [TOO_BIG]);
    smtp.expect("NOOP", "250 2.0.0 OK");
    smtp.quit();
    assert_eq!(message_count(&server), 0);

    // Exactly the limit is fine (RFC 1870: SIZE is the largest accepted).
    let head = "Subject: exactly 1KiB\r\n\r\n";
    let filler = "f".repeat(1024 - head.len() - 2);
    let content = format!("{head}{filler}\r\n");
    assert_eq!(content.len(), 1024);
    deliver(&server, &["bob@example.test"], &content);
    let stored = inbox(&server, "bob@example.test");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body_text(), content);
}

#[test]
fn data_lines_over_1000_octets_are_refused_and_nothing_is_stored() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    // RFC 5321 4.5.3.1.6: 1000 octets including the CRLF.
    for long in ["a".repeat(999), "b".repeat(100_000)] {
        start_data(&mut smtp);
        let reply = smtp.data_content(&format!("Subject: long\r\n\r\n{long}\r\nafter\r\n"));
        assert_eq!(
            reply.lines,
            ["554 5.5.2 Message refused: a line is longer than 1000 octets (RFC 5321 4.5.3.1.6)"],
            "a line of {} octets",
            long.len() + 2
        );
        smtp.expect("NOOP", "250 2.0.0 OK");
    }
    assert_eq!(message_count(&server), 0);
    // 1000 octets exactly is allowed.
    start_data(&mut smtp);
    let reply = smtp.data_content(&format!("Subject: long\r\n\r\n{}\r\n", "c".repeat(998)));
    queue_id(&reply);
    smtp.quit();
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
}

#[test]
fn a_mail_loop_is_refused() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    start_data(&mut smtp);
    let hops =
        "Received: from a.example by b.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n".repeat(60);
    let reply = smtp.data_content(&format!("{hops}Subject: loop\r\n\r\nround and round\r\n"));
    assert!(reply.last().starts_with("554 5.4.6 "), "{:?}", reply.lines);
    smtp.quit();
    assert_eq!(message_count(&server), 0);
}

#[test]
fn garbage_gets_500_and_the_session_survives() {
    let server = server();
    server.add_user("bob@example.test");
    let mut smtp = Smtp::connect(&server);
    let garbage: [&[u8]; 5] = [
        b"\x00\x01\x02\x03\x04\r\n",
        b"\x00\x00\x00\r\n",
        b"\xff\xfe\xfd EHLO x\r\n",
        b"EHLO \xc3\x28invalid\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\r\n",
    ];
    for bytes in garbage {
        smtp.raw.send_bytes(bytes);
        let reply = smtp.reply();
        assert!(
            reply.last().starts_with("500 5.5."),
            "{bytes:?}: {:?}",
            reply.lines
        );
    }
    // A command line over 1024 octets.
    let reply = smtp.cmd(&format!("NOOP {}", "n".repeat(1100)));
    assert_eq!(reply.lines, ["500 5.5.2 Error: line too long"]);
    let reply = smtp.cmd(&format!("EHLO {}", "h".repeat(50_000)));
    assert_eq!(reply.lines, ["500 5.5.2 Error: line too long"]);
    // A long but allowed line (RFC 5321 4.5.3.1.4 needs 512) is fine.
    smtp.expect(&format!("NOOP {}", "n".repeat(600)), "250 2.0.0 OK");
    // And mail still flows on the same connection.
    smtp.expect("EHLO client.example", "250 ");
    start_data(&mut smtp);
    queue_id(&smtp.data_content(&message("after garbage", "still here")));
    smtp.quit();
    assert_eq!(inbox(&server, "bob@example.test").len(), 1);
}

#[test]
fn too_many_errors_end_the_session_with_421() {
    let server = server_with("max_errors = 3");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect("FROB", "500 5.5.2");
    smtp.expect("FROB", "500 5.5.2");
    smtp.expect("FROB", "500 5.5.2");
    assert_eq!(
        smtp.reply().lines,
        [format!("421 4.7.0 {HOST} Error: too many errors")]
    );
    assert!(smtp.closed());

    // Harvesting addresses counts too.
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<a@example.test>", "550 5.1.1");
    smtp.expect("RCPT TO:<b@example.test>", "550 5.1.1");
    smtp.expect("RCPT TO:<c@example.test>", "550 5.1.1");
    assert!(smtp.reply().last().starts_with("421 4.7.0 "));
    assert!(smtp.closed());
    assert_eq!(message_count(&server), 0);

    // A transaction with an accepted recipient finishes: refused
    // recipients do not cost the accepted one its mail (RFC 5321
    // 4.5.3.1.8), though the errors still count once it is over.
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    for lost in ["a", "b", "c", "d"] {
        smtp.expect(&format!("RCPT TO:<{lost}@example.test>"), "550 5.1.1");
    }
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("kept", "for bob")));
    smtp.expect("FROB", "500 5.5.2");
    assert!(smtp.reply().last().starts_with("421 4.7.0 "));
    assert_eq!(message_count(&server), 1);

    // Probing without end behind one good address is stopped all the same.
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    for n in 0..14 {
        smtp.expect(&format!("RCPT TO:<probe{n}@example.test>"), "550 5.1.1");
    }
    smtp.raw.send("RCPT TO:<probe14@example.test>\r\n");
    let reply = smtp.reply();
    assert!(reply.lines[0].starts_with("550 5.1.1"), "{:?}", reply.lines);
    assert!(smtp.reply().last().starts_with("421 4.7.0 "));
    assert!(smtp.closed());
}

#[test]
fn the_recipient_limit_is_not_the_clients_error() {
    // RFC 5321 4.5.3.1.10: past the limit, 452 and the rest comes later;
    // the accepted recipients get their mail however many there were.
    let server = server_with("max_errors = 3\nmax_recipients = 2");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    smtp.expect("RCPT TO:<bob@example.test>", "250 2.1.5");
    smtp.expect("RCPT TO:<bob+2@example.test>", "250 2.1.5");
    for n in 3..10 {
        smtp.expect(&format!("RCPT TO:<bob+{n}@example.test>"), "452 4.5.3");
    }
    smtp.expect("DATA", "354");
    queue_id(&smtp.data_content(&message("two of nine", "now")));
    smtp.quit();
    assert_eq!(message_count(&server), 1);
}

#[test]
fn an_idle_client_gets_421_and_is_disconnected() {
    let server = server_with("command_timeout_secs = 1");
    let started = Instant::now();
    let mut smtp = Smtp::connect(&server);
    assert_eq!(smtp.reply().lines, [TIMEOUT]);
    assert!(smtp.closed());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // Also in the middle of a transaction.
    let mut smtp = Smtp::ready(&server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    assert_eq!(smtp.reply().lines, [TIMEOUT]);
    assert!(smtp.closed());
}

#[test]
fn a_stalled_data_transfer_times_out_and_stores_nothing() {
    let server = server_with("data_timeout_secs = 1");
    server.add_user("bob@example.test");
    let mut smtp = Smtp::ready(&server);
    start_data(&mut smtp);
    smtp.send("Subject: stalled\r\n\r\nhalf a mess");
    assert_eq!(smtp.reply().lines, [TIMEOUT]);
    assert!(smtp.closed());
    assert_eq!(message_count(&server), 0);
}

/// Sends `first`, then `piece` every 200 ms (until the server closes or
/// 10 s pass), and returns the lines read after `skip` replies, with the
/// time it took for the connection to close.
fn trickle(server: &Server, first: &str, skip: usize, piece: &str) -> (Vec<String>, Duration) {
    let stream = TcpStream::connect(server.addr("smtp")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(12)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    let mut read_reply = |reader: &mut BufReader<TcpStream>| loop {
        line.clear();
        reader.read_line(&mut line).expect("a reply");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.trim_end().to_string();
        }
    };
    assert!(read_reply(&mut reader).starts_with("220 "));
    writer.write_all(first.as_bytes()).unwrap();
    for _ in 0..skip {
        let reply = read_reply(&mut reader);
        assert!(reply.starts_with('2') || reply.starts_with('3'), "{reply}");
    }
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let trickler = {
        let stop = stop.clone();
        let piece = piece.to_string();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(10) {
                if writer.write_all(piece.as_bytes()).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => lines.push(line.trim_end().to_string()),
        }
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    trickler.join().unwrap();
    (lines, took)
}

#[test]
fn a_trickling_data_transfer_hits_the_data_deadline() {
    let server = server_with("data_timeout_secs = 60\ndata_deadline_secs = 2");
    server.add_user("bob@example.test");
    let (lines, took) = trickle(
        &server,
        &format!(
            "EHLO client.example\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
        ),
        4,
        "x\r\n",
    );
    assert_eq!(lines, [TIMEOUT], "after {took:?}");
    assert!(took < Duration::from_secs(6), "closed after {took:?}");
    assert_eq!(message_count(&server), 0);
}

#[test]
fn a_trickling_bdat_transfer_hits_the_data_deadline() {
    let server = server_with("data_timeout_secs = 60\ndata_deadline_secs = 2");
    server.add_user("bob@example.test");
    let (lines, took) = trickle(
        &server,
        &format!(
            "EHLO client.example\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<bob@example.test>\r\nBDAT 100000 LAST\r\n"
        ),
        3,
        "x",
    );
    assert_eq!(lines, [TIMEOUT], "after {took:?}");
    assert!(took < Duration::from_secs(6), "closed after {took:?}");
    assert_eq!(message_count(&server), 0);
}

/// Connects and returns the first line the server sends.
fn first_line(server: &Server) -> (RawClient, String) {
    let mut client = RawClient::connect(server.addr("smtp"));
    let line = client.read_line().expect("a first line");
    (client, line)
}

#[test]
fn connections_per_ip_are_limited() {
    let server = server_with("max_connections_per_ip = 2");
    let (first, greeting) = first_line(&server);
    assert!(greeting.starts_with("220 "), "{greeting}");
    let (_second, greeting) = first_line(&server);
    assert!(greeting.starts_with("220 "), "{greeting}");
    let started = Instant::now();
    let (mut third, refused) = first_line(&server);
    assert_eq!(
        refused,
        format!("421 4.7.0 {HOST} Too many connections from your address; try again later")
    );
    assert_eq!(third.read_line(), None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    // Once one closes, a new connection is served.
    let mut first = Smtp { raw: first };
    first.cmd("QUIT");
    assert!(first.closed());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (client, line) = first_line(&server);
        if line.starts_with("220 ") {
            let mut smtp = Smtp { raw: client };
            smtp.expect("EHLO client.example", "250");
            smtp.quit();
            break;
        }
        assert!(line.starts_with("421 4.7.0"), "{line}");
        assert!(
            Instant::now() < deadline,
            "the freed slot was not given back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn total_connections_are_limited() {
    let server = server_with("max_connections = 1");
    let (_first, greeting) = first_line(&server);
    assert!(greeting.starts_with("220 "), "{greeting}");
    let (mut second, refused) = first_line(&server);
    assert_eq!(
        refused,
        format!("421 4.3.2 {HOST} Service busy, too many connections; try again later")
    );
    assert_eq!(second.read_line(), None);
}
