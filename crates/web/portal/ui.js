// Building blocks of every page: the API call (session cookie + CSRF
// header; every error shown as the API words it), elements, forms,
// tables and confirmations.

export const session = { me: null };
const alertBox = () => document.getElementById("alert");
export const main = () => document.getElementById("main");
let ended = () => {};

/// What to do when the API says the session is over.
export function onSessionEnded(handler) {
  ended = handler;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

export function show(message, ok = false) {
  const box = alertBox();
  box.textContent = message;
  box.className = ok ? "ok" : "";
  box.hidden = false;
}

export function clearAlert() {
  const box = alertBox();
  box.hidden = true;
  box.textContent = "";
}

export async function api(method, path, body) {
  const init = { method, headers: { "X-Mailroom-CSRF": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || { code: "error", message: `${response.status} ${response.statusText}` };
    if (error.code === "invalid_authorization") ended(error.message);
    throw error;
  }
  return data;
}

/// Runs an action from a button: errors go to the alert box.
export async function attempt(action) {
  clearAlert();
  try {
    await action();
  } catch (error) {
    if (error.code !== "invalid_authorization") show(error.message || String(error));
  }
}

export const enc = encodeURIComponent;

export function field(label, name, type = "text", extra = {}) {
  return el("label", {}, label, el("input", { name, type, required: true, ...extra }));
}

export function optional(label, name, type = "text", extra = {}) {
  return field(label, name, type, { ...extra, required: false });
}

export function checkbox(label, name, checked) {
  return el("label", { class: "check" }, el("input", { type: "checkbox", name, checked }), " " + label);
}

export function select(label, name, options, value) {
  return el("label", {}, label, el("select", { name },
    ...options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))));
}

export function table(caption, headers, rows, empty = "Nothing here yet.") {
  if (!rows.length) return el("p", { class: "empty" }, empty);
  return el("div", { class: "scroll" }, el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))))));
}

export function form(title, fields, submit, onsubmit) {
  const f = el("form", { "aria-label": title }, ...fields, el("button", { type: "submit" }, submit));
  f.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => onsubmit(Object.fromEntries(new FormData(f)), f));
  });
  return f;
}

export function button(text, action, attrs = {}) {
  return el("button", { type: "button", ...attrs, onclick: () => attempt(action) }, text);
}

/// A destructive action: asks first, does nothing unless confirmed.
export function dangerButton(text, question, action, label) {
  return el("button", {
    type: "button", class: "danger", "aria-label": label || text,
    onclick: () => {
      if (window.confirm(question)) attempt(action);
    },
  }, text);
}

export function page(title, ...children) {
  main().replaceChildren(el("h1", { tabindex: "-1" }, title), ...children);
  main().querySelector("h1").focus();
}

export function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "never";
}

export function bytes(n) {
  if (n === null || n === undefined) return "unlimited";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export const isMaster = () => session.me && session.me.role === "master-admin";
export const isUser = () => session.me && session.me.role === "mail-user";

/// The domains the caller administers (for pickers).
export async function domainNames() {
  return (await api("GET", "/domains?limit=1000")).items.map((d) => d.name);
}

/// A domain picker that re-renders the page for the chosen domain.
export function domainPicker(names, chosen, onchange) {
  const picker = el("select", { name: "domain", onchange: (e) => attempt(() => onchange(e.target.value)) },
    ...names.map((n) => el("option", { value: n, selected: n === chosen }, n)));
  return el("label", { class: "picker" }, "Domain shown", picker);
}
