// Drives the portal in Debian's Chromium as each role. As the MasterAdmin:
// add a domain, an account and an alias, edit and delete (confirming),
// walk every page of the menu with the keyboard as well as the mouse,
// enrol 2FA with a code computed here, create a device password (printed
// for the caller to use over IMAP); then the DomainAdmin and the MailUser
// see only their menus, a phone-sized screen needs no sideways scrolling,
// and a second login ends the first session with "Invalid authorization".
// Screenshots of every main page go to MR_SHOTS.
// Usage: MR_BASE=http://127.0.0.1:PORT MR_USER=... MR_DA=... MR_MAILUSER=... MR_PASSWORD=... MR_SHOTS=dir node portal.mjs

import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const { MR_BASE: base, MR_USER: user, MR_DA: domainAdmin, MR_MAILUSER: mailUser, MR_PASSWORD: password, MR_SHOTS: shots } = process.env;

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

async function logIn(context, who, landing, code) {
  const page = await context.newPage();
  // Script errors and CSP refusals; not the HTTP errors the API answers
  // on purpose (the browser logs those too).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(base + "/");
  await page.getByLabel("Email address").fill(who);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  if (code) {
    await page.getByLabel("Code from your authenticator app").fill(code());
    await page.getByRole("button", { name: "Log in", exact: true }).click();
  }
  await page.getByRole("heading", { name: landing, exact: true }).waitFor();
  return page;
}

async function open(page, link, heading, shot) {
  await page.getByRole("navigation").getByRole("link", { name: link, exact: true }).click();
  await page.getByRole("heading", { name: heading, exact: true, level: 1 }).waitFor();
  if (shot) await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
}

async function alertSays(page, text) {
  await page.getByRole("alert").getByText(text).waitFor();
}

