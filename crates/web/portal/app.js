// The portal: a thin page over the JSON API. Every change goes through
// /api/v1 with the session cookie and the CSRF header; every error the
// API reports is shown as it says it. Pages live in their own modules.

import { api, clearAlert, el, form, field, main, onSessionEnded, session, show } from "./ui.js";
import { accountPage, accountsPage, aliasesPage, domainsPage, forwardsPage } from "./mail.js";
import { dnsPage, globalListsPage, listsPage, thresholdsPage } from "./domain.js";
import { policyPage, sendingPage } from "./settings.js";
import { blockedPage, statsPage } from "./stats.js";
import { queuePage, securityPage } from "./server.js";
import { devicesPage, keysPage, mePage } from "./me.js";
import { spamCheckPage, spamRulesPage } from "./spam.js";

const menu = document.getElementById("menu");

// `#/name/arg/arg` → the page and its arguments.
const pages = {
  accounts: accountsPage, account: accountPage, domains: domainsPage, aliases: aliasesPage,
  forwards: forwardsPage, thresholds: thresholdsPage, lists: listsPage, dns: dnsPage,
  "global-lists": globalListsPage, sending: sendingPage, policy: policyPage,
  stats: statsPage, blocked: blockedPage, queue: queuePage, security: securityPage,
  me: mePage, devices: devicesPage, keys: keysPage,
  "spam-check": spamCheckPage, "spam-rules": spamRulesPage,
};

onSessionEnded((message) => {
  session.me = null;
  menu.hidden = true;
  show(message);
  main().replaceChildren(el("button", { type: "button", id: "login-again", onclick: () => loginPage() }, "Log in again"));
});

function loginPage() {
  menu.hidden = true;
  const totp = field("Code from your authenticator app", "totp", "text", { inputmode: "numeric", autocomplete: "one-time-code" });
  totp.hidden = true;
  totp.querySelector("input").required = false;
  main().replaceChildren(el("h1", {}, "Log in"), form("Log in", [
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
    clearAlert();
    await start();
  }));
  main().querySelector("input").focus();
}

/// Shows the menu entries the caller's role may use.
function fitMenu(role) {
  for (const item of menu.querySelectorAll("[data-roles]")) {
    item.hidden = !item.dataset.roles.split(" ").includes(role);
  }
  for (const link of menu.querySelectorAll("a")) {
    link.removeAttribute("aria-current");
    if (link.getAttribute("href") === "#/" + location.hash.slice(2).split("/")[0]) link.setAttribute("aria-current", "page");
  }
}

async function route() {
  if (!session.me) return;
  const [name, ...args] = location.hash.replace(/^#\//, "").split("/").map(decodeURIComponent);
  const fallback = session.me.role === "mail-user" ? mePage : accountsPage;
  const render = pages[name] || fallback;
  fitMenu(session.me.role);
  try {
    await render(...args);
  } catch (error) {
    if (error.code !== "invalid_authorization") show(error.message || String(error));
  }
}

async function start() {
  try {
    session.me = await api("GET", "/me");
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
  session.me = null;
  clearAlert();
  loginPage();
});
window.addEventListener("hashchange", () => {
  clearAlert();
  route();
});
start();
