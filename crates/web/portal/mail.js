// Mail › Accounts, Domains, Aliases, Forwards.

import {
  api, button, bytes, checkbox, dangerButton, el, enc, field, form, isMaster, isUser,
  optional, page, select, session, show, table, when,
} from "./ui.js";

const ROLES = [["mail-user", "MailUser"], ["domain-admin", "DomainAdmin"], ["master-admin", "MasterAdmin"]];

function quotaBytes(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) return null;
  const mb = Number(trimmed);
  if (!Number.isFinite(mb) || mb <= 0) throw { message: "Quota: give a number of megabytes, or leave it empty for no quota" };
  return Math.round(mb * 1000000);
}

export async function accountsPage() {
  const list = await api("GET", "/accounts?limit=1000");
  const rows = list.items.map((a) => [
    a.email, a.role, a.enabled ? "yes" : `no${a.disabled_reason ? ` (${a.disabled_reason})` : ""}`,
    a.two_factor ? "on" : "off", `${bytes(a.used_bytes)} of ${bytes(a.quota_bytes)}`,
    el("a", { href: `#/account/${enc(a.email)}`, "aria-label": `Edit ${a.email}` }, "Edit"),
  ]);
  const fields = [field("Email address", "email", "email"), field("Password", "password", "password", { autocomplete: "new-password" }),
    optional("Quota in MB (empty: none)", "quota", "number", { min: "1" })];
  if (isMaster()) fields.push(select("Role", "role", ROLES, "mail-user"));
  page("Accounts",
    table("Accounts", ["Email", "Role", "Enabled", "2FA", "Storage", ""], rows),
    el("h2", {}, "New account"),
    form("New account", fields, "Create", async (v) => {
      const body = { email: v.email, password: v.password, quota_bytes: quotaBytes(v.quota) };
      if (v.role) body.role = v.role;
      await api("POST", "/accounts", body);
      await accountsPage();
      show(`Account ${v.email} created`, true);
    }));
}

export async function accountPage(email) {
  const path = `/accounts/${enc(email)}`;
  const a = await api("GET", path);
  const sending = (await api("GET", `${path}/sending`)).items;
  const blocks = (await api("GET", `/stats/blocked-senders?domain=${enc(email.split("@")[1])}`)).items;
  const block = blocks.find((b) => b.email === a.email);
  const reload = async (message) => {
    await accountPage(email);
    show(message, true);
  };
  const settings = [checkbox("Enabled (may log in and receive mail)", "enabled", a.enabled),
    checkbox("API access (portal and API)", "api_access", a.api_access),
    optional("Quota in MB (empty: none)", "quota", "number", { min: "1", value: a.quota_bytes ? String(a.quota_bytes / 1000000) : "" })];
  if (isMaster()) settings.push(select("Role", "role", ROLES, a.role));
  const parts = [
    el("p", {}, `Storage used: ${bytes(a.used_bytes)} of ${bytes(a.quota_bytes)}. 2FA: ${a.two_factor ? "on" : "off"}.` +
      (a.disabled_reason ? ` Disabled because: ${a.disabled_reason}.` : "")),
    form(`Settings of ${a.email}`, settings, "Save", async (v) => {
      const body = { enabled: v.enabled === "on", api_access: v.api_access === "on", quota_bytes: quotaBytes(v.quota) };
      if (v.role) body.role = v.role;
      await api("PATCH", path, body);
      await reload(`Account ${a.email} saved`);
    }),
    el("h2", {}, "Sending limits"),
    table("Sending limits", ["Mail", "Limit", "Set by", "Used now"],
      sending.map((l) => [l.class, l.limit, l.source, l.used === null || l.used === undefined ? "" : l.used.toFixed(1)])),
    form(`Sending limits of ${a.email}`, [
      optional("Local mail (e.g. 200/60s; \"default\" to inherit)", "local"),
      optional("External mail (e.g. 50/216s; \"default\" to inherit)", "external"),
    ], "Save limits", async (v) => {
      const body = {};
      if (v.local) body.local = v.local;
      if (v.external) body.external = v.external;
      await api("PUT", `${path}/sending`, body);
      await reload(`Sending limits of ${a.email} saved`);
    }),
  ];
  if (block) {
    parts.push(el("h2", {}, "Blocked from sending"),
      el("p", {}, `Since ${when(block.blocked_at)}: ${block.reason}. ${block.evidence.join(" ")}`),
      button("Unblock sending", async () => {
        await api("POST", `${path}/unblock-sending`, {});
        await reload(`${a.email} may send again`);
      }));
  }
  parts.push(el("h2", {}, "Password and 2FA"),
    form(`New password for ${a.email}`, [field("New password", "password", "password", { autocomplete: "new-password" })], "Set password", async (v) => {
      await api("POST", `${path}/password`, { password: v.password });
      await reload(`Password of ${a.email} changed`);
    }),
    a.two_factor ? dangerButton("Reset 2FA", `Turn 2FA off for ${a.email}? They will need to set it up again.`, async () => {
      await api("POST", `${path}/reset-2fa`, {});
      await reload(`2FA of ${a.email} reset`);
    }) : "",
    el("h2", {}, "Delete"),
    dangerButton("Delete account", `Delete ${a.email} and all of its mail? This cannot be undone.`, async () => {
      await api("DELETE", `${path}?force=true`);
      location.hash = "#/accounts";
      show(`Account ${a.email} deleted`, true);
    }, `Delete account ${a.email}`));
  page(`Account ${a.email}`, ...parts);
}

