// The retailer's console in a real browser: Debian's Chromium, driven by playwright-core.
// Run by tests/tests/e2e/console.rs, which starts the stack, makes staff and an order, and passes
// them in CONSOLE_TEST (JSON). Prints one JSON line `RESULT {...}` for the Rust side to check
// against the API; any failed step throws with the step's name and the page's text.
//
// CONSOLE_SCREENSHOTS=<dir> saves the main pages as PNG (docs/console is the committed set).

import { chromium } from "playwright-core";
import { harness } from "./browser.mjs";

const cfg = JSON.parse(process.env.CONSOLE_TEST ?? "{}");
const base = cfg.base;
const shots = process.env.CONSOLE_SCREENSHOTS || "";
const result = { steps: [] };

const { check, step, text, shot, submit, outbox } = harness({ base, shots, result });

/// A new browser context signed in with `token` (the sign-in page's token form).
async function signIn(browser, token, options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${base}/console`);
  await page.getByLabel("API-Token").fill(token);
  const resp = await submit(page, page.getByRole("button", { name: "Anmelden", exact: true }));
  check(resp.ok(), "signed in", `${resp.status()} ${await text(page)}`);
  check(new URL(page.url()).pathname === "/console/orders", "at the order search", page.url());
  return { context, page };
}

async function signOut(page) {
  const resp = await submit(page, page.getByRole("button", { name: /Abmelden|Sign out/ }));
  check(resp.ok() && page.url().includes("/console/sign-in"), "signed out", page.url());
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // Root in CI: Chromium's sandbox needs user namespaces it may not get there.
  args: ["--no-sandbox"],
});
const desktop = { viewport: { width: 1280, height: 860 }, acceptDownloads: true };
try {
  await step("a page without a session leads to sign-in, in the retailer's German, skip link first", async () => {
    const context = await browser.newContext(desktop);
    const page = await context.newPage();
    const resp = await page.goto(`${base}/console/orders/${cfg.orderId}`);
    check(resp.ok() && page.url().endsWith("/console/sign-in"), "redirected to sign-in", page.url());
    check((await page.getAttribute("html", "lang")) === "de", "German page");
    check((await page.locator("header").innerText()).includes("Lindenhof Living GmbH"), "retailer's name");
    await shot(page, "sign-in");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    check(focused.includes("Zum Inhalt"), "skip link first in tab order", focused);
    await context.close();
  });

  // The service agent.
  const anna = await signIn(browser, cfg.anna, desktop);
  let page = anna.page;
  await step("the agent finds the order by the customer's address, in any case", async () => {
    await page.getByLabel("Bestellung finden").fill(cfg.customerEmail.toUpperCase());
    // By keyboard: Enter in the search field.
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
    check(page.url().includes("/console/customers/"), "at the customer page", page.url());
    const t = await text(page);
    check(t.includes(cfg.externalId), "the customer's order listed", t);
    await shot(page, "customer");
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.getByRole("link", { name: cfg.orderId }).click()]);
    check((await text(page)).includes("Mira Kunde"), "the order page", await text(page));
  });

  await step("the shop's order number finds the order too", async () => {
    await page.goto(`${base}/console/orders?q=${cfg.externalId}`);
    check(new URL(page.url()).pathname === `/console/orders/${cfg.orderId}`, "straight to the order", page.url());
  });

  await step("the agent records a phone contact", async () => {
    await page.getByLabel("Wie").selectOption("phone");
    await page.getByLabel("Thema").selectOption("damaged");
    await page.getByLabel("Notiz").fill("Vase kam mit Sprung an; Kulanz angeboten.");
    const resp = await submit(page, page.getByRole("button", { name: "Kontakt erfassen" }));
    check(resp.ok(), "recorded", resp.status());
    const t = await text(page);
    check(t.includes("Kontakt erfasst.") && t.includes("Vase kam mit Sprung an"), "notice and contact", t);
  });

  await step("the agent grants goodwill (sent twice: once) and sees the refund in the ledger", async () => {
    await page.getByText("Kulanz", { exact: true }).click();
    await page.getByLabel("Betrag (EUR)").first().fill("7.50");
    await page.getByLabel("Grund").first().fill("Sprung in der Vase");
    // The form sent twice (a double click, a resent page) changes once: the same key.
    const form = page.locator('form[action$="/goodwill"]');
    const fields = Object.fromEntries(
      await form.locator("input").evaluateAll((els) => els.map((e) => [e.name, e.value])),
    );
    const again = await anna.context.request.post(`${base}/console/orders/${cfg.orderId}/goodwill`, {
      form: fields,
      maxRedirects: 0,
    });
    check(again.status() === 303, "the first send", again.status());
    const resp = await submit(page, page.getByRole("button", { name: "Kulanz gewähren" }));
    check(resp.ok(), "granted", resp.status());
    const ledger = (await page.locator("#ledger").innerText()).replace(/\s+/g, " ");
    check(ledger.includes("Kulanz") && ledger.includes("7,50 EUR"), "goodwill in the ledger", ledger);
    await shot(page, "order");
  });

  // The finance user.
  const fiona = await signIn(browser, cfg.fiona, desktop);
  await step("finance sees the order without a goodwill button and gets 403 posting it anyway", async () => {
    const p = fiona.page;
    await p.goto(`${base}/console/orders/${cfg.orderId}`);
    check((await p.getByRole("button", { name: "Kulanz gewähren" }).count()) === 0, "no goodwill offered");
    const csrf = await p.locator('form[action$="/chargebacks"] input[name=csrf]').inputValue();
    const forced = await fiona.context.request.post(`${base}/console/orders/${cfg.orderId}/goodwill`, {
      form: { csrf, key: "forced-1", amount: "50.00", reason: "sneaky" },
      maxRedirects: 0,
    });
    result.financeGoodwillStatus = forced.status();
    check(forced.status() === 403, "refused", forced.status());
    check((await forced.text()).includes("Ihre Rolle darf das nicht"), "explained");
  });

  await step("finance records the chargeback", async () => {
    const p = fiona.page;
    await p.getByText("Rückbuchung", { exact: true }).click();
    await p.getByLabel("Zahlungsreferenz").fill("psp-4711");
    await p.locator("#cb-amount").fill("10.00");
    const resp = await submit(p, p.getByRole("button", { name: "Erfassen" }).last());
    check(resp.ok() && (await text(p)).includes("Rückbuchung erfasst."), "recorded", await text(p));
  });

  await step("finance reads the sales report with its chart and downloads it as CSV", async () => {
    const p = fiona.page;
    await Promise.all([p.waitForNavigation({ waitUntil: "load" }), p.getByRole("link", { name: "Berichte" }).click()]);
    check((await p.locator("figure.chart svg").count()) >= 1, "a chart", await text(p));
    check((await p.locator("#report").innerText()).includes("VASE-BLUE"), "the table");
    await shot(p, "reports");
    const href = await p.locator("#download-csv").getAttribute("href");
    const file = await fiona.context.request.get(`${base}${href}`);
    const csv = await file.text();
    check(file.ok() && csv.includes("VASE-BLUE"), "the CSV", `${file.status()} ${csv.slice(0, 200)}`);
    result.csv = csv.slice(0, 2000);
    const xlsx = await fiona.context.request.get(`${base}${await p.locator("#download-xlsx").getAttribute("href")}`);
    const bytes = await xlsx.body();
    check(xlsx.ok() && bytes.subarray(0, 2).toString() === "PK", "the Excel file", xlsx.status());
  });

  await step("a long period's file is a job: its progress, then its download", async () => {
    const p = fiona.page;
    const day = (d) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(d);
    const to = day(new Date());
    const from = day(new Date(Date.now() - 199 * 24 * 3600 * 1000));
    await p.goto(`${base}/console/reports?kind=customers&from=${from}&to=${to}`);
    await Promise.all([p.waitForNavigation({ waitUntil: "load" }), p.locator("#download-csv").click()]);
    check(p.url().includes("/console/report-jobs/"), "at the job's page", p.url());
    check((await p.locator("#progress").getAttribute("max")) === "200", "progress over 200 days");
    // The page reloads itself until the file is ready.
    await p.locator("#job-download").waitFor({ timeout: 60000 });
    check((await p.locator("#job-status").innerText()).includes("Fertig"), "ready");
    await shot(p, "report-job");
    const file = await fiona.context.request.get(await p.locator("#job-download").getAttribute("href"));
    check(file.ok() && (await file.text()).includes(cfg.customerEmail), "the job's CSV", file.status());
  });

  await step("finance downloads the finance export", async () => {
    const p = fiona.page;
    await p.goto(`${base}/console/reports?kind=finance`);
    const href = await p.locator("#finance-journal").getAttribute("href");
    const file = await fiona.context.request.get(`${base}${href}`);
    check(file.ok() && (await file.text()).length > 0, "the journal", file.status());
    await signOut(p);
  });

  await step("the agent resolves the chargeback's alert with a note", async () => {
    for (let i = 0; i < 60; i++) {
      await page.goto(`${base}/console/alerts`);
      if ((await text(page)).includes("Rückbuchung")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const row = page.locator("#alert-list tr", { hasText: "Rückbuchung" });
    check((await row.count()) === 1, "the alert listed", await text(page));
    await shot(page, "alerts");
    await row.getByPlaceholder("Notiz (was getan wurde)").fill("Kundin angerufen, Bank informiert");
    const resp = await submit(page, row.getByRole("button", { name: "Erledigt" }));
    check(resp.ok() && (await text(page)).includes("Warnung erledigt."), "resolved", await text(page));
    await page.goto(`${base}/console/alerts?state=resolved`);
    check((await text(page)).includes("Kundin angerufen, Bank informiert"), "the note shown");
  });

  await step("the order page fits a tablet and the console speaks English", async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.goto(`${base}/console/orders/${cfg.orderId}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, "no sideways scrolling on a tablet", overflow);
    await shot(page, "order-tablet");
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.getByRole("link", { name: "EN", exact: true }).click()]);
    await page.goto(`${base}/console/orders/${cfg.orderId}`);
    check((await page.getAttribute("html", "lang")) === "en", "English page");
    check((await text(page)).includes("Ledger"), "English texts", await text(page));
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.getByRole("link", { name: "DE", exact: true }).click()]);
    await signOut(page);
  });

  // The admin.
  const olga = await signIn(browser, cfg.olga, desktop);
  await step("the admin edits a product and switches a fulfiller off", async () => {
    const p = olga.page;
    await Promise.all([p.waitForNavigation({ waitUntil: "load" }), p.getByRole("link", { name: "Einstellungen" }).click()]);
    check((await p.locator("#process svg").count()) === 1, "the process diagram");
    await shot(p, "configuration");
    await Promise.all([p.waitForNavigation({ waitUntil: "load" }), p.getByRole("link", { name: "VASE-BLUE" }).click()]);
    await p.getByLabel("Name").fill("Vase Kobaltblau");
    let resp = await submit(p, p.getByRole("button", { name: "Speichern" }));
    check(resp.ok() && (await text(p)).includes("Gespeichert."), "saved", await text(p));
    check((await p.locator("#products").innerText()).includes("Vase Kobaltblau"), "the new name listed");
    // Any item as JSON: the marketplace channel's name.
    await p.goto(`${base}/console/configuration`);
    await Promise.all([p.waitForNavigation({ waitUntil: "load" }), p.getByRole("link", { name: "marketplace", exact: true }).click()]);
    const json = JSON.parse(await p.getByLabel("Der Eintrag als JSON").inputValue());
    check(json.kind === "marketplace" && json.id === undefined, "the writable fields", JSON.stringify(json));
    await p.getByLabel("Der Eintrag als JSON").fill(JSON.stringify({ ...json, name: "Marktplatz DE" }, null, 2));
    resp = await submit(p, p.getByRole("button", { name: "Speichern" }));
    check(resp.ok() && (await text(p)).includes("Marktplatz DE"), "the channel saved", await text(p));
    resp = await submit(p, p.getByRole("button", { name: "Ausschalten nordic-home" }));
    check(resp.ok() && (await text(p)).includes("Ausgeschaltet."), "switched off", await text(p));
    check((await p.locator("#fulfiller-nordic-home").innerText()).includes("Inaktiv"), "shown inactive");
    await signOut(p);
  });

  await step("a staff member signs in with a mailed link, once", async () => {
    const context = await browser.newContext(desktop);
    const p = await context.newPage();
    await p.goto(`${base}/console/sign-in`);
    await p.getByLabel("Ihre dienstliche E-Mail-Adresse").fill(cfg.annaEmail);
    const resp = await submit(p, p.getByRole("button", { name: "Link zusenden" }));
    check(resp.ok() && (await text(p)).includes("Anmeldelink unterwegs"), "notice", await text(p));
    let magicUrl = "";
    for (let i = 0; i < 50 && !magicUrl; i++) {
      const mail = (await outbox()).find((m) => m.to?.includes(cfg.annaEmail) && /console\/magic\//.test(m.text ?? ""));
      if (mail) magicUrl = mail.text.match(/https?:\/\/\S+\/console\/magic\/[0-9a-f]{64}/)?.[0] ?? "";
      else await new Promise((r) => setTimeout(r, 200));
    }
    check(magicUrl, "a mail with the link");
    result.magicSecret = magicUrl.split("/").pop();
    await p.goto(magicUrl);
    await shot(p, "magic-link");
    const signedIn = await submit(p, p.getByRole("button", { name: "Jetzt anmelden" }));
    check(signedIn.ok() && new URL(p.url()).pathname === "/console/orders", "signed in", p.url());
    const session = (await context.cookies()).find((c) => c.name === "console_session");
    check(session && session.httpOnly && session.secure && session.sameSite === "Lax", "cookie flags", JSON.stringify(session));
    check((await p.locator("footer").innerText()).includes("Anna Service"), "as Anna");
    await shot(p, "orders");
    const other = await browser.newContext(desktop);
    const p2 = await other.newPage();
    await p2.goto(magicUrl);
    const again = await submit(p2, p2.getByRole("button", { name: "Jetzt anmelden" }));
    check(again.status() === 410, "a used link is refused", again.status());
    await other.close();
    await signOut(p);
    await context.close();
  });
  await step("the owner signs in with the bootstrap token; revoking a token ends its sessions", async () => {
    const again = await signIn(browser, cfg.anna, desktop);
    const owner = await signIn(browser, cfg.owner, desktop);
    await owner.page.goto(`${base}/console/configuration#tokens`);
    const row = owner.page.locator("#tokens tr", { hasText: "staff:anna" }).filter({ hasNotText: "Konsolensitzung" });
    check((await row.count()) === 1, "anna's API token listed", await owner.page.locator("#tokens").innerText());
    const resp = await submit(owner.page, row.getByRole("button", { name: /Widerrufen/ }));
    check(resp.ok() && (await text(owner.page)).includes("Token widerrufen."), "revoked", await text(owner.page));
    await again.page.goto(`${base}/console/orders`);
    check(again.page.url().endsWith("/console/sign-in"), "anna's session ended with her token", again.page.url());
    await signOut(owner.page);
  });
  console.log(`RESULT ${JSON.stringify(result)}`);
} finally {
  await browser.close();
}
