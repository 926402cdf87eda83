// Drives the portal in Debian's Chromium: log in as a MasterAdmin, add a
// domain, an account and an alias, enrol 2FA with a code computed here,
// create a device password, then log in from a second browser and see the
// first one told its session was ended. Screenshots go to MR_SHOTS.
// Usage: MR_BASE=http://127.0.0.1:PORT MR_USER=... MR_PASSWORD=... MR_SHOTS=dir node portal.mjs

import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const { MR_BASE: base, MR_USER: user, MR_PASSWORD: password, MR_SHOTS: shots } = process.env;

function fail(message) {
  console.error("FAILED:", message);
  process.exit(1);
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret.
function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[19] & 15;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];

async function logIn(context, code) {
  const page = await context.newPage();
  // Script errors and CSP refusals; not the HTTP errors the API answers
  // on purpose (the browser logs those too).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(base + "/");
  await page.getByLabel("Email address").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  if (code) {
    await page.getByLabel("Code from your authenticator app").fill(code());
    await page.getByRole("button", { name: "Log in", exact: true }).click();
  }
  await page.getByRole("heading", { name: "Accounts" }).waitFor();
  return page;
}

try {
  const first = await browser.newContext();
  const page = await logIn(first);
  await page.screenshot({ path: `${shots}/accounts.png`, fullPage: true });

  await page.getByRole("link", { name: "Domains" }).click();
  await page.getByLabel("Domain name").fill("portal.test");
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("cell", { name: "portal.test" }).waitFor();
  await page.screenshot({ path: `${shots}/domains.png`, fullPage: true });

  await page.getByRole("link", { name: "Accounts" }).click();
  const newAccount = page.getByRole("form", { name: "New account" });
  await newAccount.getByLabel("Email address").fill("ann@portal.test");
  await newAccount.getByLabel("Password").fill(password);
  await newAccount.getByRole("button", { name: "Create" }).click();
  await page.getByRole("cell", { name: "ann@portal.test" }).waitFor();
  // An error the API reports is shown as it says it.
  await newAccount.getByLabel("Email address").fill("ann@portal.test");
  await newAccount.getByLabel("Password").fill(password);
  await newAccount.getByRole("button", { name: "Create" }).click();
  await page.getByRole("alert").getByText("already exists").waitFor();

  await page.getByRole("link", { name: "Aliases" }).click();
  await page.getByLabel("Alias address").fill("team@portal.test");
  await page.getByLabel("Delivers to").fill("ann@portal.test");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("cell", { name: "team@portal.test" }).waitFor();

  await page.getByRole("link", { name: "Forwards" }).click();
  await page.getByLabel("Account").fill("ann@portal.test");
  await page.getByLabel("Forward to (addresses separated by commas)").fill("ann@elsewhere.example");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("cell", { name: "ann@elsewhere.example" }).waitFor();

  await page.getByRole("link", { name: "Antispam" }).click();
  const entry = page.getByRole("form", { name: "List entry for portal.test" });
  await entry.getByLabel("List").selectOption("allow");
  await entry.getByLabel("Kind").selectOption("domain");
  await entry.getByLabel("Value").fill("partner.example");
  await entry.getByRole("button", { name: "Add entry" }).click();
  await page.getByRole("alert").getByText("risky").waitFor();
  const limits = page.getByRole("form", { name: "Thresholds for portal.test" });
  await limits.getByLabel("Greylist at").fill("9");
  await limits.getByRole("button", { name: "Save thresholds" }).click();
  await page.getByRole("alert").getByText("must not be above junk").waitFor();
  await page.screenshot({ path: `${shots}/antispam.png`, fullPage: true });

  await page.getByRole("link", { name: "Domains" }).click();
  await page.getByRole("row", { name: /portal\.test/ }).getByRole("button", { name: "DNS records" }).click();
  await page.getByRole("heading", { name: "DNS records for portal.test" }).waitFor();
  await page.getByRole("cell", { name: "incoming mail goes to this server" }).waitFor();
  await page.getByRole("cell", { name: "DKIM: the key outgoing mail is signed with" }).first().waitFor();
  await page.screenshot({ path: `${shots}/dns.png`, fullPage: true });

  await page.getByRole("link", { name: "Server" }).click();
  await page.getByRole("heading", { name: "Security log" }).waitFor();
  await page.getByRole("cell", { name: "login-ok" }).first().waitFor();
  await page.getByLabel("Days before an account without 2FA is disabled").fill("7");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByRole("alert").getByText("2FA policy saved").waitFor();

  await page.getByRole("link", { name: "My account" }).click();
  await page.getByRole("button", { name: "Set up 2FA" }).click();
  await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
  const secret = (await page.locator(".secret").textContent()).trim();
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on 2FA" }).click();
  await page.getByRole("alert").getByText("2FA is on. Recovery codes").waitFor();
  await page.screenshot({ path: `${shots}/my-account.png`, fullPage: true });
  await page.getByLabel("Device name").fill("Phone");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("alert").getByText("Device password for Phone:").waitFor();
  await page.getByRole("cell", { name: "Phone" }).waitFor();

  // A second browser logs in (now with a code, the next one: each works
  // once): the first is told why its session ended.
  const second = await browser.newContext();
  await logIn(second, () => totp(secret, Date.now() + 30000));
  await page.getByRole("link", { name: "Domains" }).click();
  await page.getByRole("alert").getByText("Invalid authorization: this session was ended by a newer login").waitFor();
  await page.getByRole("button", { name: "Log in again" }).waitFor();
  await page.screenshot({ path: `${shots}/session-ended.png`, fullPage: true });
} catch (error) {
  fail(error.stack || String(error));
} finally {
  await browser.close();
}
if (problems.length) fail("console errors:\n" + problems.join("\n"));
console.log("ok");
