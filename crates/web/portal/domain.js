// Domain › Antispam thresholds, Antispam WL/BL, DNS records; and the
// global lists and thresholds under Settings (same forms, no domain).

import {
  api, dangerButton, domainNames, domainPicker, el, enc, field, form, page, select, show, table,
} from "./ui.js";

const RISKY = "Allowing a sender domain lets mail that spoofs it through too; prefer the sender's IP addresses or CIDR ranges.";

function thresholdsForm(title, base, t, reload) {
  return form(title, [
    field("Greylist at", "greylist", "number", { step: "0.1", value: String(t.greylist) }),
    field("Junk at", "junk", "number", { step: "0.1", value: String(t.junk) }),
    field("Reject at", "reject", "number", { step: "0.1", value: String(t.reject) }),
  ], "Save thresholds", async (v) => {
    await api("PUT", `${base}/thresholds`, { greylist: Number(v.greylist), junk: Number(v.junk), reject: Number(v.reject) });
    await reload();
    show("Thresholds saved", true);
  });
}

/// The allow and block lists under `base` (a domain's or the global ones).
async function listParts(title, base, reload) {
  const allow = (await api("GET", `${base}/lists/allow`)).items;
  const block = (await api("GET", `${base}/lists/block`)).items;
  const rows = [...allow, ...block].map((e) => [e.list, e.kind, e.value,
    dangerButton("Remove", `Remove ${e.value} from the ${e.list} list?`, async () => {
      await api("DELETE", `${base}/lists/${e.list}/${e.kind}/${enc(e.value)}`);
      await reload();
      show(`${e.value} removed`, true);
    }, `Remove ${e.value} from the ${e.list} list`)]);
  return [
    table(title, ["List", "Kind", "Value", ""], rows, "Both lists are empty."),
    el("p", { class: "note" }, RISKY),
    form(`List entry (${title})`, [
      select("List", "list", [["block", "block"], ["allow", "allow"]], "block"),
      select("Kind", "kind", [["ip", "IP or CIDR (recommended)"], ["email", "sender address"], ["domain", "sender domain (risky to allow)"]], "ip"),
      field("Value", "value"),
    ], "Add entry", async (v) => {
      const change = await api("POST", `${base}/lists/${v.list}`, { kind: v.kind, value: v.value });
      await reload();
      show(change.warning ? `Added. Warning: ${change.warning}` : `${change.entry.value} added to the ${v.list} list`, !change.warning);
    }),
  ];
}

async function withDomain(title, chosen, render) {
  const names = await domainNames();
  if (!names.length) {
    page(title, el("p", {}, "There is no domain to manage yet."));
    return;
  }
  const domain = names.includes(chosen) ? chosen : names[0];
  const go = (name) => { location.hash = `${location.hash.split("/").slice(0, 2).join("/")}/${enc(name)}`; };
  page(title, domainPicker(names, domain, go), ...(await render(domain)));
}

export async function thresholdsPage(chosen) {
  await withDomain("Antispam thresholds", chosen, async (domain) => {
    const base = `/domains/${enc(domain)}/antispam`;
    const t = await api("GET", `${base}/thresholds`);
    return [
      el("p", {}, `Now (${t.source === "domain" ? "set for this domain" : "the global defaults"}): greylist at ${t.greylist}, Junk at ${t.junk}, reject at ${t.reject}. A score at or above a step triggers it; 999 turns a step off.`),
      thresholdsForm(`Thresholds for ${domain}`, base, t, () => thresholdsPage(domain)),
    ];
  });
}

export async function listsPage(chosen) {
  await withDomain("Antispam WL/BL", chosen, async (domain) =>
    listParts(`Lists of ${domain}`, `/domains/${enc(domain)}/antispam`, () => listsPage(domain)));
}

export async function dnsPage(chosen) {
  await withDomain("DNS records", chosen, async (domain) => {
    const dns = await api("GET", `/domains/${enc(domain)}/dns`);
    return [
      el("h2", {}, `DNS records for ${domain}`),
      el("p", {}, "Publish these at the domain's DNS provider."),
      table(`DNS records for ${domain}`, ["Name", "Type", "Value", "Purpose"], dns.records.map((r) => [r.name, r.type, el("code", {}, r.value), r.purpose])),
    ];
  });
}

export async function globalListsPage() {
  const base = "/antispam";
  const t = await api("GET", `${base}/thresholds`);
  page("Global allow/block lists",
    el("p", {}, "These apply to every domain, before the domain's own lists."),
    ...(await listParts("Global lists", base, globalListsPage)),
    el("h2", {}, "Default thresholds"),
    el("p", {}, "Used by every domain that has not set its own. 999 turns a step off."),
    thresholdsForm("Default thresholds", base, t, globalListsPage));
}
