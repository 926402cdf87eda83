use mailroom_testkit::PASSWORD;

use crate::server;

#[test]
fn domains_round_trip_with_tables_and_json() {
    let server = server();
    let out = server.cli(&["domain", "add", "Shop.Example.TEST"]).ok();
    assert_eq!(out.stdout.trim(), "domain shop.example.test added");
    let err = server.cli(&["domain", "add", "shop.example.test"]).fails();
    assert_eq!(err.trim(), "error: domain shop.example.test already exists");
    let err = server.cli(&["domain", "add", "bad_domain"]).fails();
    assert!(err.contains("invalid domain name"), "{err}");

    server.cli(&["domain", "suspend", "shop.example.test"]).ok();
    let table = server.cli(&["domain", "list"]).ok().stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with("shop.example.test"))
        .unwrap();
    assert!(row.ends_with("yes"), "{table}");
    assert!(table.starts_with("DOMAIN"), "{table}");
    server.cli(&["domain", "resume", "shop.example.test"]).ok();
    let json = server.cli(&["--json", "domain", "list"]).ok().json();
    let shop = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "shop.example.test")
        .unwrap();
    assert_eq!(shop["suspended"], false);

    server.cli(&["domain", "remove", "shop.example.test"]).ok();
    let err = server
        .cli(&["domain", "remove", "shop.example.test"])
        .fails();
    assert!(err.contains("domain shop.example.test not found"), "{err}");
}

