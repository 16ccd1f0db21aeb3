// What the browser tests of the portal (portal.mjs) and the console (console.mjs) share: checks
// that name what failed, timed steps, the page's text, screenshots, form submits that wait for
// the page they lead to, and the local stack's mail outbox.

import fs from "node:fs";
import path from "node:path";

/// The helpers of one run: `base` the API's address, `shots` a screenshot folder (or ""),
/// `result` the object printed as `RESULT {...}` (its `steps` get each step's time).
export function harness({ base, shots, result }) {
  function check(cond, what, detail = "") {
    if (!cond) throw new Error(`${what}${detail ? `: ${detail}` : ""}`);
  }

  async function step(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
    } catch (e) {
      e.message = `step "${name}": ${e.message}`;
      throw e;
    }
    result.steps.push({ name, ms: Date.now() - t0 });
  }

  async function text(page) {
    return (await page.locator("main").innerText()).replace(/\s+/g, " ");
  }

  async function shot(page, name, fullPage = true) {
    if (!shots) return;
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
  }

  /// Submits a form by clicking `button` and returns the final response (after any redirect).
  async function submit(page, button) {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), button.click()]);
    return resp;
  }

  async function outbox() {
    const r = await fetch(`${base}/_local/outbox`);
    return (await r.json()).items ?? [];
  }

  return { check, step, text, shot, submit, outbox };
}
