// Settings (MasterAdmin): sending limits and abuse blocking, 2FA policy.

import { api, checkbox, el, field, form, optional, page, show, table } from "./ui.js";

export async function sendingPage() {
  const limits = (await api("GET", "/sending-limits")).items;
  const abuse = await api("GET", "/abuse/settings");
  page("Sending limits",
    el("p", {}, "Each account may send this much unless its own limit is set (on its page under Accounts). A limit is messages per period, e.g. 200/60s: a bucket of 200 that frees one place every 60 seconds."),
    table("Global sending limits", ["Mail", "Limit", "Set by"], limits.map((l) => [l.class, l.limit, l.source])),
    form("Global sending limits", [
      optional("Local mail (to hosted domains)", "local", "text", { placeholder: "200/60s" }),
      optional("External mail", "external", "text", { placeholder: "50/216s" }),
      optional("Recipients per client address", "per_ip", "text", { placeholder: "500/7s" }),
    ], "Save limits", async (v) => {
      const body = {};
      for (const key of ["local", "external", "per_ip"]) if (v[key]) body[key] = v[key];
      await api("PUT", "/sending-limits", body);
      await sendingPage();
      show("Sending limits saved", true);
    }),
    el("h2", {}, "Blocking abusive senders"),
    el("p", {}, "An account is blocked from sending when one of these is reached. It still receives mail; it is unblocked under Stats › Blocked senders once its password is new and 2FA is on."),
    form("Abuse limits", [
      field("Outbound messages refused as spam within an hour", "spam_refusals_per_hour", "number", { min: "1", value: String(abuse.spam_refusals_per_hour) }),
      field("Submissions refused by the sending limit within an hour (more than)", "limit_refusals_per_hour", "number", { min: "1", value: String(abuse.limit_refusals_per_hour) }),
      field("Hard bounces in a day, percent of recipients (more than)", "bounce_percent", "number", { min: "1", max: "100", value: String(abuse.bounce_percent) }),
      field("... once the day has at least this many recipients", "bounce_min_recipients", "number", { min: "1", value: String(abuse.bounce_min_recipients) }),
    ], "Save abuse limits", async (v) => {
      const body = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, Number(x)]));
      await api("PUT", "/abuse/settings", body);
      await sendingPage();
      show("Abuse limits saved", true);
    }));
}

export async function policyPage() {
  const policy = await api("GET", "/security/policy");
  page("2FA policy",
    el("p", {}, "With the policy on, a MailUser without 2FA is reminded by mail and then disabled after the grace period; re-enabled, it must set up 2FA first."),
    form("2FA policy", [
      checkbox("MailUsers must turn on 2FA", "mandatory", policy.mandatory),
      field("Days before an account without 2FA is disabled", "grace_days", "number", { min: "1", max: "365", value: String(policy.grace_days) }),
    ], "Save policy", async (v) => {
      await api("PUT", "/security/policy", { mandatory: v.mandatory === "on", grace_days: Number(v.grace_days) });
      await policyPage();
      show("2FA policy saved", true);
    }));
}
