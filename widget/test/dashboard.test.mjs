// Browser tests of the clinic dashboard: Debian chromium via playwright-core
// against the local server (-dev) on loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { startConsoles, call, providerAuth, queuedExam, noViolations, signIn, XSS_NAME } from "./consoles-harness.mjs";

let env;
let approved, deferred, psoID;
const REASON = `Needs OB clearance <script>window.__pwned=3</script>`;

before(async () => {
  env = await startConsoles();
  const md = await providerAuth(env, "prov_tx_md");
  approved = await queuedExam(env);
  assert.equal((await call(env, "POST", `/v1/provider/exams/${approved}/claim`, undefined, md)).status, 200);
  const a = await call(env, "POST", `/v1/provider/exams/${approved}/decision`, {
    outcome: "approved", orders: [{ treatment: "neurotoxin", product: "onabotulinumtoxinA", dose: "20 units", route: "intramuscular", refills: 0 }], attestation: { accepted: true },
  }, md);
  assert.equal(a.status, 201, a.text);
  psoID = a.json.pso.id;
  deferred = await queuedExam(env, { first_name: "Bea", last_name: "Ruiz", dob: "1991-05-06", email: "bea@example.com" });
  assert.equal((await call(env, "POST", `/v1/provider/exams/${deferred}/claim`, undefined, md)).status, 200);
  const d = await call(env, "POST", `/v1/provider/exams/${deferred}/decision`, { outcome: "deferred", reason: REASON, attestation: { accepted: true } }, md);
  assert.equal(d.status, 200, d.text);
});
after(async () => {
  if (env) await env.stop();
});

