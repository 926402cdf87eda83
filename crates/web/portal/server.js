// Server (MasterAdmin): the outbound queue and its actions, the security
// log and banned addresses.

import { api, button, dangerButton, el, enc, page, show, table, when } from "./ui.js";

export async function queuePage() {
  const queue = (await api("GET", "/queue")).items;
  const rows = queue.map((q) => [String(q.id), q.sender || "<>", when(q.created_at),
    el("span", {}, ...q.recipients.map((r) => el("span", { class: "block" },
      `${r.address}: ${r.status}, ${r.attempts} attempts${r.last_reply ? ` (${r.last_reply})` : ""}`))),
    el("span", { class: "actions" },
      button("Retry now", async () => { await api("POST", `/queue/${q.id}/retry`, {}); await queuePage(); show(`Message ${q.id} will be retried now`, true); }, { "aria-label": `Retry message ${q.id}` }),
      " ",
      dangerButton("Delete", `Delete queued message ${q.id}? Its recipients will not get it and the sender is not told.`,
        async () => { await api("DELETE", `/queue/${q.id}`); await queuePage(); show(`Message ${q.id} deleted`, true); }, `Delete message ${q.id}`))]);
  page("Queue",
    el("p", {}, `${queue.length} message${queue.length === 1 ? "" : "s"} waiting for delivery.`),
    table("Outbound queue", ["Id", "Sender", "Queued", "Recipients", ""], rows, "The queue is empty."));
}

export async function securityPage() {
  const log = (await api("GET", "/security/log?limit=100")).items;
  const bans = (await api("GET", "/security/bans")).items;
  page("Security log",
    el("h2", {}, "Banned addresses"),
    table("Banned addresses", ["Address", "Until", "Reason", ""], bans.map((b) => [b.ip, when(b.until), b.reason,
      button("Lift ban", async () => { await api("DELETE", `/security/bans/${enc(b.ip)}`); await securityPage(); show(`${b.ip} may connect again`, true); }, { "aria-label": `Lift ban on ${b.ip}` })]),
    "No address is banned."),
    el("h2", {}, "Events"),
    table("Security events", ["Time", "Event", "Account", "Address", "Detail"],
      log.map((e) => [when(e.at), e.event, e.account || "", e.ip || "", e.detail || ""])));
}
