//! How the queue talks to other hosts: through a smart host that wants a
//! login (over STARTTLS or TLS from the start), and, against a recording
//! SMTP sink, with pipelining (RFC 2920), connections reused between
//! messages, and no more connections to one destination than allowed.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use super::outbound::{PRELUDE, wait_for_attempt};
use crate::{builder, run_python, server};

/// An SMTP sink that takes `expect` messages and reports how clients used
/// it. It answers a message only once `hold` of them are waiting for an
/// answer (fewer at the end), so concurrent deliveries show up whatever
/// the machine's speed; one on its own is let go after 10 s.
const SINK: &str = r#"
import asyncio, json, sys
EXPECT, HOLD = int(sys.argv[1]), int(sys.argv[2])
state = {"active": 0, "max_active": 0, "connections": 0, "messages": 0, "pipelined": 0}
done = asyncio.Event()
waiting = []
async def hold():
    gate = asyncio.get_running_loop().create_future()
    waiting.append(gate)
    if len(waiting) >= min(HOLD, EXPECT - state["messages"]):
        for g in waiting:
            g.done() or g.set_result(None)
        waiting.clear()
    try:
        await asyncio.wait_for(asyncio.shield(gate), 10)
    except asyncio.TimeoutError:
        waiting.remove(gate)
async def handle(reader, writer):
    state["connections"] += 1
    state["active"] += 1
    state["max_active"] = max(state["max_active"], state["active"])
    writer.write(b"220 sink.test ESMTP\r\n")
    buf, in_data = b"", False
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            if not in_data and b"MAIL FROM" in chunk and b"RCPT TO" in chunk and b"DATA\r\n" in chunk:
                state["pipelined"] += 1
            buf += chunk
            while True:
                if in_data:
                    end = buf.find(b"\r\n.\r\n")
                    if end < 0:
                        break
                    buf, in_data = buf[end + 5:], False
                    await hold()
                    state["messages"] += 1
                    writer.write(b"250 2.0.0 taken\r\n")
                    if state["messages"] >= EXPECT:
                        done.set()
                    continue
                nl = buf.find(b"\r\n")
                if nl < 0:
                    break
                line, buf = buf[:nl].decode(), buf[nl + 2:]
                verb = line[:4].upper()
                if verb == "EHLO":
                    writer.write(b"250-sink.test\r\n250-PIPELINING\r\n250 SIZE 10000000\r\n")
                elif verb == "DATA":
                    writer.write(b"354 go ahead\r\n")
                    in_data = True
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
    finally:
        state["active"] -= 1
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    try:
        await asyncio.wait_for(done.wait(), 60)
    except asyncio.TimeoutError:
        pass
    print(json.dumps(state), flush=True)
asyncio.run(main())
"#;

#[test]
fn the_queue_pipelines_reuses_connections_and_keeps_to_the_destination_limit() {
    let mut sink = Command::new("python3")
        .args(["-c", SINK, "12", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sink");
    let mut out = BufReader::new(sink.stdout.take().unwrap());
    let mut port = String::new();
    out.read_line(&mut port).unwrap();
    let server = builder()
        .config(&format!(
            "[outbound]\nrelay = \"127.0.0.1:{}\"\nmax_per_destination = 3\n",
            port.trim()
        ))
        .start();
    server.add_user("bob@example.test");
    server
        .cli(&["alias", "add", "fwd@example.test", "far@far.test"])
        .ok();
    // Twelve messages for the same destination, arriving together.
    server
        .python(
            r#"
import os, smtplib
s = smtplib.SMTP(os.environ["MR_SMTP_HOST"], int(os.environ["MR_SMTP_PORT"]), timeout=20)
for n in range(12):
    s.sendmail("alice@sender.test", ["fwd@example.test"], f"Subject: burst {n}\r\n\r\nMessage {n}.\r\n")
s.quit()
"#,
        )
        .ok();
    let mut report = String::new();
    out.read_to_string(&mut report).unwrap();
    sink.wait().unwrap();
    let report: serde_json::Value = serde_json::from_str(report.trim()).expect("sink report");
    assert_eq!(report["messages"], 12, "{report}");
    let max_active = report["max_active"].as_u64().unwrap();
    assert!(
        (2..=3).contains(&max_active),
        "several connections at once, never more than 3: {report}"
    );
    assert!(
        report["connections"].as_u64().unwrap() <= 6,
        "connections are reused between messages: {report}"
    );
    assert!(
        report["pipelined"].as_u64().unwrap() >= 1,
        "MAIL, RCPT and DATA travel together: {report}"
    );
}

#[test]
fn a_smart_host_that_wants_a_login_gets_it_and_a_wrong_one_defers() {
    let relay = server();
    relay.cli(&["domain", "add", "far.test"]).ok();
    relay.add_user("friend@far.test");
    // The smart host knows the sender as a user of its own.
    relay.add_user("bob@example.test");
    // TLS from the first byte (a port-465 style smart host).
    let server = builder()
        .config(&format!(
            "[outbound]\nrelay = \"{}\"\nrelay_implicit_tls = true\nrelay_user = \"bob@example.test\"\nrelay_password = \"{}\"\n",
            relay.addr("submissions"),
            mailroom_testkit::PASSWORD
        ))
        .start();
    server.add_user("bob@example.test");
    let relay_imaps = relay.addr("imaps").port();
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
submit("bob@example.test", ["friend@far.test"], "Via the relay")
got = wait_for_mail({relay_imaps}, "friend@far.test")[0]
check(b"Subject: Via the relay" in got, got[:400])
# The relay's trace says it took the message authenticated, over TLS.
check(b"with ESMTPSA" in got.split(b"Received:")[1], got[:600])
"#
        ),
    );
    // With a wrong password (STARTTLS this time) the message waits, and
    // the reason says so; nothing bounces for our own mistake.
    let wrong = builder()
        .config(&format!(
            "[outbound]\nrelay = \"{}\"\nrelay_user = \"bob@example.test\"\nrelay_password = \"not-the-password\"\n",
            relay.addr("submission")
        ))
        .start();
    wrong.add_user("bob@example.test");
    run_python(
        &wrong,
        PRELUDE,
        r#"submit("bob@example.test", ["friend@far.test"], "Held back")"#,
    );
    let listed = wait_for_attempt(&wrong);
    let recipient = &listed[0]["recipients"][0];
    assert_eq!(recipient["status"], "pending", "{listed}");
    let reply = recipient["last_reply"].as_str().unwrap_or("");
    assert!(
        reply.contains("login to the relay failed: 535 5.7.8"),
        "{reply}"
    );
    let log = wrong.stderr() + &wrong.stdout();
    assert!(
        !log.contains("not-the-password"),
        "the relay password is never logged"
    );
}
