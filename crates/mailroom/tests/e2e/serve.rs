use std::time::{Duration, Instant};

use mailroom_testkit::RawClient;

use crate::server;

#[test]
fn first_start_creates_the_master_admin_and_prints_the_password_once() {
    let mut server = server();
    let out = server.stdout();
    assert!(
        out.contains("Created the MasterAdmin account admin@mail.example.test"),
        "{out}"
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Its password, shown only this once: "))
        .expect("the password is printed")
        .to_string();
    assert!(password.len() >= 12);
    // Never in the log.
    assert!(!server.stderr().contains(&password));
    let admin = server
        .cli(&["--json", "account", "show", "admin@mail.example.test"])
        .ok()
        .json();
    assert_eq!(admin["role"], "master-admin");
    // The hostname is a hosted domain like any other.
    let domains = server.cli(&["--json", "domain", "list"]).ok().json();
    assert_eq!(domains[0]["name"], "mail.example.test");

    server.restart();
    let again = server.stdout();
    assert!(!again.contains("Its password"), "{again}");
    assert!(
        again.contains("Log in as admin@mail.example.test"),
        "{again}"
    );
}

#[test]
fn healthz_answers_and_unknown_paths_get_a_json_404() {
    let server = server();
    let (status, body) = server.http_get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (status, body) = server.http_get("/no/such/page");
    assert_eq!(status, 404);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[test]
fn every_listener_greets_with_its_protocol() {
    let server = server();
    let cases = [
        ("smtp", "220 mail.example.test ESMTP"),
        ("imap", "* OK [CAPABILITY IMAP4rev1"),
        ("pop3", "+OK mailroom POP3 ready"),
        ("submission", "220 mail.example.test ESMTP"),
    ];
    for (service, expected) in cases {
        let mut client = RawClient::connect(server.addr(service));
        let greeting = client.read_line().expect("a greeting");
        assert!(greeting.starts_with(expected), "{service}: {greeting}");
    }
    // Implicit-TLS listeners greet after the handshake.
    let script = r#"
import os, socket, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for name in ["IMAPS", "POP3S", "SUBMISSIONS"]:
    addr = (os.environ[f"MR_{name}_HOST"], int(os.environ[f"MR_{name}_PORT"]))
    with ctx.wrap_socket(socket.create_connection(addr), server_hostname="mail.example.test") as s:
        print(name, s.recv(200).decode().strip())
"#;
    let out = server.python(script).ok().stdout;
    assert!(out.contains("IMAPS * OK [CAPABILITY IMAP4rev1"), "{out}");
    assert!(out.contains("POP3S +OK mailroom POP3 ready"), "{out}");
    assert!(
        out.contains("SUBMISSIONS 220 mail.example.test ESMTP"),
        "{out}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = server();
    // An idle keep-alive connection does not hold up the shutdown.
    let mut idle = RawClient::connect(server.addr("http"));
    idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(idle.read_line().unwrap().starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    let status = server.stop(Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let log = server.stderr();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(!server.data_dir.join("listeners.json").exists());
    // Data survives a restart.
    server.restart();
    assert_eq!(server.http_get("/healthz").0, 200);
}

#[test]
fn json_logs_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[listen]\nsmtp=[]\nsubmission=[]\nsubmissions=[]\nimap=[]\nimaps=[]\npop3=[]\npop3s=[]\nhttp=[\"127.0.0.1:0\"]\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["--log-format", "json", "serve"])
        .env("MAILROOM_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let listeners = dir.path().join("data/listeners.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !listeners.exists() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8(out.stderr).unwrap();
    let first = log.lines().next().expect("some log lines");
    let event: serde_json::Value = serde_json::from_str(first).expect("JSON log lines");
    assert!(event["level"].is_string(), "{first}");
}