#[test]
fn accounts_round_trip() {
    let server = server();
    server.add_domain("example.test");
    let out = server
        .cli_with_stdin(
            &[
                "account",
                "add",
                "Alice@Example.test",
                "--quota",
                "2GiB",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .ok();
    assert_eq!(
        out.stdout.trim(),
        "account alice@example.test added (mail-user)"
    );

    let shown = server
        .cli(&["--json", "account", "show", "alice@example.test"])
        .ok()
        .json();
    assert_eq!(shown["email"], "alice@example.test");
    assert_eq!(shown["quota_bytes"], 2u64 << 30);
    assert_eq!(shown["enabled"], true);
    assert_eq!(shown["api_access"], true);
    assert!(shown.get("password_hash").is_none(), "no hash in output");

    server
        .cli(&[
            "account",
            "set",
            "alice@example.test",
            "--enabled",
            "false",
            "--api-access",
            "false",
            "--quota",
            "unlimited",
        ])
        .ok();
    let shown = server
        .cli(&["--json", "account", "show", "alice@example.test"])
        .ok()
        .json();
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["api_access"], false);
    assert!(shown["quota_bytes"].is_null());

    let table = server
        .cli(&["account", "list", "--domain", "example.test"])
        .ok()
        .stdout;
    assert!(table.starts_with("EMAIL"), "{table}");
    assert!(table.contains("alice@example.test"), "{table}");

    let err = server
        .cli_with_stdin(
            &[
                "account",
                "passwd",
                "alice@example.test",
                "--password-stdin",
            ],
            "weak\n",
        )
        .fails();
    assert!(err.contains("password too weak"), "{err}");
    server
        .cli_with_stdin(
            &[
                "account",
                "passwd",
                "alice@example.test",
                "--password-stdin",
            ],
            "Another1GoodPassword\n",
        )
        .ok();

    let err = server
        .cli_with_stdin(
            &[
                "account",
                "add",
                "bob@example.test",
                "--role",
                "king",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .fails();
    assert!(err.contains("unknown role 'king'"), "{err}");
    let err = server
        .cli_with_stdin(
            &["account", "add", "bob@nowhere.test", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .fails();
    assert!(err.contains("domain nowhere.test"), "{err}");
    let err = server.cli(&["account", "add", "bob@example.test"]).fails();
    assert!(err.contains("--password-stdin"), "{err}");

    server
        .cli(&["account", "remove", "alice@example.test"])
        .ok();
    let err = server
        .cli(&["account", "show", "alice@example.test"])
        .fails();
    assert_eq!(err.trim(), "error: account alice@example.test not found");
}

#[test]
fn imported_password_hashes_are_accepted() {
    let server = server();
    server.add_domain("example.test");
    // A Dovecot-style SHA512-CRYPT hash made by an independent implementation.
    let hash = std::process::Command::new("openssl")
        .args(["passwd", "-6", "Imported1Secret"])
        .output()
        .expect("run openssl");
    let hash = String::from_utf8(hash.stdout).unwrap();
    let imported = format!("{{SHA512-CRYPT}}{}", hash.trim());
    server
        .cli(&[
            "account",
            "add",
            "old@example.test",
            "--password-hash",
            &imported,
        ])
        .ok();
    let err = server
        .cli(&[
            "account",
            "add",
            "bad@example.test",
            "--password-hash",
            "{PLAIN}secret",
        ])
        .fails();
    assert!(err.contains("unsupported password hash"), "{err}");
}

#[test]
fn aliases_and_domain_admins_round_trip() {
    let server = server();
    server.add_user("a@example.test");
    server.add_user("b@example.test");
    let out = server
        .cli(&[
            "alias",
            "add",
            "team@example.test",
            "a@example.test",
            "b@example.test",
        ])
        .ok();
    assert_eq!(
        out.stdout.trim(),
        "alias team@example.test -> a@example.test, b@example.test"
    );
    server
        .cli(&["alias", "add", "@example.test", "a@example.test"])
        .ok();
    let err = server
        .cli(&["alias", "add", "a@example.test", "b@example.test"])
        .fails();
    assert!(err.contains("is an account"), "{err}");
    server
        .cli(&["alias", "add", "x@example.test", "team@example.test"])
        .ok();
    let err = server
        .cli(&["alias", "add", "team@example.test", "x@example.test"])
        .fails();
    assert!(err.contains("alias loop"), "{err}");

    let list = server
        .cli(&["--json", "alias", "list", "--domain", "example.test"])
        .ok()
        .json();
    let sources: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source"].clone())
        .collect();
    assert_eq!(
        sources,
        ["@example.test", "team@example.test", "x@example.test"]
    );
    server.cli(&["alias", "remove", "x@example.test"]).ok();

    server
        .cli_with_stdin(
            &[
                "account",
                "add",
                "boss@example.test",
                "--role",
                "domain-admin",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .ok();
    server
        .cli(&["domain-admin", "grant", "boss@example.test", "example.test"])
        .ok();
    let domains = server
        .cli(&["--json", "domain-admin", "list", "boss@example.test"])
        .ok()
        .json();
    assert_eq!(domains, serde_json::json!(["example.test"]));
    let err = server
        .cli(&["domain-admin", "grant", "a@example.test", "example.test"])
        .fails();
    assert!(err.contains("domain-admin role first"), "{err}");
    server
        .cli(&[
            "domain-admin",
            "revoke",
            "boss@example.test",
            "example.test",
        ])
        .ok();

    // Removing the domain needs --force while it has accounts, then leaves nothing.
    let err = server.cli(&["domain", "remove", "example.test"]).fails();
    assert!(err.contains("still has 3 account(s)"), "{err}");
    server
        .cli(&["domain", "remove", "example.test", "--force"])
        .ok();
    assert!(
        server
            .cli(&["--json", "account", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len()
            == 1
    );
    assert!(
        server
            .cli(&["--json", "alias", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_cli_works_beside_the_running_server() {
    let server = server();
    // Many CLI writers while the server holds the store open.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let config = server.config_path.clone();
            std::thread::spawn(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
                    .arg("--config")
                    .arg(config)
                    .args(["domain", "add", &format!("d{i}.example.test")])
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let domains = server.cli(&["--json", "domain", "list"]).ok().json();
    assert_eq!(domains.as_array().unwrap().len(), 9);
    assert_eq!(server.http_get("/healthz").0, 200);
}

#[test]
fn a_new_domain_gets_dkim_keys_and_the_records_to_publish() {
    let server = server();
    server.cli(&["domain", "add", "shop.example.test"]).ok();
    let out = server
        .cli(&["--json", "domain", "dns", "shop.example.test"])
        .ok();
    assert!(!out.stdout.contains("PRIVATE"), "no private key is shown");
    let records = out.json();
    let records = records.as_array().unwrap();
    let find = |name: &str, kind: &str| {
        records
            .iter()
            .find(|r| r["name"] == name && r["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} {name} in {records:?}"))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(find("shop.example.test.", "MX"), "10 mail.example.test.");
    assert_eq!(find("shop.example.test.", "TXT"), "v=spf1 mx -all");
    assert!(find("_dmarc.shop.example.test.", "TXT").starts_with("v=DMARC1; p=quarantine"));
    assert_eq!(
        find("_submission._tcp.shop.example.test.", "SRV"),
        "0 1 587 mail.example.test."
    );
    let dkim: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["name"].as_str().unwrap().contains("._domainkey."))
        .collect();
    assert_eq!(dkim.len(), 2, "{dkim:?}");
    // Both public keys are what their algorithm needs, checked by OpenSSL
    // (RSA: a 2048-bit SubjectPublicKeyInfo) and by length (Ed25519: raw).
    let script = format!(
        r#"
import base64, subprocess, sys
records = {records}
for value in records:
    p = value.split("p=")[1]
    der = base64.b64decode(p)
    if "k=rsa" in value:
        out = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-noout", "-text"], input=der, capture_output=True)
        assert b"2048 bit" in out.stdout, out
    else:
        assert "k=ed25519" in value and len(der) == 32, value
print("ok")
"#,
        records =
            serde_json::to_string(&dkim.iter().map(|r| r["value"].clone()).collect::<Vec<_>>())
                .unwrap()
    );
    let checked = server.python(&script);
    assert!(
        checked.stdout.contains("ok"),
        "{} {}",
        checked.stdout,
        checked.stderr
    );
    let table = server
        .cli(&["domain", "dns", "shop.example.test"])
        .ok()
        .stdout;
    assert!(
        table.contains("_domainkey.shop.example.test.") && table.contains("TXT"),
        "{table}"
    );
    let err = server.cli(&["domain", "dns", "nowhere.test"]).fails();
    assert_eq!(err.trim(), "error: domain nowhere.test not found");
}