export async function domainsPage() {
  const list = await api("GET", "/domains?limit=1000");
  const rows = [];
  for (const d of list.items) {
    const actions = [el("a", { href: `#/dns/${enc(d.name)}` }, "DNS records")];
    if (isMaster()) {
      actions.push(" ", d.suspended
        ? button("Resume", async () => { await api("POST", `/domains/${enc(d.name)}/resume`, {}); await domainsPage(); show(`${d.name} resumed`, true); }, { "aria-label": `Resume ${d.name}` })
        : dangerButton("Suspend", `Suspend ${d.name}? Its mail is deferred and logins refused until resumed; nothing is deleted.`,
          async () => { await api("POST", `/domains/${enc(d.name)}/suspend`, {}); await domainsPage(); show(`${d.name} suspended`, true); }, `Suspend ${d.name}`),
      " ", dangerButton("Delete", `Delete ${d.name} with all of its accounts and mail? This cannot be undone.`,
        async () => { await api("DELETE", `/domains/${enc(d.name)}?force=true`); await domainsPage(); show(`${d.name} deleted`, true); }, `Delete ${d.name}`));
    }
    const limits = await api("GET", `/domains/${enc(d.name)}/limits`);
    const l = limits.limits;
    const u = limits.usage;
    rows.push([d.name, d.suspended ? "suspended" : "active",
      `${u.accounts}${l.max_accounts ? ` of ${l.max_accounts}` : ""} accounts, ${u.aliases}${l.max_aliases ? ` of ${l.max_aliases}` : ""} aliases, ${bytes(u.used_bytes)}${l.max_storage_bytes ? ` of ${bytes(l.max_storage_bytes)}` : ""}`,
      el("span", { class: "actions" }, ...actions)]);
  }
  const parts = [table("Domains", ["Name", "State", "Use and limits", ""], rows)];
  if (isMaster()) {
    parts.push(el("h2", {}, "New domain"), form("New domain", [field("Domain name", "name")], "Add", async (v) => {
      await api("POST", "/domains", v);
      await domainsPage();
      show(`Domain ${v.name} added`, true);
    }), el("h2", {}, "Limits of a domain"),
    form("Domain limits", [
      select("Domain", "domain", list.items.map((d) => [d.name, d.name])),
      optional("Most accounts (empty: no limit)", "max_accounts", "number", { min: "0" }),
      optional("Most aliases (empty: no limit)", "max_aliases", "number", { min: "0" }),
      optional("Storage in MB (empty: no limit)", "max_storage", "number", { min: "1" }),
    ], "Save limits", async (v) => {
      const n = (x) => (x === "" ? null : Number(x));
      await api("PUT", `/domains/${enc(v.domain)}/limits`, {
        max_accounts: n(v.max_accounts), max_aliases: n(v.max_aliases), max_storage_bytes: quotaBytes(v.max_storage),
      });
      await domainsPage();
      show(`Limits of ${v.domain} saved`, true);
    }));
  }
  page("Domains", ...parts);
}

export async function aliasesPage() {
  const list = await api("GET", "/aliases?limit=1000");
  page("Aliases",
    table("Aliases", ["Alias", "Delivers to", ""], list.items.map((a) => [a.source, a.destinations.join(", "),
      dangerButton("Delete", `Delete the alias ${a.source}?`, async () => {
        await api("DELETE", `/aliases/${enc(a.source)}`);
        await aliasesPage();
        show(`Alias ${a.source} deleted`, true);
      }, `Delete alias ${a.source}`)])),
    el("h2", {}, "New alias"),
    el("p", {}, "For a catch-all, write @domain as the alias address."),
    form("New alias", [field("Alias address", "source"), field("Delivers to (addresses separated by commas)", "destinations")], "Create", async (v) => {
      const destinations = v.destinations.split(",").map((d) => d.trim()).filter(Boolean);
      await api("POST", "/aliases", { source: v.source, destinations });
      await aliasesPage();
      show(`Alias ${v.source} created`, true);
    }));
}

export async function forwardsPage() {
  const own = isUser();
  const accounts = own ? [{ email: session.me.email }] : (await api("GET", "/accounts?limit=1000")).items;
  const rows = [];
  for (const a of accounts) {
    const f = await api("GET", `/accounts/${enc(a.email)}/forwards`);
    if (f.destinations.length) {
      rows.push([a.email, f.destinations.join(", "), f.keep_copy ? "yes" : "no",
        dangerButton("Stop", `Stop forwarding mail of ${a.email}?`, async () => {
          await api("PUT", `/accounts/${enc(a.email)}/forwards`, { destinations: [], keep_copy: true });
          await forwardsPage();
          show(`Forwards of ${a.email} removed`, true);
        }, `Stop forwarding ${a.email}`)]);
    }
  }
  const fields = [field("Forward to (addresses separated by commas)", "destinations")];
  if (!own) fields.unshift(field("Account", "account", "email"));
  fields.push(checkbox("Keep a copy in the Inbox", "keep_copy", true));
  page("Forwards",
    table("Forwards", ["Account", "Forwards to", "Keeps a copy", ""], rows, "No account forwards its mail."),
    el("h2", {}, "Set forwards"),
    form("Set forwards", fields, "Save", async (v) => {
      const account = own ? session.me.email : v.account;
      const destinations = v.destinations.split(",").map((d) => d.trim()).filter(Boolean);
      await api("PUT", `/accounts/${enc(account)}/forwards`, { destinations, keep_copy: v.keep_copy === "on" });
      await forwardsPage();
      show(`Forwards of ${account} saved`, true);
    }));
}

