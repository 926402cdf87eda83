//! A message acknowledged with 250 survives `kill -9` of the server, exactly
//! once, and the store is consistent afterwards.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::server;

/// Sends one message; Ok(true) if the server answered 250 to its data.
fn send_one(addr: SocketAddr, rcpt: &str, token: &str) -> std::io::Result<bool> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut reply = || -> std::io::Result<String> {
        let mut last = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                last = line;
                return Ok(last);
            }
            last.clear();
        }
    };
    reply()?;
    let body = format!(
        "Subject: {token}\r\nMessage-ID: <{token}@test>\r\n\r\n{}\r\n",
        "crash test body line\r\n".repeat(40)
    );
    writer.write_all(b"EHLO crash.test\r\n")?;
    reply()?;
    writer.write_all(
        format!("MAIL FROM:<s@crash.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes(),
    )?;
    for _ in 0..3 {
        reply()?;
    }
    writer.write_all(format!("{body}.\r\n").as_bytes())?;
    let answer = reply()?;
    let _ = writer.write_all(b"QUIT\r\n");
    Ok(answer.starts_with("250 "))
}

/// Prints `account token` for every stored message, after checking the
/// store's own invariants (unique UIDs below UIDNEXT, usage, every body
/// present, reference counts).
const CHECK_STORE: &str = r#"
import os, re, sqlite3, sys, hashlib
data = sys.argv[1]
db = sqlite3.connect(f"file:{data}/mailroom.db?mode=ro", uri=True)
problems = []
for (mbox, uidnext) in db.execute("SELECT id, uidnext FROM mailboxes"):
    uids = [r[0] for r in db.execute("SELECT uid FROM messages WHERE mailbox_id=? ORDER BY uid", (mbox,))]
    if uids and uids[-1] >= uidnext:
        problems.append(f"mailbox {mbox}: uid {uids[-1]} >= uidnext {uidnext}")
    if len(set(uids)) != len(uids):
        problems.append(f"mailbox {mbox}: duplicate uids")
for (acct, used) in db.execute("SELECT id, used_bytes FROM accounts"):
    total = db.execute("SELECT coalesce(sum(m.size),0) FROM messages m JOIN mailboxes b ON m.mailbox_id=b.id WHERE b.account_id=?", (acct,)).fetchone()[0]
    if total != used:
        problems.append(f"account {acct}: used_bytes {used} != sum of sizes {total}")
for (email, blob, inline) in db.execute("SELECT a.email, m.blob_id, bl.data FROM messages m JOIN mailboxes b ON m.mailbox_id=b.id JOIN accounts a ON a.id=b.account_id LEFT JOIN blobs bl ON bl.id=m.blob_id"):
    path = f"{data}/blobs/{blob[:2]}/{blob[2:]}"
    if inline is not None:
        content = inline
    elif os.path.exists(path):
        content = open(path, "rb").read()
    else:
        problems.append(f"missing blob {blob}")
        continue
    token = re.search(rb"Subject: (\S+)", content)
    print(email, token.group(1).decode() if token else "?")
for (blob, refcount) in db.execute("SELECT id, refcount FROM blobs"):
    n = db.execute("SELECT count(*) FROM messages WHERE blob_id=?", (blob,)).fetchone()[0]
    if n != refcount:
        problems.append(f"blob {blob}: refcount {refcount} but {n} messages")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
"#;

#[test]
fn every_acknowledged_message_survives_kill_9_exactly_once() {
    let mut server = server();
    let users: Vec<String> = (0..8).map(|i| format!("u{i}@example.test")).collect();
    for user in &users {
        server.add_user(user);
    }
    let addr = server.addr("smtp");
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..12)
        .map(|t| {
            let (acknowledged, stop, users) = (acknowledged.clone(), stop.clone(), users.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let rcpt = &users[(t + n) % users.len()];
                    let token = format!("t{t}n{n}");
                    n += 1;
                    match send_one(addr, rcpt, &token) {
                        Ok(true) => acknowledged.lock().unwrap().push((rcpt.clone(), token)),
                        Ok(false) => {}
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let a good number of deliveries through, then pull the plug mid-flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 150 {
        assert!(std::time::Instant::now() < deadline, "deliveries too slow");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    server.restart();
    let out = server.python(&format!(
        "import sys; sys.argv = ['x', {:?}]\n{CHECK_STORE}",
        server.data_dir.display().to_string()
    ));
    assert!(
        out.status.success(),
        "store inconsistent after kill -9:\n{}",
        out.stderr
    );
    let mut stored: HashMap<(String, String), usize> = HashMap::new();
    for line in out.stdout.lines() {
        let (email, token) = line.split_once(' ').unwrap();
        *stored.entry((email.into(), token.into())).or_default() += 1;
    }
    for key in &acknowledged {
        assert_eq!(
            stored.get(key),
            Some(&1),
            "acknowledged {key:?} must be stored exactly once"
        );
    }
    assert!(
        stored.values().all(|&n| n == 1),
        "no message is stored twice"
    );
    // And the restarted server takes mail again.
    assert!(send_one(server.addr("smtp"), &users[0], "after-restart").unwrap());
}
