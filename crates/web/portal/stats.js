// Stats › Overview (per domain, per day) and Blocked senders.

import { api, bytes, domainPicker, el, enc, page, select, show, button, table, when } from "./ui.js";

const PERIODS = [["1", "today"], ["7", "7 days"], ["30", "30 days"], ["90", "90 days"]];

export async function statsPage(chosen, days = "7") {
  const overview = (await api("GET", `/stats?days=${days}&limit=1000`)).items;
  if (!overview.length) {
    page("Stats", el("p", {}, "There is no domain yet."));
    return;
  }
  const names = overview.map((d) => d.domain);
  const domain = names.includes(chosen) ? chosen : names[0];
  const detail = await api("GET", `/domains/${enc(domain)}/stats?days=${days}`);
  const period = select("Period", "days", PERIODS, days);
  period.querySelector("select").addEventListener("change", (e) => { location.hash = `#/stats/${enc(domain)}/${e.target.value}`; });
  page("Stats",
    period,
    table(`Totals over ${PERIODS.find((p) => p[0] === days)?.[1] || `${days} days`}`,
      ["Domain", "Accounts", "Aliases", "Storage", "Received", "Sent", "Refused", "Blocked senders"],
      overview.map((d) => [d.domain, String(d.accounts), String(d.aliases), bytes(d.storage_bytes), String(d.received), String(d.sent), String(d.rejected), String(d.blocked_senders)])),
    el("h2", {}, `Per day: ${domain}`),
    domainPicker(names, domain, (name) => { location.hash = `#/stats/${enc(name)}/${days}`; }),
    table(`Mail of ${domain} per day`, ["Day", "Received", "Sent", "Refused"],
      detail.days.slice().reverse().map((d) => [d.date, String(d.received), String(d.sent), String(d.rejected)])));
}

export async function blockedPage() {
  const blocks = (await api("GET", "/stats/blocked-senders?limit=1000")).items;
  page("Blocked senders",
    el("p", {}, "These accounts sent mail that looked abusive and may not send until unblocked. They still receive mail. Unblocking needs a new password (changed since the block) and 2FA on, as a leaked password is the usual cause."),
    table("Blocked senders", ["Account", "Since", "Reason", "Evidence", ""], blocks.map((b) => [
      b.email, when(b.blocked_at), b.reason,
      el("span", {}, b.evidence.join(" "), ...b.message_ids.map((id) => el("code", { class: "block" }, id))),
      button("Unblock", async () => {
        await api("POST", `/accounts/${enc(b.email)}/unblock-sending`, {});
        await blockedPage();
        show(`${b.email} may send again`, true);
      }, { "aria-label": `Unblock ${b.email}` }),
    ]), "No account is blocked from sending."));
}
