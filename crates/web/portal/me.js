// My account: password, 2FA (QR code, recovery codes), device passwords
// and API keys.

import {
  api, attempt, checkbox, clearAlert, dangerButton, el, enc, field, form, optional, page,
  session, show, table, when,
} from "./ui.js";

export async function mePage() {
  const me = session.me;
  const parts = [
    el("p", {}, `${me.email} (${me.role})`),
    el("h2", {}, "Password"),
    form("Change password", [
      field("Current password", "current", "password", { autocomplete: "current-password" }),
      field("New password", "new", "password", { autocomplete: "new-password" }),
    ], "Change password", async (v, f) => {
      await api("POST", "/me/password", v);
      f.reset();
      show("Password changed. Other sessions were logged out.", true);
    }),
    el("h2", {}, "Two-factor authentication"),
  ];
  if (me.two_factor) {
    parts.push(el("p", {}, "2FA is on. Mail programs use device passwords."),
      form("New recovery codes", [field("Code from the app", "code", "text", { inputmode: "numeric", autocomplete: "one-time-code" })], "New recovery codes", async (v, f) => {
        const made = await api("POST", "/me/2fa/recovery-codes", v);
        f.reset();
        show("New recovery codes (each works once, shown only now; the old ones no longer work): " + made.recovery_codes.join(" "), true);
      }),
      form("Turn off 2FA", [field("Code from the app or a recovery code", "code", "text", { autocomplete: "one-time-code" })], "Turn off 2FA", async (v) => {
        if (!window.confirm("Turn off 2FA? Your account is then protected by its password alone.")) return;
        await api("POST", "/me/2fa/disable", v);
        me.two_factor = false;
        await mePage();
        show("2FA is off", true);
      }));
  } else {
    parts.push(el("p", {}, "2FA is off."), el("button", { type: "button", id: "setup-2fa", onclick: () => attempt(setup2fa) }, "Set up 2FA"));
  }
  parts.push(el("div", { id: "enrolment" }));
  page("My account", ...parts);
}

async function setup2fa() {
  clearAlert();
  const enrolment = await api("POST", "/me/2fa/setup", {});
  document.getElementById("enrolment").replaceChildren(
    el("p", {}, "Scan the code with an authenticator app, or type the secret in:"),
    el("img", { src: "/api/v1/me/2fa/qr.png?" + Date.now(), alt: "QR code for your authenticator app", width: "240", height: "240" }),
    el("p", { class: "secret" }, enrolment.secret),
    form("Confirm 2FA", [field("Code from the app", "code", "text", { inputmode: "numeric", autocomplete: "one-time-code" })], "Turn on 2FA", async (v) => {
      const done = await api("POST", "/me/2fa/confirm", v);
      session.me.two_factor = true;
      await mePage();
      show("2FA is on. Recovery codes (each works once, shown only now): " + done.recovery_codes.join(" "), true);
    }));
}

export async function devicesPage() {
  const devices = (await api("GET", "/me/device-passwords")).items;
  page("Device passwords",
    el("p", {}, "With 2FA on, each mail program (phone, laptop) logs in with a device password of its own instead of your password. Revoke one when a device is lost."),
    table("Device passwords", ["Name", "Created", "Last used", "From", "Protocol", ""], devices.map((d) => [
      d.name, when(d.created_at), when(d.last_used_at), d.last_ip || "", d.last_protocol || "",
      dangerButton("Revoke", `Revoke the device password ${d.name}? Programs using it stop working at once.`, async () => {
        await api("DELETE", `/me/device-passwords/${enc(d.name)}`);
        await devicesPage();
        show(`Device password ${d.name} revoked`, true);
      }, `Revoke ${d.name}`)]), "No device passwords yet."),
    el("h2", {}, "New device password"),
    form("New device password", [field("Device name", "name")], "Create", async (v) => {
      const made = await api("POST", "/me/device-passwords", v);
      await devicesPage();
      show(`Device password for ${made.name}: ${made.password} (shown only now)`, true);
    }));
}

export async function keysPage() {
  const keys = (await api("GET", "/me/api-keys")).items;
  page("API keys",
    el("p", {}, "Scripts call the API with a key as a bearer token: Authorization: Bearer <key>."),
    table("API keys", ["Name", "Access", "Created", "Expires", "Last used", ""], keys.map((k) => [
      k.name, k.read_only ? "read only" : "read and write", when(k.created_at), k.expires_at ? when(k.expires_at) : "never", when(k.last_used_at),
      dangerButton("Revoke", `Revoke the API key ${k.name}?`, async () => {
        await api("DELETE", `/me/api-keys/${enc(k.name)}`);
        await keysPage();
        show(`API key ${k.name} revoked`, true);
      }, `Revoke key ${k.name}`)]), "No API keys yet."),
    el("h2", {}, "New API key"),
    form("New API key", [field("Key name", "name"), checkbox("Read only", "read_only", true),
      optional("Expires after days (empty: never)", "days", "number", { min: "1" })], "Create key", async (v) => {
      const body = { name: v.name, read_only: v.read_only === "on" };
      if (v.days) body.expires_in_secs = Number(v.days) * 86400;
      const made = await api("POST", "/me/api-keys", body);
      await keysPage();
      show(`API key ${made.name}: ${made.key} (shown only now)`, true);
    }));
}

