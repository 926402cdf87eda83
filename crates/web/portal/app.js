// The portal: a thin page over the JSON API. Every change goes through
// /api/v1 with the session cookie and the CSRF header; every error the
// API reports is shown as it says it.

const main = document.getElementById("main");
const alertBox = document.getElementById("alert");
const menu = document.getElementById("menu");
let me = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function show(message, ok = false) {
  alertBox.textContent = message;
  alertBox.className = ok ? "ok" : "";
  alertBox.hidden = false;
}

function clearAlert() {
  alertBox.hidden = true;
  alertBox.textContent = "";
}

async function api(method, path, body) {
  const init = { method, headers: { "X-Mailroom-CSRF": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (data && data.error) || { code: "error", message: response.statusText };
    if (error.code === "invalid_authorization") {
      sessionEnded(error.message);
    }
    throw error;
  }
  return data;
}

function sessionEnded(message) {
  me = null;
  menu.hidden = true;
  show(message);
  main.replaceChildren(el("button", { type: "button", id: "login-again", onclick: () => loginPage() }, "Log in again"));
}

function field(label, name, type = "text", extra = {}) {
  return el("label", {}, label, el("input", { name, type, required: "", ...extra }));
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
}

function form(title, fields, submit, onsubmit) {
  const f = el("form", { "aria-label": title }, ...fields, el("button", { type: "submit" }, submit));
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    try {
      await onsubmit(Object.fromEntries(new FormData(f)));
    } catch (error) {
      if (error.code !== "invalid_authorization") show(error.message || String(error));
    }
  });
  return f;
}

function loginPage() {
  menu.hidden = true;
  const totp = field("Code from your authenticator app", "totp", "text", { inputmode: "numeric", autocomplete: "one-time-code" });
  totp.hidden = true;
  totp.querySelector("input").required = false;
  main.replaceChildren(el("h1", {}, "Log in"), form("Log in", [
    field("Email address", "username", "email", { autocomplete: "username" }),
    field("Password", "password", "password", { autocomplete: "current-password" }),
    totp,
  ], "Log in", async (values) => {
    if (!values.totp) delete values.totp;
    try {
      await api("POST", "/auth/login", values);
    } catch (error) {
      if (error.code === "totp_required") {
        totp.hidden = false;
        totp.querySelector("input").focus();
      }
      throw error;
    }
    await start();
  }));
}

async function accountsPage() {
  const list = await api("GET", "/accounts");
  main.replaceChildren(el("h1", {}, "Accounts"),
    table(["Email", "Role", "Enabled", "2FA"], list.items.map((a) => [a.email, a.role, a.enabled ? "yes" : "no", a.two_factor ? "on" : "off"])),
    el("h2", {}, "New account"),
    form("New account", [field("Email address", "email", "email"), field("Password", "password", "password")], "Create", async (v) => {
      await api("POST", "/accounts", v);
      show(`Account ${v.email} created`, true);
      await accountsPage();
    }));
}

function dnsButton(name) {
  return el("button", { type: "button", onclick: () => dnsPage(name) }, "DNS records");
}

async function dnsPage(name) {
  const dns = await api("GET", `/domains/${encodeURIComponent(name)}/dns`);
  main.replaceChildren(el("h1", {}, `DNS records for ${name}`),
    el("p", {}, "Publish these at the domain's DNS provider."),
    table(["Name", "Type", "Value", "Purpose"], dns.records.map((r) => [r.name, r.type, r.value, r.purpose])));
}

async function domainsPage() {
  const list = await api("GET", "/domains");
  const children = [el("h1", {}, "Domains"),
    table(["Name", "Suspended", ""], list.items.map((d) => [d.name, d.suspended ? "yes" : "no", dnsButton(d.name)]))];
  if (me.role === "master-admin") {
    children.push(el("h2", {}, "New domain"), form("New domain", [field("Domain name", "name")], "Add", async (v) => {
      await api("POST", "/domains", v);
      show(`Domain ${v.name} added`, true);
      await domainsPage();
    }));
  }
  main.replaceChildren(...children);
}

