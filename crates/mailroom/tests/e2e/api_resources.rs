//! The directory over the JSON API, and who may do what: every endpoint
//! against a MasterAdmin, the DomainAdmin of the domain, the DomainAdmin
//! of another domain, a MailUser, an anonymous caller, and sessions of an
//! account whose API access was turned off or that was disabled. Objects
//! outside a caller's scope answer 404, so nothing can be enumerated.

use crate::{run_python, server};

const PRELUDE: &str = include_str!("api_prelude.py");

pub(crate) fn add(server: &mailroom_testkit::Server, email: &str, role: &str) {
    server
        .cli_with_stdin(
            &["account", "add", email, "--role", role, "--password-stdin"],
            &format!("{}\n", mailroom_testkit::PASSWORD),
        )
        .ok();
}

#[test]
fn every_endpoint_answers_each_role_as_its_scope_allows() {
    // The matrix is a burst of requests from one address.
    let server = crate::builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    for domain in ["example.test", "other.test"] {
        server.cli(&["domain", "add", domain]).ok();
    }
    add(&server, "root@example.test", "master-admin");
    add(&server, "da@example.test", "domain-admin");
    add(&server, "oa@other.test", "domain-admin");
    add(&server, "bob@example.test", "mail-user");
    add(&server, "zed@other.test", "mail-user");
    // Whose password the matrix resets (a reset ends the sessions).
    add(&server, "pat@example.test", "mail-user");
    add(&server, "noapi@example.test", "domain-admin");
    add(&server, "gone@example.test", "domain-admin");
    server
        .cli(&["domain-admin", "grant", "da@example.test", "example.test"])
        .ok();
    server
        .cli(&["domain-admin", "grant", "oa@other.test", "other.test"])
        .ok();
    let pw = mailroom_testkit::PASSWORD;
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
ROLES = ["master", "da", "oa", "user", "anon"]
USERS = {{"master": "root@example.test", "da": "da@example.test", "oa": "oa@other.test", "user": "bob@example.test"}}
TOKENS = {{role: login(user, "{pw}")[1]["token"] for role, user in USERS.items()}}
TOKENS["anon"] = None
# Sessions opened before their account lost API access, or was disabled:
# every endpoint refuses them.
for role, user in (("noapi", "noapi@example.test"), ("gone", "gone@example.test")):
    TOKENS[role] = login(user, "{pw}")[1]["token"]
check(call("PATCH", "/api/v1/accounts/noapi@example.test", {{"api_access": False}}, token=TOKENS["master"])[0] == 200)
check(call("PATCH", "/api/v1/accounts/gone@example.test", {{"enabled": False}}, token=TOKENS["master"])[0] == 200)
ROLES += ["noapi", "gone"]
# (method, path, body, expected status for master, da, oa, user, anon)
MATRIX = [
    ("GET", "/api/v1/domains", None, [200, 200, 200, 403, 401]),
    ("POST", "/api/v1/domains", {{"name": "new-{{role}}.test"}}, [201, 403, 403, 403, 401]),
    ("GET", "/api/v1/domains/example.test", None, [200, 200, 404, 404, 401]),
    ("GET", "/api/v1/domains/nosuch.test", None, [404, 404, 404, 404, 401]),
    ("GET", "/api/v1/domains/example.test/dns", None, [200, 200, 404, 404, 401]),
    ("GET", "/api/v1/domains/example.test/limits", None, [200, 200, 404, 404, 401]),
    ("GET", "/api/v1/domains/example.test/dkim", None, [200, 200, 404, 404, 401]),
    ("POST", "/api/v1/domains/example.test/resume", {{}}, [200, 403, 404, 404, 401]),
    ("GET", "/api/v1/accounts", None, [200, 200, 200, 403, 401]),
    ("GET", "/api/v1/accounts?domain=example.test", None, [200, 200, 404, 403, 401]),
    ("GET", "/api/v1/accounts/bob@example.test", None, [200, 200, 404, 200, 401]),
    ("GET", "/api/v1/accounts/zed@other.test", None, [200, 404, 200, 404, 401]),
    ("POST", "/api/v1/accounts", {{"email": "n-{{role}}@example.test", "password": "{pw}"}}, [201, 201, 404, 403, 401]),
    ("POST", "/api/v1/accounts", {{"email": "a-{{role}}@example.test", "password": "{pw}", "role": "domain-admin"}}, [201, 403, 404, 403, 401]),
    ("PATCH", "/api/v1/accounts/bob@example.test", {{"quota_bytes": 1000000}}, [200, 200, 404, 403, 401]),
    ("PATCH", "/api/v1/accounts/da@example.test", {{"enabled": True}}, [200, 403, 404, 404, 401]),
    # Quotas past 1 PiB are refused (they once overflowed the domain's sums).
    ("PATCH", "/api/v1/accounts/bob@example.test", {{"quota_bytes": 4611686018427387904}}, [400, 400, 404, 403, 401]),
    ("PATCH", "/api/v1/accounts/bob@example.test", {{"quota_bytes": 18446744073709551615}}, [400, 400, 404, 403, 401]),
    ("POST", "/api/v1/accounts/bob@example.test/reset-2fa", {{}}, [204, 204, 404, 403, 401]),
    ("POST", "/api/v1/accounts/pat@example.test/password", {{"password": "{pw}"}}, [204, 204, 404, 404, 401]),
    ("POST", "/api/v1/accounts/bob@example.test/password", {{"password": "{pw}"}}, [None, None, 404, 403, 401]),
    ("GET", "/api/v1/aliases", None, [200, 200, 200, 403, 401]),
    ("POST", "/api/v1/aliases", {{"source": "al-{{role}}@example.test", "destinations": ["bob@example.test"]}}, [201, 201, 404, 403, 401]),
    ("DELETE", "/api/v1/aliases/nothing@example.test", None, [404, 404, 404, 404, 401]),
    ("DELETE", "/api/v1/domains/other.test", None, [409, 404, 403, 404, 401]),
    ("GET", "/api/v1/accounts/bob@example.test/forwards", None, [200, 200, 404, 200, 401]),
    ("PUT", "/api/v1/accounts/bob@example.test/forwards", {{"destinations": ["zed@other.test"]}}, [200, 200, 404, 200, 401]),
    ("GET", "/api/v1/accounts/zed@other.test/forwards", None, [200, 404, 200, 404, 401]),
    # A DomainAdmin manages MailUsers only: not the mail of a MasterAdmin
    # of its domain, nor its own sending limits.
    ("PUT", "/api/v1/accounts/root@example.test/forwards", {{"destinations": ["da@example.test"]}}, [200, 403, 404, 404, 401]),
    ("PUT", "/api/v1/accounts/da@example.test/sending", {{"local": "100000/1s"}}, [200, 403, 404, 404, 401]),
    ("GET", "/api/v1/security/log", None, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/queue", None, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/antispam/thresholds", None, [200, 200, 200, 403, 401]),
    ("PUT", "/api/v1/antispam/thresholds", {{"greylist": 4, "junk": 6, "reject": 15}}, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/domains/example.test/antispam/thresholds", None, [200, 200, 404, 404, 401]),
    ("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 3, "junk": 5, "reject": 12}}, [200, 200, 404, 404, 401]),
    ("POST", "/api/v1/domains/example.test/antispam/lists/block", {{"kind": "ip", "value": "192.0.2.0/24"}}, [201, 201, 404, 404, 401]),
    ("GET", "/api/v1/antispam/lists/allow", None, [200, 200, 200, 403, 401]),
    ("GET", "/api/v1/sending-limits", None, [200, 200, 200, 403, 401]),
    ("PUT", "/api/v1/sending-limits", {{"external": "60/3m"}}, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/accounts/bob@example.test/sending", None, [200, 200, 404, 200, 401]),
    ("PUT", "/api/v1/accounts/bob@example.test/sending", {{"local": "300/60s"}}, [200, 200, 404, 403, 401]),
    ("POST", "/api/v1/queue/999/retry", {{}}, [404, 403, 403, 403, 401]),
    ("GET", "/api/v1/domain-admins/da@example.test", None, [200, 403, 403, 403, 401]),
    ("POST", "/api/v1/domain-admins", {{"email": "a-master@example.test", "domain": "example.test"}}, [204, 403, 403, 403, 401]),
    ("GET", "/api/v1/security/bans", None, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/security/policy", None, [200, 403, 403, 403, 401]),
    ("PUT", "/api/v1/security/policy", {{"grace_days": 5}}, [200, 403, 403, 403, 401]),
    ("GET", "/api/v1/me/device-passwords", None, [200, 200, 200, 200, 401]),
    ("POST", "/api/v1/me/api-keys", {{"name": "k-{{role}}", "read_only": True}}, [201, 201, 201, 201, 401]),
    ("GET", "/api/v1/me/api-keys", None, [200, 200, 200, 200, 401]),
    ("POST", "/api/v1/me/api-keys", {{"name": "z-{{role}}", "expires_in_secs": 0}}, [400, 400, 400, 400, 401]),
    ("POST", "/api/v1/me/api-keys", {{"name": "w-{{role}}", "expires_in_secs": 9223372036854775807}}, [400, 400, 400, 400, 401]),
    ("POST", "/api/v1/me/2fa/recovery-codes", {{"code": "000000"}}, [400, 400, 400, 400, 401]),
    ("GET", "/api/v1/stats", None, [200, 200, 200, 403, 401]),
    ("GET", "/api/v1/stats?domain=example.test", None, [200, 200, 404, 403, 401]),
    ("GET", "/api/v1/domains/example.test/stats?days=3", None, [200, 200, 404, 404, 401]),
    ("GET", "/api/v1/stats/blocked-senders", None, [200, 200, 200, 403, 401]),
    ("POST", "/api/v1/accounts/bob@example.test/unblock-sending", {{}}, [409, 409, 404, 403, 401]),
    ("GET", "/api/v1/abuse/settings", None, [200, 403, 403, 403, 401]),
    ("PUT", "/api/v1/abuse/settings", {{"spam_refusals_per_hour": 3, "limit_refusals_per_hour": 100, "bounce_percent": 30, "bounce_min_recipients": 20}}, [200, 403, 403, 403, 401]),
]
failures = []
for method, path, body, expected in MATRIX:
    for role, want in zip(ROLES, expected + [403, 401]):
        if want is None:
            # Not tried for this role (it would end the user's session).
            continue
        b = None if body is None else json.loads(json.dumps(body).replace("{{role}}", role))
        status, reply, _ = call(method, path, b, token=TOKENS[role])
        if status != want:
            failures.append(f"{{method}} {{path}} as {{role}}: {{status}} (want {{want}}) {{reply}}")
        if status >= 400:
            check(set(reply["error"]) == {{"code", "message"}}, "error shape", reply)
check(not failures, "\n".join(failures))
# Answers that may carry secrets are never cached nor sniffed.
status, created, headers = call("POST", "/api/v1/me/api-keys", {{"name": "cache-check"}}, token=TOKENS["user"])
check(status == 201 and headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff", status, dict(headers))
# What a DomainAdmin sees is its domain only.
listed = call("GET", "/api/v1/accounts", token=TOKENS["da"])[1]
check(all(a["email"].endswith("@example.test") for a in listed["items"]), listed)
check(all("password_hash" not in a for a in listed["items"]), "no hashes")
domains = call("GET", "/api/v1/domains", token=TOKENS["oa"])[1]
check([d["name"] for d in domains["items"]] == ["other.test"], domains)
# DKIM keys: public halves only.
keys = call("GET", "/api/v1/domains/example.test/dkim", token=TOKENS["da"])[1]["items"]
check(sorted(k["algorithm"] for k in keys) == ["ed25519-sha256", "rsa-sha256"] and all("private_key" not in k and k["public_key"] for k in keys), keys)
# Pages.
page = call("GET", "/api/v1/accounts?limit=2&offset=1", token=TOKENS["master"])[1]
check(len(page["items"]) == 2 and page["total"] > 3 and page["offset"] == 1, page)
# Domain limits: set by the MasterAdmin, felt by the DomainAdmin.
da = TOKENS["da"]
status, view, _ = call("PUT", "/api/v1/domains/example.test/limits", {{"max_accounts": None, "max_aliases": 3, "max_storage_bytes": 5000000}}, token=TOKENS["master"])
check(status == 200 and view["limits"]["max_aliases"] == 3 and view["usage"]["aliases"] == 2, view)
check(call("GET", "/api/v1/domains/example.test/limits", token=da)[1]["limits"]["max_storage_bytes"] == 5000000)
check(error_of(call("PUT", "/api/v1/domains/example.test/limits", {{"max_accounts": 100}}, token=da))[:2] == (403, "forbidden"))
check(call("POST", "/api/v1/aliases", {{"source": "third@example.test", "destinations": ["bob@example.test"]}}, token=da)[0] == 201)
status, code, message = error_of(call("POST", "/api/v1/aliases", {{"source": "fourth@example.test", "destinations": ["bob@example.test"]}}, token=da))
check(status == 409 and "limit of 3 aliases" in message, message)
status, code, message = error_of(call("POST", "/api/v1/accounts", {{"email": "q@example.test", "password": "{pw}"}}, token=da))
check(status == 400 and "give the account a quota" in message, message)
status, code, message = error_of(call("POST", "/api/v1/accounts", {{"email": "q@example.test", "password": "{pw}", "quota_bytes": 5000000}}, token=da))
check(status == 409 and "storage" in message, "bob's 1 MB quota is allocated already", message)
check(call("POST", "/api/v1/accounts", {{"email": "q@example.test", "password": "{pw}", "quota_bytes": 4000000}}, token=da)[0] == 201)
check(call("PUT", "/api/v1/domains/example.test/limits", {{"max_accounts": None, "max_aliases": None, "max_storage_bytes": None}}, token=TOKENS["master"])[0] == 200)
# The 2FA policy as the MasterAdmin set it in the matrix.
check(call("GET", "/api/v1/security/policy", token=TOKENS["master"])[1] == {{"mandatory": True, "grace_days": 5}})
check(error_of(call("PUT", "/api/v1/security/policy", {{"grace_days": 0}}, token=TOKENS["master"]))[0] == 400)
# Filtering and sorting.
found = call("GET", "/api/v1/accounts?q=ZED&sort=-email", token=TOKENS["master"])[1]
check([a["email"] for a in found["items"]] == ["zed@other.test"] and found["total"] == 1, found)
ordered = [a["email"] for a in call("GET", "/api/v1/accounts?sort=-email", token=TOKENS["master"])[1]["items"]]
check(ordered == sorted(ordered, reverse=True), ordered)
# Antispam settings: order enforced, 999 turns a step off, risky entries warned about.
da = TOKENS["da"]
status, code, message = error_of(call("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 7, "junk": 6, "reject": 15}}, token=da))
check(status == 400 and "greylist (7) must not be above junk (6)" in message, message)
status, body, _ = call("PUT", "/api/v1/domains/example.test/antispam/thresholds", {{"greylist": 999, "junk": 6, "reject": 15}}, token=da)
check(status == 200 and body["greylist"] == 999 and body["source"] == "domain", body)
check(call("GET", "/api/v1/domains/other.test/antispam/thresholds", token=TOKENS["oa"])[1]["source"] == "global")
status, body, _ = call("POST", "/api/v1/domains/example.test/antispam/lists/allow", {{"kind": "domain", "value": "Partner.Example"}}, token=da)
check(status == 201 and body["entry"]["value"] == "partner.example" and "risky" in body["warning"], body)
status, body, _ = call("POST", "/api/v1/domains/example.test/antispam/lists/allow", {{"kind": "ip", "value": "0.0.0.0/0"}}, token=da)
check(status == 201 and "very large" in body["warning"], "the whole internet allowed gets a warning", body)
status, body, _ = call("POST", "/api/v1/domains/example.test/antispam/lists/allow", {{"kind": "ip", "value": "198.51.100.0/24"}}, token=da)
check(status == 201 and body["warning"] is None, body)
check(error_of(call("POST", "/api/v1/domains/example.test/antispam/lists/block", {{"kind": "ip", "value": "192.0.2.0/40"}}, token=da))[0] == 400)
blocked = call("GET", "/api/v1/domains/example.test/antispam/lists/block", token=da)[1]["items"]
check([(e["kind"], e["value"]) for e in blocked] == [("ip", "192.0.2.0/24")], blocked)
check(call("DELETE", "/api/v1/domains/example.test/antispam/lists/block/ip/192.0.2.0%2F24", token=da)[0] == 204)
check(call("GET", "/api/v1/domains/example.test/antispam/lists/block", token=da)[1]["items"] == [])
# Sending limits: the account's own, over the global ones, with use.
limits = {{l["class"]: l for l in call("GET", "/api/v1/accounts/bob@example.test/sending", token=TOKENS["user"])[1]["items"]}}
check(limits["local"]["limit"] == "300/60s" and limits["local"]["source"] == "account", limits)
check(limits["external"]["limit"] == "60/180s" and limits["external"]["source"] == "global", limits)
check(error_of(call("PUT", "/api/v1/accounts/bob@example.test/sending", {{"local": "lots"}}, token=da))[0] == 400)
# A device password made through the API works for IMAP.
status, made, _ = call("POST", "/api/v1/me/device-passwords", {{"name": "laptop"}}, token=TOKENS["user"])
check(status == 201 and len(made["password"]) >= 20, status, made)
import imaplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", int(os.environ["MR_IMAPS_PORT"]), ssl_context=ctx)
m.login("bob@example.test", made["password"])
m.logout()
devices = call("GET", "/api/v1/me/device-passwords", token=TOKENS["user"])[1]["items"]
check(devices[0]["name"] == "laptop" and devices[0]["last_protocol"] == "imap" and "password" not in devices[0], devices)
check(call("DELETE", "/api/v1/me/device-passwords/laptop", token=TOKENS["user"])[0] == 204)
fwd = call("GET", "/api/v1/accounts/bob@example.test/forwards", token=TOKENS["user"])[1]
check(fwd["destinations"] == ["zed@other.test"] and fwd["keep_copy"] is True, fwd)
# A DomainAdmin's domains go to another.
check(call("POST", "/api/v1/domain-admins/transfer", {{"from": "oa@other.test", "to": "a-master@example.test"}}, token=TOKENS["master"])[1] == {{"domains": ["other.test"]}})
check(call("GET", "/api/v1/domains/other.test", token=TOKENS["oa"])[0] == 404, "oa no longer sees it")
check(call("GET", "/api/v1/domain-admins/a-master@example.test", token=TOKENS["master"])[1]["domains"] == ["example.test", "other.test"])
# The alias works for mail: it is in the directory the MX reads.
check(any(a["source"] == "al-da@example.test" for a in call("GET", "/api/v1/aliases?domain=example.test", token=TOKENS["da"])[1]["items"]))
"#
        ),
    );
    let shown = server
        .cli(&["--json", "account", "show", "bob@example.test"])
        .ok()
        .json();
    assert_eq!(
        shown["quota_bytes"], 1_000_000,
        "the API changed the directory"
    );
}

#[test]
fn keys_and_cookies_are_held_to_their_limits() {
    let server = server();
    server.add_user("root@example.test");
    server
        .cli(&[
            "account",
            "set",
            "root@example.test",
            "--role",
            "master-admin",
        ])
        .ok();
    server.add_user("carol@example.test");
    server.add_user("dan@example.test");
    server
        .cli(&[
            "account",
            "set",
            "carol@example.test",
            "--api-access",
            "false",
        ])
        .ok();
    server
        .cli(&["account", "set", "dan@example.test", "--enabled", "false"])
        .ok();
    let key = server
        .cli(&[
            "--json",
            "api-key",
            "add",
            "root@example.test",
            "reports",
            "--read-only",
        ])
        .ok()
        .json()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let pw = mailroom_testkit::PASSWORD;
    run_python(
        &server,
        PRELUDE,
        &format!(
            r#"
check(call("GET", "/api/v1/domains", token={key:?})[0] == 200, "a read-only key reads")
check(error_of(call("POST", "/api/v1/domains", {{"name": "x.test"}}, token={key:?}))[:2] == (403, "read_only_key"))
check(error_of(login("carol@example.test", "{pw}"))[:2] == (403, "api_access_disabled"))
check(error_of(login("dan@example.test", "{pw}"))[:2] == (401, "authentication_error"))
# A browser's cookie alone cannot write (CSRF); with our header it can.
_, _, headers = login("root@example.test", "{pw}")
cookie = headers["Set-Cookie"].split(";")[0]
check(error_of(call("POST", "/api/v1/domains", {{"name": "x.test"}}, cookie=cookie))[:2] == (403, "csrf"))
status, body, _ = call("POST", "/api/v1/domains", {{"name": "x.test"}}, cookie=cookie, extra={{"X-Mailroom-CSRF": "1"}})
check(status == 201 and body["name"] == "x.test", status, body)
check(call("GET", "/api/v1/domains/x.test", cookie=cookie)[0] == 200, "reads need no header")
"#
        ),
    );
}

#[test]
fn turning_api_access_off_or_disabling_the_account_stops_open_sessions() {
    let server = server();
    server.add_user("bob@example.test");
    let pw = mailroom_testkit::PASSWORD;
    let token = run_python(
        &server,
        PRELUDE,
        &format!(r#"print(login("bob@example.test", "{pw}")[1]["token"])"#),
    );
    let token = token.trim();
    let me = |expect: &str| {
        run_python(
            &server,
            PRELUDE,
            &format!(
                r#"check(error_of(call("GET", "/api/v1/me", token={token:?}))[:2] == {expect}, call("GET", "/api/v1/me", token={token:?}))"#
            ),
        );
    };
    server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--api-access",
            "false",
        ])
        .ok();
    me(r#"(403, "api_access_disabled")"#);
    server
        .cli(&[
            "account",
            "set",
            "bob@example.test",
            "--api-access",
            "true",
            "--enabled",
            "false",
        ])
        .ok();
    me(r#"(401, "invalid_authorization")"#);
}

#[test]
fn a_burst_of_requests_from_one_address_is_slowed_with_429() {
    let server = crate::builder()
        .config("[security]\napi_rate_per_ip = 3\n")
        .start();
    run_python(
        &server,
        PRELUDE,
        r#"
seen = [call("GET", "/api/v1/me") for _ in range(6)]
statuses = [s for s, _, _ in seen]
check(statuses[:3] == [401, 401, 401], "within the rate the request is answered", statuses)
limited = [r for r in seen if r[0] == 429]
check(limited, "past the rate: 429", statuses)
status, body, headers = limited[0]
check(body["error"]["code"] == "rate_limited" and int(headers["Retry-After"]) >= 1, body, dict(headers))
# The health check is not limited.
check(urllib.request.urlopen(BASE + "/healthz", timeout=10).status == 200)
"#,
    );
}

#[test]
fn the_openapi_document_lists_every_route_the_server_answers() {
    let server = crate::builder()
        .config("[security]\napi_rate_per_ip = 100000\n")
        .start();
    run_python(
        &server,
        PRELUDE,
        r#"
status, doc, _ = call("GET", "/api/v1/openapi.json")
check(status == 200 and doc["openapi"].startswith("3."), status)
paths = doc["paths"]
for path, method in [("/api/v1/auth/login", "post"), ("/api/v1/accounts/{email}", "patch"),
                     ("/api/v1/domains/{name}/dns", "get"), ("/api/v1/me/2fa/qr.png", "get"),
                     ("/api/v1/security/bans/{ip}", "delete"), ("/api/v1/queue/{id}/retry", "post")]:
    check(method in paths.get(path, {}), path, method, sorted(paths))
# Every documented operation exists: without credentials it is refused
# (401, or 400/422 for a malformed body), never "no such endpoint".
fill = {"{name}": "example.test", "{email}": "x@example.test", "{source}": "x@example.test",
        "{ip}": "192.0.2.1", "{id}": "1", "{domain}": "example.test", "{action}": "resume",
        "{list}": "block", "{kind}": "ip", "{value}": "192.0.2.1", "{mailbox}": "INBOX",
        "{uid}": "1", "{tag}": "MISSING_MID"}
count = 0
for path, ops in paths.items():
    concrete = path
    for k, v in fill.items():
        concrete = concrete.replace(k, v)
    for method in ops:
        count += 1
        body = {} if method in ("post", "put", "patch") else None
        status, reply, _ = call(method.upper(), concrete, body)
        code = (reply or {}).get("error", {}).get("code") if isinstance(reply, dict) else None
        check(not (status == 404 and code == "not_found" and reply["error"]["message"] == "no such endpoint"),
              method, path, status, reply)
check(count >= 55, "operations documented", count)
# A malformed body gets the error shape, naming the field.
status, reply, _ = call("POST", "/api/v1/auth/login", {"password": "x"})
check(status in (400, 422) and reply["error"]["code"] == "invalid_request" and "username" in reply["error"]["message"], status, reply)
# A field the endpoint does not know (a typo) is refused, not ignored.
status, reply, _ = call("POST", "/api/v1/auth/login", {"username": "a@b.test", "password": "x", "passwrod": "y"})
check(status == 422 and reply["error"]["code"] == "invalid_request" and "passwrod" in reply["error"]["message"], status, reply)
"#,
    );
}
