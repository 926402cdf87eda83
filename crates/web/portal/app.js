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

async function domainsPage() {
  const list = await api("GET", "/domains");
  const children = [el("h1", {}, "Domains"),
    table(["Name", "Suspended"], list.items.map((d) => [d.name, d.suspended ? "yes" : "no"]))];
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

const pages = { "#/accounts": accountsPage, "#/domains": domainsPage, "#/aliases": aliasesPage, "#/me": mePage };

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