async function dashboard(clinic = "clinic_glow") {
  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${env.api}/dashboard/`);
  await page.waitForSelector("#signin");
  await signIn(page, clinic);
  await page.waitForSelector("#exams-table, #exam-list p");
  return { page, errors };
}

const row = (id) => `#exams-table tr[data-exam="${id}"]`;

test("clinic admin signs in with OIDC; the exams list filters and searches; the deferral reason and next steps show as text; the PSO shows and its PDF downloads; axe is clean", async () => {
  const page0 = await env.browser.newPage();
  await page0.goto(`${env.api}/dashboard/`);
  await page0.waitForSelector("#signin");
  await noViolations(page0, "dashboard sign-in");
  await page0.close();

  const { page, errors } = await dashboard();
  assert.match(await page.locator("#who").innerText(), /clinic_glow/);
  await page.waitForSelector(row(approved));
  await page.waitForSelector(row(deferred));
  await noViolations(page, "exams");
  // Patient HTML is text in the list.
  assert.equal(await page.locator(`${row(approved)} td`).first().innerText(), XSS_NAME + " Lopez");
  assert.equal(await page.locator("#exam-list img, #exam-list script").count(), 0);

  // Filters and search.
  await page.selectOption("#f-outcome", "deferred");
  await page.waitForSelector(row(approved), { state: "detached" });
  assert.equal(await page.locator(row(deferred)).count(), 1);
  await page.selectOption("#f-outcome", "");
  await page.fill("#f-search", "bea ruiz");
  await page.waitForSelector(row(approved), { state: "detached" });
  assert.equal(await page.locator(row(deferred)).count(), 1);
  await page.fill("#f-search", "");
  await page.selectOption("#f-status", "draft");
  await page.waitForSelector(row(deferred), { state: "detached" });
  await page.selectOption("#f-status", "decided");
  await page.waitForSelector(row(deferred));

  // The deferral: reason as text, and what to do next.
  await page.click(`${row(deferred)} button`);
  await page.waitForSelector("#exam-reason");
  assert.equal(await page.locator("#exam-reason").innerText(), REASON);
  assert.match(await page.locator("#exam-next").innerText(), /Contact the patient/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await noViolations(page, "deferred exam");

  // The approval: PSO and PDF.
  await page.click(`${row(approved)} button`);
  await page.waitForSelector("#pso");
  assert.match(await page.locator("#pso").innerText(), new RegExp(psoID));
  assert.match(await page.locator("#pso").innerText(), /In force/);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#pdf")]);
  assert.equal(readFileSync(await dl.path()).subarray(0, 5).toString(), "%PDF-");
  await noViolations(page, "PSO");
  assert.deepEqual(errors, []);
  await page.close();
});

test("usage and the statement CSV download", async () => {
  const { page, errors } = await dashboard();
  await page.click("#tab-usage");
  await page.waitForSelector("#usage-total");
  assert.match(await page.locator("#usage-total").innerText(), /^2 billable exam\(s\), 55\.98 USD/);
  await noViolations(page, "usage");
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  const csv = readFileSync(await dl.path(), "utf8").trim().split("\n");
  assert.ok(csv.length >= 4, csv.join("\n"));
  assert.ok(csv.some((l) => l.startsWith(approved + ",")), "the approved exam is a line");
  assert.ok(csv.some((l) => l.startsWith(deferred + ",")), "the deferred exam is a line");
  assert.match(csv[csv.length - 1], /^total,.*,5598$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("widget settings: branding with a live preview and the contrast guard, treatments and hours saved, the embed snippet shown; invalid hours refused", async () => {
  const { page, errors } = await dashboard();
  await page.click("#tab-settings");
  await page.waitForSelector("#settings-form");
  await noViolations(page, "settings");
  assert.match(await page.locator("#snippet").innerText(), /<script src="http:\/\/127\.0\.0\.1:\d+\/widget\/goodfaith\.js" data-key="pk_test_glow" async><\/script>/);

  // Too light a colour: the preview uses the guarded one and says so.
  await page.locator("#s-color").evaluate((el) => {
    el.value = "#ffe45c";
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
  const bg = await page.locator("#preview-button").evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(bg, "rgb(255, 228, 92)");
  assert.match(await page.locator("#s-guard").innerText(), /below 4\.5:1/);
  const ratio = await page.locator("#preview-button").evaluate((el) => {
    const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\d+/g).map(Number).map((c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
  });
  assert.ok(ratio >= 4.5, "preview button contrast " + ratio);
  await noViolations(page, "settings with a pale colour");
  // A dark colour passes unchanged.
  await page.locator("#s-color").evaluate((el) => {
    el.value = "#123456";
    el.dispatchEvent(new Event("input", { bubbles: true }));
  });
  assert.equal(await page.locator("#preview-button").evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(18, 52, 86)");
  assert.match(await page.locator("#s-guard").innerText(), /readable/);

  // Closing before opening is refused with the field named.
  await page.check("input[name=open-sun]");
  await page.fill("#s-sun-from", "18:00");
  await page.fill("#s-sun-to", "08:00");
  await page.click("#settings-form button[type=submit]");
  await page.waitForSelector("#s-result .error");
  assert.match(await page.locator("#s-result").innerText(), /hours\.sun/);
  await page.uncheck("input[name=open-sun]");
  await page.uncheck("input[name=treatment][value=iv_therapy]");
  await page.click("#settings-form button[type=submit]");
  await page.waitForSelector("text=Settings saved.");

  const cfg = await call(env, "GET", "/v1/widget/config", undefined, { "X-Goodfaith-Key": "pk_test_glow" });
  assert.equal(cfg.json.clinic.branding.primary_color, "#123456");
  assert.ok(!cfg.json.treatments.some((t) => t.id === "iv_therapy"), "iv_therapy no longer offered");
  assert.deepEqual(errors, []);
  await page.close();
});

test("webhook settings: endpoint saved with its secret, a failing delivery listed with its status, replay of failed deliveries; invites", async () => {
  const hits = [];
  const receiver = createServer((req, res) => {
    req.resume();
    hits.push(req.headers["goodfaith-signature"]);
    res.writeHead(500).end();
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  try {
    const { page, errors } = await dashboard();
    await page.click("#tab-webhooks");
    await page.waitForSelector("#webhook-form");
    await page.fill("#w-url", `http://127.0.0.1:${receiver.address().port}/hook`);
    await page.click("#webhook-form button[type=submit]");
    await page.waitForSelector("#w-secret .text");
    assert.ok((await page.locator("#w-secret .text").innerText()).length > 10, "the signing secret is shown");
    await noViolations(page, "webhooks");
    // An event: a new exam is submitted; the failing delivery is listed and can be replayed.
    await queuedExam(env, { first_name: "Eve", last_name: "Hook", dob: "1990-09-09", email: "eve@example.com" });
    for (let i = 0; i < 40 && hits.length === 0; i++) await new Promise((r) => setTimeout(r, 250));
    assert.ok(hits.length > 0, "the receiver was called");
    // Nothing has been given up on yet; the failing delivery is retrying,
    // listed with its attempts and the receiver's status.
    await page.waitForSelector("#no-deliveries");
    await page.selectOption("#d-status", "pending");
    await page.waitForSelector("#deliveries-table");
    const rowText = await page.locator("#deliveries-table tbody tr").first().innerText();
    assert.match(rowText, /exam\.submitted/);
    assert.match(rowText, /HTTP 500/);
    assert.equal(await page.locator("#deliveries-table button").count(), 0, "only given-up deliveries offer a replay");
    // Replaying all failed deliveries answers (none are dead here).
    await page.click("#replay-failed");
    await page.waitForFunction(() => /queued again/.test(document.getElementById("status").textContent));
    await noViolations(page, "deliveries");

    await page.click("#tab-invites");
    await page.fill("#i-first", "Fay");
    await page.fill("#i-last", "Invite");
    await page.fill("#i-dob", "1992-02-02");
    await page.fill("#i-email", "fay@example.com");
    await page.fill("#i-state", "TX");
    await page.check("input[name=t][value=neurotoxin]");
    await page.click("#invite-form button[type=submit]");
    await page.waitForSelector("#invite-result .text");
    assert.match(await page.locator("#invite-result").innerText(), /exam_/);
    await noViolations(page, "invites");
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    receiver.close();
  }
});

test("access: another clinic's admin sees none of this clinic's exams, and cannot open them", async () => {
  const { page } = await dashboard("clinic_coast");
  await page.waitForSelector("#exam-list p, #exams-table");
  assert.equal(await page.locator(row(approved)).count(), 0);
  assert.equal(await page.locator(row(deferred)).count(), 0);
  await page.close();
  // The secret key works in the dashboard too, with the same tenancy.
  const p2 = await env.browser.newPage();
  await p2.goto(`${env.api}/dashboard/`);
  await p2.fill("#sk", "sk_test_coast");
  await p2.click("#sk-form button[type=submit]");
  await p2.waitForSelector("#exam-list p, #exams-table");
  assert.match(await p2.locator("#who").innerText(), /secret key/);
  assert.equal(await p2.locator(row(approved)).count(), 0);
  await p2.close();
  assert.equal((await call(env, "GET", `/v1/clinic/exams/${approved}`, undefined, { Authorization: "Bearer sk_test_coast" })).status, 404);
  assert.equal((await call(env, "GET", `/v1/clinic/psos/${psoID}/pdf`, undefined, { Authorization: "Bearer sk_test_coast" })).status, 404);
});

test("the dashboard locks when idle and forgets the credential", async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.api}/dashboard/?idle=2`);
  await page.waitForSelector("#signin");
  await signIn(page, "clinic_glow");
  await page.waitForSelector("#exams-table, #exam-list p");
  await page.waitForSelector("text=locked after a period of inactivity", { timeout: 10000 });
  assert.equal(await page.locator("#exams-table").count(), 0, "the exams are gone");
  let calls = 0;
  page.on("request", (r) => r.url().includes("/v1/") && calls++);
  await page.waitForTimeout(4000);
  assert.equal(calls, 0, "no API calls after the lock");
  await noViolations(page, "locked dashboard");
  await page.close();
});