try {
  const first = await browser.newContext();
  const page = await logIn(first, user, "Accounts");
  await page.screenshot({ path: `${shots}/accounts.png`, fullPage: true });

  await open(page, "Domains", "Domains");
  await page.getByLabel("Domain name").fill("portal.test");
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("cell", { name: "portal.test", exact: true }).waitFor();
  const limits = page.getByRole("form", { name: "Domain limits" });
  await limits.getByLabel("Domain").selectOption("portal.test");
  await limits.getByLabel("Most aliases (empty: no limit)").fill("5");
  await limits.getByRole("button", { name: "Save limits" }).click();
  await alertSays(page, "Limits of portal.test saved");
  await page.getByRole("cell", { name: /0 of 5 aliases/ }).waitFor();
  await page.screenshot({ path: `${shots}/domains.png`, fullPage: true });

  await open(page, "Accounts", "Accounts");
  const newAccount = page.getByRole("form", { name: "New account" });
  await newAccount.getByLabel("Email address").fill("ann@portal.test");
  await newAccount.getByLabel("Password").fill(password);
  await newAccount.getByRole("button", { name: "Create" }).click();
  await page.getByRole("cell", { name: "ann@portal.test", exact: true }).waitFor();
  // An error the API reports is shown as it says it.
  await newAccount.getByLabel("Email address").fill("ann@portal.test");
  await newAccount.getByLabel("Password").fill(password);
  await newAccount.getByRole("button", { name: "Create" }).click();
  await alertSays(page, "already exists");

  // Editing an account: turn API access off and give it a quota.
  await page.getByRole("link", { name: "Edit ann@portal.test" }).click();
  await page.getByRole("heading", { name: "Account ann@portal.test" }).waitFor();
  const settings = page.getByRole("form", { name: "Settings of ann@portal.test" });
  await settings.getByLabel("API access (portal and API)").uncheck();
  await settings.getByLabel("Quota in MB (empty: none)").fill("50");
  await settings.getByRole("button", { name: "Save" }).click();
  await alertSays(page, "Account ann@portal.test saved");
  await page.getByText("Storage used: 0 bytes of 50.0 MB").waitFor();
  if (await settings.getByLabel("API access (portal and API)").isChecked()) fail("API access still on");
  await page.screenshot({ path: `${shots}/account.png`, fullPage: true });

  await open(page, "Aliases", "Aliases");
  await page.getByLabel("Alias address").fill("team@portal.test");
  await page.getByLabel("Delivers to (addresses separated by commas)").fill("ann@portal.test");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("cell", { name: "team@portal.test", exact: true }).waitFor();
  // A destructive action asks first: declined, nothing happens.
  page.once("dialog", (d) => d.dismiss());
  await page.getByRole("button", { name: "Delete alias team@portal.test" }).click();
  await page.getByRole("cell", { name: "team@portal.test", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/aliases.png`, fullPage: true });
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete alias team@portal.test" }).click();
  await alertSays(page, "Alias team@portal.test deleted");
  if (await page.getByRole("cell", { name: "team@portal.test", exact: true }).count()) fail("alias still listed");

  // The keyboard alone: a menu link with Enter, a form submitted with Enter.
  await page.getByRole("link", { name: "Forwards", exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Forwards", level: 1 }).waitFor();
  await page.getByLabel("Account", { exact: true }).focus();
  await page.keyboard.type("ann@portal.test");
  await page.keyboard.press("Tab");
  await page.keyboard.type("ann@elsewhere.example");
  await page.keyboard.press("Enter");
  await page.getByRole("cell", { name: "ann@elsewhere.example", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/forwards.png`, fullPage: true });

  await open(page, "Antispam WL/BL", "Antispam WL/BL");
  await page.getByRole("navigation").waitFor();
  await page.getByLabel("Domain shown").selectOption("portal.test");
  await page.getByRole("form", { name: "List entry (Lists of portal.test)" }).waitFor();
  const entry = page.getByRole("form", { name: "List entry (Lists of portal.test)" });
  await entry.getByLabel("List").selectOption("allow");
  await entry.getByLabel("Kind").selectOption("domain");
  await entry.getByLabel("Value").fill("partner.example");
  await entry.getByRole("button", { name: "Add entry" }).click();
  await alertSays(page, "risky");
  await page.getByRole("cell", { name: "partner.example", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/antispam-lists.png`, fullPage: true });

  await open(page, "Antispam thresholds", "Antispam thresholds");
  await page.getByLabel("Domain shown").selectOption("portal.test");
  const thresholds = page.getByRole("form", { name: "Thresholds for portal.test" });
  await thresholds.getByLabel("Greylist at").fill("9");
  await thresholds.getByRole("button", { name: "Save thresholds" }).click();
  await alertSays(page, "must not be above junk");
  await page.screenshot({ path: `${shots}/antispam-thresholds.png`, fullPage: true });

  await open(page, "DNS records", "DNS records");
  await page.getByLabel("Domain shown").selectOption("portal.test");
  await page.getByRole("heading", { name: "DNS records for portal.test" }).waitFor();
  await page.getByRole("cell", { name: "incoming mail goes to this server", exact: true }).waitFor();
  await page.getByRole("cell", { name: "DKIM: the key outgoing mail is signed with", exact: true }).first().waitFor();
  await page.screenshot({ path: `${shots}/dns.png`, fullPage: true });

  await open(page, "Global allow/block lists", "Global allow/block lists");
  const global = page.getByRole("form", { name: "List entry (Global lists)" });
  await global.getByLabel("Value").fill("203.0.113.0/24");
  await global.getByRole("button", { name: "Add entry" }).click();
  await alertSays(page, "203.0.113.0/24 added to the block list");
  await page.screenshot({ path: `${shots}/global-lists.png`, fullPage: true });

  await open(page, "Sending limits", "Sending limits");
  await page.getByLabel("External mail").fill("40/90s");
  await page.getByRole("button", { name: "Save limits" }).click();
  await alertSays(page, "Sending limits saved");
  await page.getByRole("cell", { name: "40/90s", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/sending-limits.png`, fullPage: true });

  await open(page, "2FA policy", "2FA policy", "policy");
  await page.getByLabel("Days before an account without 2FA is disabled").fill("7");
  await page.getByRole("button", { name: "Save policy" }).click();
  await alertSays(page, "2FA policy saved");

  await open(page, "Overview", "Stats");
  await page.getByRole("cell", { name: "portal.test", exact: true }).first().waitFor();
  await page.screenshot({ path: `${shots}/stats.png`, fullPage: true });

  // A blocked sender (set up by the caller) cannot be unblocked before
  // its password is new and 2FA is on: the page says so.
  await open(page, "Blocked senders", "Blocked senders");
  await page.getByRole("cell", { name: "sending limit hammered", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/blocked-senders.png`, fullPage: true });
  await page.getByRole("button", { name: /^Unblock / }).click();
  await alertSays(page, "once its password has been changed since the block and 2FA is on");

  // The spam check tool: a pasted message, its score and the rules.
  await open(page, "Spam check", "Spam check");
  await page.getByLabel("Message source").fill(
    "From: Bank <alerts@bank.example>\nReply-To: <x@collector.example>\nTo: ann@portal.test\nSubject: URGENT!!\n\n" +
    "Verify your account now: http://198.51.100.7/login\n");
  await page.getByRole("button", { name: "Check" }).click();
  await page.getByRole("heading", { name: /^Score \d/ }).waitFor();
  await page.getByRole("cell", { name: "URI_IP_LITERAL", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/spam-check.png`, fullPage: true });
  await open(page, "Spam rules", "Spam rules");
  const rule = page.getByRole("form", { name: "Change a rule's score" });
  await rule.getByLabel("Rule").selectOption("SUBJ_ALL_CAPS");
  await rule.getByLabel("Score (empty: the default)").fill("1.7");
  await rule.getByRole("button", { name: "Save score" }).click();
  await alertSays(page, "SUBJ_ALL_CAPS now scores 1.7");
  await page.screenshot({ path: `${shots}/spam-rules.png`, fullPage: true });

  await open(page, "Queue", "Queue", "queue");
  await open(page, "Security log", "Security log");
  await page.getByRole("cell", { name: "login-ok", exact: true }).first().waitFor();
  await page.screenshot({ path: `${shots}/security-log.png`, fullPage: true });

  await open(page, "Password and 2FA", "My account");
  await page.getByRole("button", { name: "Set up 2FA" }).click();
  await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
  const secret = (await page.locator(".secret").textContent()).trim();
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on 2FA" }).click();
  await alertSays(page, "2FA is on. Recovery codes");
  await page.screenshot({ path: `${shots}/my-account.png`, fullPage: true });

  await open(page, "Device passwords", "Device passwords");
  await page.getByLabel("Device name").fill("Phone");
  await page.getByRole("button", { name: "Create" }).click();
  await alertSays(page, "Device password for Phone:");
  await page.getByRole("cell", { name: "Phone", exact: true }).waitFor();
  const shown = await page.getByRole("alert").textContent();
  console.log("DEVICE_PASSWORD=" + shown.match(/Phone: (\S+)/)[1]);
  await page.screenshot({ path: `${shots}/device-passwords.png`, fullPage: true });

  await open(page, "API keys", "API keys");
  await page.getByLabel("Key name").fill("backup-script");
  await page.getByRole("button", { name: "Create key" }).click();
  await alertSays(page, "API key backup-script: mrk_");
  await page.getByRole("cell", { name: "read only", exact: true }).waitFor();
  await page.screenshot({ path: `${shots}/api-keys.png`, fullPage: true });

  // The DomainAdmin sees its domain's menus, not the server's.
  const daPage = await logIn(await browser.newContext(), domainAdmin, "Accounts");
  const nav = daPage.getByRole("navigation");
  for (const hidden of ["Queue", "Sending limits", "Global allow/block lists"]) {
    if (await nav.getByRole("link", { name: hidden }).isVisible()) fail(`DomainAdmin sees ${hidden}`);
  }
  if (await daPage.getByRole("cell", { name: "ann@portal.test", exact: true }).count()) fail("DomainAdmin sees another domain's account");
  await daPage.screenshot({ path: `${shots}/domain-admin.png`, fullPage: true });

  // The MailUser lands on its own account and has no admin menus.
  const userPage = await logIn(await browser.newContext(), mailUser, "My account");
  if (await userPage.getByRole("navigation").getByRole("link", { name: "Accounts" }).isVisible()) fail("MailUser sees Accounts");
  await open(userPage, "Forwards", "Forwards");

  // On a phone-sized screen every page fits without sideways scrolling.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const small = await logIn(phone, domainAdmin, "Accounts");
  for (const [link, heading] of [["Accounts", "Accounts"], ["Antispam WL/BL", "Antispam WL/BL"], ["Overview", "Stats"], ["Device passwords", "Device passwords"]]) {
    await open(small, link, heading);
    const wide = await small.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    if (wide) fail(`${heading} is wider than a phone screen`);
  }
  await small.screenshot({ path: `${shots}/phone.png`, fullPage: true });

  // A second browser logs in as the MasterAdmin (now with a code, the
  // next one: each works once): the first is told why its session ended.
  const second = await browser.newContext();
  await logIn(second, user, "Accounts", () => totp(secret, Date.now() + 30000));
  await page.getByRole("navigation").getByRole("link", { name: "Domains" }).click();
  await alertSays(page, "Invalid authorization: this session was ended by a newer login");
  await page.getByRole("button", { name: "Log in again" }).waitFor();
  await page.screenshot({ path: `${shots}/session-ended.png`, fullPage: true });
} catch (error) {
  fail(error.stack || String(error));
} finally {
  await browser.close();
}
if (problems.length) fail("console errors:\n" + problems.join("\n"));
console.log("ok");
