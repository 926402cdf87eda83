use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::builder;

fn make_certificate(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success());
    (cert, key)
}

const PEER_CN: &str = r#"
import os, socket, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
addr = (os.environ["MR_IMAPS_HOST"], int(os.environ["MR_IMAPS_PORT"]))
with ctx.wrap_socket(socket.create_connection(addr)) as s:
    der = s.getpeercert(binary_form=True)
    print(ssl.DER_cert_to_PEM_cert(der))
"#;

#[test]
fn configured_certificate_is_served_and_reloaded_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_certificate(dir.path(), "first.example.test");
    let (next_cert, next_key) = make_certificate(dir.path(), "second.example.test");
    let server = builder().tls_files(&cert, &key).start();
    let pem = |p: &Path| std::fs::read_to_string(p).unwrap().replace('\n', "");
    let served = || server.python(PEER_CN).ok().stdout.replace('\n', "");
    assert_eq!(served(), pem(&cert));

    std::fs::copy(&next_cert, &cert).unwrap();
    std::fs::copy(&next_key, &key).unwrap();
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while served() != pem(&next_cert) {
        assert!(Instant::now() < deadline, "certificate not reloaded");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The server is still up and serving.
    assert_eq!(server.http_get("/healthz").0, 200);

    // A broken file on reload keeps the current certificate.
    std::fs::write(&cert, "garbage").unwrap();
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(served(), pem(&next_cert));
    assert!(server.stderr().contains("TLS reload failed"));
}

#[test]
fn without_tls_config_a_self_signed_certificate_is_made_for_the_hostname() {
    let server = builder().hostname("mx.self.test").start();
    let out = server.python(PEER_CN).ok().stdout;
    assert!(out.contains("BEGIN CERTIFICATE"), "{out}");
    assert!(server.data_dir.join("tls/cert.pem").exists());
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(server.data_dir.join("tls/cert.pem"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("DNS:mx.self.test"));
}
