use crate::mailroom;

#[test]
fn a_bad_config_is_refused_at_start_with_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "hostname = \"mail.example.test\"\n[listen]\nimap = [\"127.0.0.1:143\", \"not an address\"]\n",
    )
    .unwrap();
    let out = mailroom(&["--config", path.to_str().unwrap(), "serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3:")
            && err.contains("listen.imap")
            && err.contains("not an address"),
        "{err}"
    );

    std::fs::write(&path, "hostname = \"x.test\"\nlisten_typo = 1\n").unwrap();
    let out = mailroom(&["--config", path.to_str().unwrap(), "domain", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:2:1") && err.contains("listen_typo"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let out = mailroom(&["--config", "/nonexistent/mailroom.toml", "domain", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read config file /nonexistent/mailroom.toml"),
        "{err}"
    );
}

#[test]
fn a_port_in_use_is_reported_with_its_listener() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[listen]\nsmtp = [\"127.0.0.1:{port}\"]\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let out = mailroom(&["--config", path.to_str().unwrap(), "serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port} (smtp)")),
        "{err}"
    );
}