async function aliasesPage() {
  const list = await api("GET", "/aliases");
  main.replaceChildren(el("h1", {}, "Aliases"),
    table(["Alias", "Delivers to"], list.items.map((a) => [a.source, a.destinations.join(", ")])),
    el("h2", {}, "New alias"),
    form("New alias", [field("Alias address", "source"), field("Delivers to", "destination", "email")], "Create", async (v) => {
      await api("POST", "/aliases", { source: v.source, destinations: [v.destination] });
      show(`Alias ${v.source} created`, true);
      await aliasesPage();
    }));
}

async function forwardsPage() {
  const own = me.role === "mail-user";
  const accounts = own ? [{ email: me.email }] : (await api("GET", "/accounts")).items;
  const rows = [];
  for (const a of accounts) {
    const f = await api("GET", `/accounts/${encodeURIComponent(a.email)}/forwards`);
    if (f.destinations.length) rows.push([a.email, f.destinations.join(", "), f.keep_copy ? "yes" : "no"]);
  }
  const fields = [field("Forward to (addresses separated by commas)", "destinations")];
  if (!own) fields.unshift(field("Account", "account", "email"));
  fields.push(el("label", {}, el("input", { type: "checkbox", name: "keep_copy", checked: "" }), " Keep a copy in the Inbox"));
  main.replaceChildren(el("h1", {}, "Forwards"),
    table(["Account", "Forwards to", "Keeps a copy"], rows),
    el("h2", {}, "Set forwards"),
    form("Set forwards", fields, "Save", async (v) => {
      const account = own ? me.email : v.account;
      const destinations = v.destinations.split(",").map((d) => d.trim()).filter(Boolean);
      await api("PUT", `/accounts/${encodeURIComponent(account)}/forwards`, { destinations, keep_copy: v.keep_copy === "on" });
      show(`Forwards of ${account} saved`, true);
      await forwardsPage();
    }));
}

async function antispamPage() {
  if (me.role === "mail-user") {
    main.replaceChildren(el("h1", {}, "Antispam"), el("p", {}, "Antispam settings are kept by your administrators."));
    return;
  }
  const domains = (await api("GET", "/domains")).items;
  const parts = [el("h1", {}, "Antispam")];
  for (const d of domains) {
    const base = `/domains/${encodeURIComponent(d.name)}/antispam`;
    const t = await api("GET", `${base}/thresholds`);
    const allow = (await api("GET", `${base}/lists/allow`)).items;
    const block = (await api("GET", `${base}/lists/block`)).items;
    parts.push(el("h2", {}, d.name),
      el("p", {}, `Thresholds (${t.source}): greylist ${t.greylist}, junk ${t.junk}, reject ${t.reject}. 999 turns a step off.`),
      form(`Thresholds for ${d.name}`, [
        field("Greylist at", "greylist", "number", { step: "0.1", value: String(t.greylist) }),
        field("Junk at", "junk", "number", { step: "0.1", value: String(t.junk) }),
        field("Reject at", "reject", "number", { step: "0.1", value: String(t.reject) }),
      ], "Save thresholds", async (v) => {
        await api("PUT", `${base}/thresholds`, { greylist: Number(v.greylist), junk: Number(v.junk), reject: Number(v.reject) });
        await antispamPage();
        show(`Thresholds of ${d.name} saved`, true);
      }),
      table(["List", "Kind", "Value"], [...allow, ...block].map((e) => [e.list, e.kind, e.value])),
      form(`List entry for ${d.name}`, [
        el("label", {}, "List", el("select", { name: "list" }, el("option", { value: "block" }, "block"), el("option", { value: "allow" }, "allow"))),
        el("label", {}, "Kind", el("select", { name: "kind" }, el("option", { value: "ip" }, "IP or CIDR (recommended)"), el("option", { value: "email" }, "sender address"), el("option", { value: "domain" }, "sender domain (risky to allow)"))),
        field("Value", "value"),
      ], "Add entry", async (v) => {
        const change = await api("POST", `${base}/lists/${v.list}`, { kind: v.kind, value: v.value });
        await antispamPage();
        show(change.warning ? `Added. Warning: ${change.warning}` : "Added", !change.warning);
      }));
  }
  main.replaceChildren(...parts);
}

