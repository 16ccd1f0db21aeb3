// The dropshipper portal in a real browser: Debian's Chromium, driven by playwright-core.
// Run by tests/tests/e2e/portal.rs, which starts the stack, seeds orders and a return, and passes
// what it made in PORTAL_TEST (JSON). Prints one JSON line `RESULT {...}` for the Rust side to
// check against the API; any failed step throws with the step's name and the page's text.
//
// PORTAL_SCREENSHOTS=<dir> saves the main pages as PNG (docs/portal is the committed set).

import { chromium } from "playwright-core";
import { harness } from "./browser.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const cfg = JSON.parse(process.env.PORTAL_TEST ?? "{}");
const base = cfg.base;
const shots = process.env.PORTAL_SCREENSHOTS || "";
const started = Date.now();
const result = { steps: [] };
// Whether the delivery order is due on the retailer's today (not so when run just before midnight).
const berlinDay = (d) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(d);
cfg.dueToday = berlinDay(new Date(cfg.dueAt)) === berlinDay(new Date());

const { check, step, text, shot, submit, outbox } = harness({ base, shots, result });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // Root in CI: Chromium's sandbox needs user namespaces it may not get there.
  args: ["--no-sandbox"],
});
try {
  const desktop = { viewport: { width: 1280, height: 860 }, acceptDownloads: true };
  const acme = await browser.newContext(desktop);
  const page = await acme.newPage();
  let magicUrl = "";

  await step("a page without a session leads to sign-in, in the retailer's German", async () => {
    const resp = await page.goto(`${base}/portal`);
    check(resp.ok(), "sign-in page status", resp.status());
    check(page.url().endsWith("/portal/sign-in"), "redirected to sign-in", page.url());
    check((await page.getAttribute("html", "lang")) === "de", "German page");
    check((await text(page)).includes("Anmeldelink per E-Mail"), "both ways to sign in offered");
    check((await page.locator("header").innerText()).includes("Lindenhof Living GmbH"), "retailer's name in the header");
    await shot(page, "sign-in");
    // Keyboard: the first Tab reaches the skip link.
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    check(focused.includes("Zum Inhalt springen"), "skip link first in tab order", focused);
  });

  await step("a sign-in link is mailed to the fulfiller's address", async () => {
    await page.getByLabel("Ihre E-Mail-Adresse").fill(cfg.acmeEmail);
    const resp = await submit(page, page.getByRole("button", { name: "Link zusenden" }));
    check(resp.ok(), "after requesting a link", resp.status());
    check((await text(page)).includes("ist ein Anmeldelink unterwegs"), "notice", await text(page));
    for (let i = 0; i < 50 && !magicUrl; i++) {
      const mail = (await outbox()).find((m) => m.to?.includes(cfg.acmeEmail) && /portal\/magic\//.test(m.text ?? ""));
      if (mail) magicUrl = mail.text.match(/https?:\/\/\S+\/portal\/magic\/[0-9a-f]{64}/)?.[0] ?? "";
      else await new Promise((r) => setTimeout(r, 200));
    }
    check(magicUrl, "a mail with the link in the outbox");
    result.magicSecret = magicUrl.split("/").pop();
  });

  await step("the link signs in once", async () => {
    await page.goto(magicUrl);
    await shot(page, "magic-link");
    const resp = await submit(page, page.getByRole("button", { name: "Jetzt anmelden" }));
    check(resp.ok(), "dashboard status", resp.status());
    check(new URL(page.url()).pathname === "/portal", "at the dashboard", page.url());
    const cookies = await acme.cookies();
    const session = cookies.find((c) => c.name === "portal_session");
    check(session && session.httpOnly && session.secure && session.sameSite === "Lax", "session cookie flags", JSON.stringify(session));
    // The same link again, in another browser: spent.
    const other = await browser.newContext(desktop);
    const p2 = await other.newPage();
    await p2.goto(magicUrl);
    const again = await submit(p2, p2.getByRole("button", { name: "Jetzt anmelden" }));
    check(again.status() === 410, "a used link is refused", again.status());
    check((await text(p2)).includes("abgelaufen oder wurde schon verwendet"), "explained", await text(p2));
    await other.close();
  });

  await step("the dashboard shows what is due today, the late one marked", async () => {
    const t = await text(page);
    check(t.includes(cfg.lateDelivery), "late delivery listed", t);
    const lateRow = page.locator("tr.late", { hasText: cfg.lateDelivery });
    check((await lateRow.count()) === 1, "late row marked");
    check((await lateRow.innerText()).includes("Überfällig"), "late badge");
    if (cfg.dueToday) check(t.includes(cfg.delivery), "due-today delivery listed", t);
    await shot(page, "dashboard");
  });

  await step("open the delivery order from the list and accept it", async () => {
    await page.getByRole("link", { name: "Lieferaufträge" }).click();
    await page.waitForLoadState();
    await shot(page, "delivery-orders");
    await page.getByRole("link", { name: cfg.delivery }).click();
    await page.waitForLoadState();
    check((await text(page)).includes("Carla Beispiel"), "ship-to shown");
    await shot(page, "delivery-order");
    const resp = await submit(page, page.getByRole("button", { name: "Lieferauftrag annehmen" }));
    check(resp.ok(), "accepted", resp.status());
    const t = await text(page);
    check(t.includes("Lieferauftrag angenommen.") && t.includes("Angenommen"), "accepted notice and status", t);
  });

  await step("download its delivery note", async () => {
    const detail = page.url();
    const link = page.getByRole("link", { name: /Lieferschein/ });
    const href = await link.getAttribute("href");
    check(href.startsWith(`${base}/documents/`), "the API's document link", href);
    // The link answers 302 to a presigned S3 URL, and Chromium shows the PDF in its viewer
    // (where the user prints or saves it). The same link, fetched through the browser
    // context's own network stack, gives the file itself.
    const [shown] = await Promise.all([
      page.waitForResponse((r) => (r.headers()["content-type"] ?? "").includes("application/pdf")),
      link.click(),
    ]);
    check(shown.status() === 200, "the PDF opened in the browser", shown.status());
    const file = await acme.request.get(href);
    const bytes = await file.body();
    check(file.ok() && (file.headers()["content-type"] ?? "").includes("pdf"), "the PDF downloaded", file.status());
    check(bytes.subarray(0, 5).toString() === "%PDF-", "a PDF", bytes.subarray(0, 16).toString());
    result.deliveryNoteBytes = bytes.length;
    if (page.url() !== detail) await page.goto(detail);
  });

  await step("a blank tracking number is refused on the page, nothing shipped", async () => {
    await page.getByLabel("Versanddienstleister").fill("DHL");
    await page.getByLabel("Sendungsnummer").fill("   ");
    const resp = await submit(page, page.getByRole("button", { name: "Versand bestätigen" }));
    check(resp.status() === 422, "refused", resp.status());
    const t = await text(page);
    check(t.includes("Es wurde nichts geändert.") && t.includes("Bitte dieses Feld ausfüllen."), "reason", t);
    check((await page.getByLabel("Sendungsnummer").getAttribute("aria-invalid")) === "true", "field marked");
    check(t.includes("Angenommen"), "still accepted", t);
  });

  await step("confirm a partial shipment", async () => {
    await page.getByLabel("Sendungsnummer").fill(cfg.tracking);
    const qty = page.locator('input[name="qty:L1"]');
    await qty.fill("2");
    const resp = await submit(page, page.getByRole("button", { name: "Versand bestätigen" }));
    check(resp.ok(), "shipped", resp.status());
    const t = await text(page);
    check(t.includes("Versand bestätigt") && t.includes("Teilversandt") && t.includes(cfg.tracking), "notice, status, shipment", t);
    await shot(page, "delivery-order-shipped");
  });

  await step("the same form sent twice ships once", async () => {
    const form = page.locator('form[action$="/shipments"]');
    const fields = {
      csrf: await form.locator('input[name="csrf"]').inputValue(),
      formId: await form.locator('input[name="formId"]').inputValue(),
      carrier: "DHL",
      trackingNumber: cfg.tracking2,
      "qty:L1": "1",
    };
    const url = `${base}/portal/delivery-orders/${cfg.delivery}/shipments`;
    const first = await acme.request.post(url, { form: fields, maxRedirects: 0 });
    const again = await acme.request.post(url, { form: fields, maxRedirects: 0 });
    check(first.status() === 303 && again.status() === 303, "both answered as done", `${first.status()} ${again.status()}`);
    await page.goto(`${base}/portal/delivery-orders/${cfg.delivery}`);
    const t = await text(page);
    check(t.includes("Versandt") && (await page.locator("section", { hasText: cfg.tracking2 }).locator("tbody tr").count()) === 2, "two parcels, not three", t);
  });

  await step("reject the late delivery order with a reason", async () => {
    await page.goto(`${base}/portal/delivery-orders/${cfg.lateDelivery}`);
    await page.getByLabel("Grund").fill("  ");
    let resp = await submit(page, page.getByRole("button", { name: "Lieferauftrag ablehnen" }));
    check(resp.status() === 422 && (await text(page)).includes("Bitte dieses Feld ausfüllen."), "a blank reason is refused", resp.status());
    await page.getByLabel("Grund").fill("Saatgut ist ausverkauft");
    resp = await submit(page, page.getByRole("button", { name: "Lieferauftrag ablehnen" }));
    check(resp.ok(), "rejected", resp.status());
    const t = await text(page);
    check(t.includes("Lieferauftrag abgelehnt.") && t.includes("Abgelehnt") && t.includes("Saatgut ist ausverkauft"), "notice, status, reason", t);
  });

  await step("the stock page: search and edit one count", async () => {
    await page.getByRole("link", { name: "Bestand" }).click();
    await page.waitForLoadState();
    await shot(page, "stock");
    await page.getByLabel("Artikelnr. oder Name").fill("teak");
    await submit(page, page.getByRole("button", { name: "Suchen" }));
    const rows = await page.locator("table tbody tr").allInnerTexts();
    check(rows.length === 1 && rows[0].includes("CHAIR-TEAK"), "search finds the one", JSON.stringify(rows));
    await page.goto(`${base}/portal/stock`);
    await page.getByLabel("Am Lager für VASE-BLUE").fill("15");
    const row = page.locator("tr", { hasText: "VASE-BLUE" });
    const resp = await submit(page, row.getByRole("button", { name: "Speichern" }));
    check(resp.ok(), "saved", resp.status());
    check((await text(page)).includes("Bestand gespeichert."), "notice");
    check((await page.getByLabel("Am Lager für VASE-BLUE").inputValue()) === "15", "new count shown");
  });

  await step("an Excel stock list with bad rows is refused, every bad row in a table with its line", async () => {
    // As German Excel saves "CSV (Trennzeichen-getrennt)": Windows-1252 (0xD6 is Ö), `;`, quotes, CRLF.
    const file = path.join(os.tmpdir(), `portal-stock-${process.pid}.csv`);
    fs.writeFileSync(file, Buffer.concat([
      Buffer.from('"sku";"available"\r\nVASE-BLUE;7\r\nSEEDS;1.000\r\n"CHAIR-TEAK"; 12,5 \r\nKISSEN-GR', "latin1"),
      Buffer.from([0xd6]),
      Buffer.from("N;3\r\n", "latin1"),
    ]));
    await page.getByLabel("CSV-Datei").setInputFiles(file);
    const resp = await submit(page, page.getByRole("button", { name: "Hochladen" }));
    fs.unlinkSync(file);
    check(resp.status() === 422, "refused", resp.status());
    const alert = page.getByRole("alert");
    check((await alert.innerText()).includes("nichts übernommen"), "nothing applied, said so", await alert.innerText());
    const heads = (await alert.locator("table thead th").allInnerTexts()).map((h) => h.trim().toLowerCase());
    check(JSON.stringify(heads) === JSON.stringify(["zeile", "grund"]), "a table: line, reason", JSON.stringify(heads));
    const rows = await alert.locator("table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())));
    const want = [
      ["3", 'available "1.000" must be a whole number without separators'],
      ["4", 'available "12,5" must be a whole number, not a decimal'],
      ["5", "sku \"KISSEN-GRÖN\" may only hold letters A-Z, digits, '.', '_' and '-' (at most 64)"],
    ];
    check(JSON.stringify(rows) === JSON.stringify(want), "every refused row with its line and reason", JSON.stringify(rows));
    check((await page.getByLabel("Am Lager für VASE-BLUE").inputValue()) === "15", "nothing applied");
    await shot(page, "stock-upload-error");
  });

  await step("the corrected list is applied (UTF-8 with BOM, `;`)", async () => {
    const file = path.join(os.tmpdir(), `portal-stock-ok-${process.pid}.csv`);
    fs.writeFileSync(file, "\uFEFFsku;available\r\nVASE-BLUE;7\r\nSEEDS;30\r\n");
    await page.getByLabel("CSV-Datei").setInputFiles(file);
    const resp = await submit(page, page.getByRole("button", { name: "Hochladen" }));
    fs.unlinkSync(file);
    check(resp.ok(), "applied", resp.status());
    check((await text(page)).includes("2 Artikel aktualisiert"), "notice", await text(page));
    check((await page.getByLabel("Am Lager für VASE-BLUE").inputValue()) === "7", "count applied");
  });

  await step("receive a return: one resellable, one damaged", async () => {
    await page.getByRole("link", { name: "Retouren" }).click();
    await page.waitForLoadState();
    const card = page.locator("section", { hasText: cfg.returnId });
    check((await card.count()) === 1, "the return is listed", await text(page));
    await shot(page, "returns");
    await card.getByLabel(/^Wiederverkaufbar/).fill("1");
    await card.getByLabel(/^Beschädigt/).fill("1");
    const resp = await submit(page, card.getByRole("button", { name: "Eingang bestätigen" }));
    check(resp.ok(), "received", resp.status());
    const t = await text(page);
    check(t.includes("Retoure erfasst.") && !t.includes(cfg.returnId), "notice, no longer waiting", t);
  });

  await step("readable on a phone", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    await phone.addCookies(await acme.cookies());
    const p = await phone.newPage();
    await p.goto(`${base}/portal/delivery-orders/${cfg.delivery}`);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - 390);
    check(overflow <= 0, "no sideways scrolling", overflow);
    await shot(p, "phone-delivery-order");
    await phone.close();
  });

  await step("another fulfiller signs in with its API token, in its own English", async () => {
    const nordic = await browser.newContext(desktop);
    const p = await nordic.newPage();
    await p.goto(`${base}/portal/sign-in`);
    await p.getByLabel("API-Token").fill(cfg.nordicToken);
    const resp = await submit(p, p.getByRole("button", { name: "Anmelden", exact: true }));
    check(resp.ok() && new URL(p.url()).pathname === "/portal", "signed in", `${resp.status()} ${p.url()}`);
    check((await p.getAttribute("html", "lang")) === "en", "English for nordic");
    check((await text(p)).includes("Due today and late"), "English dashboard", await text(p));

    // acme's delivery order does not exist for nordic.
    const other = await p.goto(`${base}/portal/delivery-orders/${cfg.delivery}`);
    check(other.status() === 404, "another fulfiller's delivery order is a 404", other.status());
    check((await text(p)).includes("Not found") && !(await text(p)).includes("Carla"), "nothing of it shown", await text(p));
    result.secondFulfillerStatus = other.status();

    // A POST without the session's CSRF token changes nothing.
    const forged = await nordic.request.post(`${base}/portal/stock`, { form: { sku: "THROW-WOOL", available: "0" }, maxRedirects: 0 });
    check(forged.status() === 403, "a form without CSRF token is refused", forged.status());
    const wrong = await nordic.request.post(`${base}/portal/stock`, { form: { csrf: "0".repeat(64), sku: "THROW-WOOL", available: "0" }, maxRedirects: 0 });
    check(wrong.status() === 403, "a wrong CSRF token is refused", wrong.status());

    // Signing out ends the session.
    await submit(p, p.getByRole("button", { name: "Sign out" }));
    check((await text(p)).includes("Sie sind abgemeldet."), "signed out (the sign-in page speaks the retailer's language)", await text(p));
    const after = await p.goto(`${base}/portal/stock`);
    check(new URL(p.url()).pathname === "/portal/sign-in", "a page after sign-out asks to sign in", `${after.status()} ${p.url()}`);
    await nordic.close();
  });

  await step("a wrong token is refused on the page", async () => {
    const ctx = await browser.newContext(desktop);
    const p = await ctx.newPage();
    await p.goto(`${base}/portal/sign-in`);
    await p.getByLabel("API-Token").fill("not-a-token");
    const resp = await submit(p, p.getByRole("button", { name: "Anmelden", exact: true }));
    check(resp.status() === 422, "refused", resp.status());
    check((await text(p)).includes("gilt nicht für das Lieferantenportal"), "explained");
    await ctx.close();
  });
  await acme.close();
} finally {
  await browser.close();
}
result.ms = Date.now() - started;
console.log(`RESULT ${JSON.stringify(result)}`);
