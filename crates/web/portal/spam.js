// The spam check tool (anyone: paste a message, see its score and every
// rule that fired) and the rules' scores (MasterAdmins change them).

import { api, el, form, isMaster, page, show, table } from "./ui.js";

async function checkMessage(raw) {
  const response = await fetch("/api/v1/spam/check", {
    method: "POST", credentials: "same-origin", body: raw,
    headers: { "Content-Type": "message/rfc822", "X-Mailroom-CSRF": "1" },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw (data && data.error) || { message: `${response.status} ${response.statusText}` };
  return data;
}

// What swayed the classifier, each way: its tokens with their spam
// probability (words, word pairs, "subject:word", "url:host"...).
function clueLines(clues) {
  const line = (label, list) => list.length === 0 ? [] :
    [el("p", { class: "clues" }, `${label}: ` + list.map((c) => `${c.token} (${Math.round(c.probability * 100)}%)`).join(", "))];
  return [...line("Words that lean to spam", clues.spam), ...line("Words that lean to ham", clues.ham)];
}

export async function spamCheckPage() {
  const result = el("div", { id: "spam-result", "aria-live": "polite" });
  page("Spam check",
    el("p", {}, "Paste a whole message, headers included (in most mail programs: \"Show original\" or \"View source\"). It is scored as it would be on arrival, without being delivered."),
    form("Spam check", [
      el("label", {}, "Message source", el("textarea", { name: "message", rows: "12", required: true, spellcheck: "false" })),
    ], "Check", async (v) => {
      const r = await checkMessage(v.message);
      const verdicts = { inbox: "Inbox", greylist: "Inbox (an unknown sender is asked to retry first)", junk: "Junk folder", reject: "refused" };
      result.replaceChildren(
        el("h2", {}, `Score ${r.score.toFixed(1)}: ${verdicts[r.verdict]}`),
        el("p", {}, `Junk from ${r.thresholds.junk}, refused from ${r.thresholds.reject}` +
          (r.bayes === null ? "; the classifier has not learned enough yet." : `; the classifier says ${(r.bayes * 100).toFixed(1)}% spam.`)),
        table("Rules that fired", ["Rule", "Score", "Meaning"], r.tests.map((t) => [t.tag, t.score.toFixed(1), t.description]), "No rule fired."),
        ...clueLines(r.clues));
    }),
    result);
}

export async function spamRulesPage() {
  const rules = (await api("GET", "/spam/scores")).items;
  const rows = rules.map((r) => [r.tag, r.score.toFixed(1), r.default.toFixed(1), r.description]);
  const parts = [
    el("p", {}, "Every rule adds its score when it fires; the sum is compared with the domain's thresholds. The classifier's score rises within its band towards the next band's."),
    table("Spam rules", ["Rule", "Score", "Default", "Meaning"], rows),
  ];
  if (isMaster()) {
    parts.push(el("h2", {}, "Change a score"), form("Change a rule's score", [
      el("label", {}, "Rule", el("select", { name: "tag" }, ...rules.map((r) => el("option", { value: r.tag }, r.tag)))),
      el("label", {}, "Score (empty: the default)", el("input", { name: "score", type: "number", step: "0.1", min: "-100", max: "100" })),
    ], "Save score", async (v) => {
      const changed = await api("PUT", `/spam/scores/${v.tag}`, { score: v.score === "" ? null : Number(v.score) });
      await spamRulesPage();
      show(`${changed.tag} now scores ${changed.score.toFixed(1)}`, true);
    }));
  }
  page("Spam rules", ...parts);
}