async function serverPage() {
  const policy = await api("GET", "/security/policy");
  const queue = (await api("GET", "/queue")).items;
  const log = (await api("GET", "/security/log?limit=20")).items;
  const bans = (await api("GET", "/security/bans")).items;
  const mandatory = el("input", { type: "checkbox", name: "mandatory" });
  mandatory.checked = policy.mandatory;
  main.replaceChildren(el("h1", {}, "Server"),
    el("h2", {}, "2FA policy"),
    form("2FA policy", [
      el("label", {}, mandatory, " MailUsers must turn on 2FA"),
      field("Days before an account without 2FA is disabled", "grace_days", "number", { min: "1", max: "365", value: String(policy.grace_days) }),
    ], "Save policy", async (v) => {
      await api("PUT", "/security/policy", { mandatory: v.mandatory === "on", grace_days: Number(v.grace_days) });
      await serverPage();
      show("2FA policy saved", true);
    }),
    el("h2", {}, "Outbound queue"),
    table(["Id", "Sender", "Recipients"], queue.map((q) => [String(q.id), q.sender || "<>", q.recipients.map((r) => `${r.address} (${r.status})`).join(", ")])),
    el("h2", {}, "Banned addresses"),
    table(["Address", "Until", "Reason"], bans.map((b) => [b.ip, new Date(b.until * 1000).toLocaleString(), b.reason])),
    el("h2", {}, "Security log"),
    table(["Time", "Event", "Account", "Address"], log.map((e) => [new Date(e.at * 1000).toLocaleString(), e.event, e.account || "", e.ip || ""])));
}

async function mePage() {
  const devices = await api("GET", "/me/device-passwords");
  const parts = [el("h1", {}, "My account"), el("p", {}, `${me.email} (${me.role})`), el("h2", {}, "Two-factor authentication")];
  if (me.two_factor) {
    parts.push(el("p", {}, "2FA is on. Mail programs use device passwords."));
  } else {
    parts.push(el("button", { type: "button", id: "setup-2fa", onclick: setup2fa }, "Set up 2FA"));
  }
  parts.push(el("div", { id: "enrolment" }), el("h2", {}, "Device passwords"),
    table(["Name", "Last used", "Protocol"], devices.items.map((d) => [d.name, d.last_used_at ? new Date(d.last_used_at * 1000).toLocaleString() : "never", d.last_protocol || ""])),
    form("New device password", [field("Device name", "name")], "Create", async (v) => {
      const made = await api("POST", "/me/device-passwords", v);
      await mePage();
      show(`Device password for ${made.name}: ${made.password} (shown only now)`, true);
    }));
  main.replaceChildren(...parts);
}

async function setup2fa() {
  clearAlert();
  const enrolment = await api("POST", "/me/2fa/setup", {});
  document.getElementById("enrolment").replaceChildren(
    el("p", {}, "Scan the code with an authenticator app, or type the secret in:"),
    el("img", { src: "/api/v1/me/2fa/qr.png?" + Date.now(), alt: "QR code for your authenticator app", width: "240", height: "240" }),
    el("p", { class: "secret" }, enrolment.secret),
    form("Confirm 2FA", [field("Code from the app", "code", "text", { inputmode: "numeric" })], "Turn on 2FA", async (v) => {
      const done = await api("POST", "/me/2fa/confirm", v);
      me.two_factor = true;
      await mePage();
      show("2FA is on. Recovery codes (each works once, shown only now): " + done.recovery_codes.join(" "), true);
    }));
}

const pages = {
  "#/accounts": accountsPage, "#/domains": domainsPage, "#/aliases": aliasesPage, "#/forwards": forwardsPage,
  "#/antispam": antispamPage, "#/server": serverPage, "#/me": mePage,
};

async function route() {
  if (!me) return;
  const page = pages[location.hash] || (me.role === "mail-user" ? mePage : accountsPage);
  try {
    await page();
  } catch (error) {
    if (error.code !== "invalid_authorization") show(error.message || String(error));
  }
}

async function start() {
  try {
    me = await api("GET", "/me");
  } catch (error) {
    if (error.code === "invalid_authorization" && error.message === "Invalid authorization: please log in") {
      clearAlert();
      loginPage();
    }
    return;
  }
  menu.hidden = false;
  document.getElementById("server-link").hidden = me.role !== "master-admin";
  await route();
}

document.getElementById("logout").addEventListener("click", async () => {
  await api("POST", "/auth/logout", {}).catch(() => {});
  me = null;
  clearAlert();
  loginPage();
});
window.addEventListener("hashchange", route);
start();
