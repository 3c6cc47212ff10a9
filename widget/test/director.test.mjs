// Browser tests of the dashboard's medical-oversight pages (issue 11):
// Debian chromium via playwright-core against the local server (-dev) on
// loopback. Coast Aesthetics (demo seed) is directed by md_coast.
//
// Expiry is real, not mocked: a first server runs with its clock a little
// over a year back (-dev-clock-offset) and the director attests neurotoxin
// readiness there; the second server, on the same data folder and the real
// clock, finds that attestation expired.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startConsoles, call, providerAuth, queuedExam, noViolations, signIn, XSS_NAME } from "./consoles-harness.mjs";

const OFFSET_HOURS = 9000; // 375 days: a 12-month attestation made then has expired
const XSS_EVENT = `Swelling <img src=x onerror="window.__pwned=4"> after filler`;
const XSS_REASON = `Wait until after pregnancy <script>window.__pwned=5</script>`;
let env, dataDir, md, flaggedApproved, flaggedDeferred;

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

async function directorAuth(id = "md_coast") {
  const r = await call(env, "POST", "/dev/director-token", { director_id: id });
  assert.equal(r.status, 200, r.text);
  return r.json.token;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "gf-director-data-"));
  // A year back: attest neurotoxin readiness (valid 12 months).
  env = await startConsoles({ dataDir, args: ["-dev-clock-offset", `-${OFFSET_HOURS}h`] });
  const shiftedNow = Date.now() - OFFSET_HOURS * 3600e3;
  const old = await call(env, "PUT", "/v1/director/clinics/clinic_coast/readiness/neurotoxin",
    { items: { anaphylaxis_kit: true, escalation_plan: true }, last_drill_on: day(shiftedNow - 7 * 86400e3) },
    { Authorization: "Bearer " + (await directorAuth()) });
  assert.equal(old.status, 201, old.text);
  await env.stop();
  // Today, on the same data.
  env = await startConsoles({ dataDir });
  md = await directorAuth();
});
after(async () => {
  if (env) await env.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function page(signInAs) {
  const p = await env.browser.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  await p.goto(`${env.api}/dashboard/`);
  await p.waitForSelector("#signin");
  if (signInAs === "director") {
    // The directors' own OIDC client at the dev issuer: only directors are offered.
    await p.click("#md-signin");
    await p.waitForURL(/\/dev\/authorize/);
    assert.equal(await p.locator('button[value="clinic_coast"], button[value="prov_tx_md"]').count(), 0, "only directors sign in here");
    await p.click('button[value="md_coast"]');
    await p.waitForSelector("#tab-reviews");
  } else if (signInAs === "director-token") {
    await p.fill("#md-token", md);
    await p.click("#md-form button[type=submit]");
    await p.waitForSelector("#tab-reviews");
  } else {
    await signIn(p, signInAs);
    await p.waitForSelector("#exams-table, #exam-list p");
  }
  return { p, errors };
}

test("an expired readiness attestation: the widget leaves the treatment out, exams are refused, and the clinic's oversight page says why; axe is clean", async () => {
  const cfg = await call(env, "GET", "/v1/widget/config", undefined, { "X-Goodfaith-Key": "pk_test_coast" });
  assert.equal(cfg.status, 200, cfg.text);
  assert.ok(!cfg.json.treatments.some((t) => t.id === "neurotoxin"), "neurotoxin is not offered after expiry");
  const refused = await call(env, "POST", "/v1/exams", { patient: { first_name: "A", last_name: "B", dob: "1990-01-01", email: "a@example.com", state: "TX" }, treatments: ["neurotoxin"] }, { "X-Goodfaith-Key": "pk_test_coast" });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.json.error.code, "treatment_not_ready");
  // The patient reads a generic sentence; the reason and the items are staff's.
  assert.match(refused.json.error.message, /^This clinic cannot offer Neurotoxin.* online right now\.$/);
  assert.doesNotMatch(refused.text, /Anaphylaxis|anaphylaxis_kit|expired|attest/);

  const { p, errors } = await page("clinic_coast");
  await p.click("#tab-oversight");
  await p.waitForSelector("#readiness-table");
  const why = await p.locator("#not-offered").innerText();
  assert.match(why, /Neurotoxin: the emergency-readiness attestation for Neurotoxin.* expired on \d{4}-\d{2}-\d{2}; the medical director must attest again: Anaphylaxis kit/);
  assert.match(why, /Dermal filler: the medical director has not attested emergency readiness .*Hyaluronidase/);
  assert.equal(await p.locator('#readiness-table tr[data-treatment="neurotoxin"] .status').innerText(), "Expired");
  assert.match(await p.locator("#md-list").innerText(), /Morgan Hale, MD/);
  await noViolations(p, "clinic oversight");
  assert.deepEqual(errors, []);
  await p.close();
});

test("the director attests readiness again, a chart is reviewed and completion updates, a protocol version is signed, readiness is revoked; patient HTML is text; axe is clean", async () => {
  const { p, errors } = await page("director");
  assert.match(await p.locator("#who").innerText(), /Morgan Hale, MD \(medical director\)/);

  // Readiness: attest neurotoxin in the form (an item left out is refused).
  await p.click("#tab-readiness");
  await p.waitForSelector("#attest-form");
  assert.equal(await p.locator('#readiness-table tr[data-treatment="neurotoxin"] .status').innerText(), "Expired");
  await noViolations(p, "director readiness");
  await p.selectOption("#at-treatment", "neurotoxin");
  await p.check('#at-items input[value="anaphylaxis_kit"]');
  await p.fill("#at-drill", day(Date.now() - 3 * 86400e3));
  await p.click("#attest-form button[type=submit]");
  await p.waitForSelector("#attest-result .error");
  assert.match(await p.locator("#attest-result").innerText(), /items\.escalation_plan/);
  await p.check('#at-items input[value="anaphylaxis_kit"]');
  await p.check('#at-items input[value="escalation_plan"]');
  await p.click("#attest-form button[type=submit]");
  await p.waitForSelector("text=Neurotoxin: readiness attested.");
  assert.equal(await p.locator('#readiness-table tr[data-treatment="neurotoxin"] .status').innerText(), "Ready");

  // Two flagged exams (pregnancy) are decided: both are in the review sample.
  const prov = await providerAuth(env, "prov_tx_md");
  flaggedApproved = await queuedExam(env, {}, "pk_test_coast");
  flaggedDeferred = await queuedExam(env, { first_name: "Bea", last_name: "Ruiz", email: "bea@example.com" }, "pk_test_coast");
  for (const id of [flaggedApproved, flaggedDeferred]) assert.equal((await call(env, "POST", `/v1/provider/exams/${id}/claim`, undefined, prov)).status, 200);
  const a = await call(env, "POST", `/v1/provider/exams/${flaggedApproved}/decision`, {
    outcome: "approved", orders: [{ treatment: "neurotoxin", product: "Dysport", dose: "50 units", route: "intramuscular", refills: 0 }], attestation: { accepted: true },
  }, prov);
  assert.equal(a.status, 201, a.text);
  const d = await call(env, "POST", `/v1/provider/exams/${flaggedDeferred}/decision`, { outcome: "deferred", reason: XSS_REASON }, prov);
  assert.equal(d.status, 200, d.text);

  // Chart review: nothing reviewed yet; a concern needs a note; completion moves.
  await p.click("#tab-reviews");
  await p.waitForSelector("#review-table");
  assert.match(await p.locator("#cr-summary").innerText(), /^0 of 2 sampled chart\(s\) reviewed \(0% complete\); 0 overdue; 0 concern\(s\)/);
  assert.equal(await p.locator(`#review-table tr[data-exam="${flaggedApproved}"] .review-status`).innerText(), "To review");
  await noViolations(p, "review queue");
  await p.click(`#review-table tr[data-exam="${flaggedApproved}"] button`);
  await p.waitForSelector("#review-form");
  assert.equal(await p.locator("#rv-patient").innerText(), `${XSS_NAME} Lopez, born 1988-02-03, TX`);
  assert.match(await p.locator("#rv-answers").innerText(), /<script>window\.__pwned=2<\/script><b>bold<\/b> & aspirin/);
  assert.equal(await p.locator("#review-panel img, #review-panel script, #review-panel b").count(), 0);
  await noViolations(p, "chart review");
  await p.check('input[name=verdict][value="concern"]');
  await p.click("#review-form button[type=submit]");
  await p.waitForSelector("#rv-result .error");
  assert.match(await p.locator("#rv-result").innerText(), /\(note\)/);
  await p.fill("#rv-note", "Pregnancy flag: document the advice to wait.");
  await p.click("#review-form button[type=submit]");
  await p.waitForSelector("#rv-done");
  assert.match(await p.locator("#rv-done").innerText(), /md_coast: concern — Pregnancy flag/);
  assert.match(await p.locator("#cr-summary").innerText(), /^1 of 2 sampled chart\(s\) reviewed \(50% complete\); 0 overdue; 1 concern\(s\)/);
  assert.equal(await p.locator(`#review-table tr[data-exam="${flaggedApproved}"] .review-status`).innerText(), "Reviewed: concern");
  // The deferred chart: the provider's reason is text.
  await p.click(`#review-table tr[data-exam="${flaggedDeferred}"] button`);
  await p.waitForSelector("#review-form");
  assert.match(await p.locator("#review-panel").innerText(), /Wait until after pregnancy <script>window\.__pwned=5<\/script>/);
  await p.click("#review-form button[type=submit]"); // agree
  await p.waitForSelector("#rv-done");
  assert.match(await p.locator("#cr-summary").innerText(), /^2 of 2 sampled chart\(s\) reviewed \(100% complete\)/);

  // Protocols: a version written (API) shows unsigned, and is signed here.
  const proto = await call(env, "POST", "/v1/director/clinics/clinic_coast/protocols", {
    treatment: "neurotoxin", title: "Glabellar lines <i>v1</i>", text: "Assess, consent, inject.",
    standing_order: { product: "abobotulinumtoxina_dysport", dose: "50 units", route: "IM", refills: 0, valid_days: 180 },
  }, { Authorization: "Bearer " + md });
  assert.equal(proto.status, 201, proto.text);
  await p.click("#tab-protocols");
  await p.waitForSelector("#protocol-table");
  const row = '#protocol-table tr[data-treatment="neurotoxin"]';
  assert.match(await p.locator(row).innerText(), /v1 “Glabellar lines <i>v1<\/i>” — abobotulinumtoxina_dysport, 50 units\.\s+Read version 1\s+Unsigned/);
  await p.click(`${row} summary`);
  assert.equal(await p.locator(`${row} details p`).innerText(), "Assess, consent, inject.");
  assert.match(await p.locator(row).innerText(), /None signed/);
  await noViolations(p, "protocols");
  // Signing needs the typed name and the adoption. The refusal is an
  // answer, so the next attempt carries a new Idempotency-Key.
  const signKeys = [];
  p.on("request", (q) => { if (q.url().endsWith("/versions/1/sign")) signKeys.push(q.headers()["idempotency-key"]); });
  await p.click(`${row} button`);
  await p.waitForSelector("#sign-result .error");
  assert.match(await p.locator("#sign-result").innerText(), /accepted/);
  await p.fill("#sign-name", "Morgan Hale");
  await p.check("#sign-accept");
  await p.click(`${row} button`);
  await p.waitForSelector("text=Neurotoxin protocol version 1 signed; it is in force from now.");
  assert.equal(signKeys.length, 2);
  assert.ok(signKeys[0] && signKeys[1] && signKeys[0] !== signKeys[1], `a refused sign retires its key: ${signKeys}`);
  assert.match(await p.locator(row).innerText(), /Signed by Morgan Hale/);
  assert.match(await p.locator(row).innerText(), /Version 1: Glabellar lines/);

  // Readiness revoked with a reason: the treatment is off the widget at once.
  await p.click("#tab-readiness");
  await p.waitForSelector("#attest-form");
  await p.fill("#rk-reason", "epinephrine used; kit restocking");
  // The first revoke reaches the server but its answer is lost; the retry
  // carries the same Idempotency-Key, so the server answers the first
  // revocation again instead of refusing a second one.
  const revokeKeys = [];
  await p.route("**/readiness/neurotoxin/revoke", async (route) => {
    revokeKeys.push(route.request().headers()["idempotency-key"]);
    if (revokeKeys.length === 1) {
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await p.click('#readiness-table tr[data-treatment="neurotoxin"] button');
  await p.waitForSelector("#attest-result .error");
  await p.click('#readiness-table tr[data-treatment="neurotoxin"] button');
  await p.waitForSelector("text=Neurotoxin: readiness revoked; the widget no longer offers it.");
  await p.unroute("**/readiness/neurotoxin/revoke");
  assert.equal(revokeKeys.length, 2);
  assert.ok(revokeKeys[0] && revokeKeys[0] === revokeKeys[1], `a retry after a lost answer reuses the key: ${revokeKeys}`);
  assert.equal(await p.locator('#readiness-table tr[data-treatment="neurotoxin"] .status').innerText(), "Revoked");
  assert.match(await p.locator('#readiness-table tr[data-treatment="neurotoxin"] .reason').innerText(), /epinephrine used; kit restocking/);
  const cfg = await call(env, "GET", "/v1/widget/config", undefined, { "X-Goodfaith-Key": "pk_test_coast" });
  assert.ok(!cfg.json.treatments.some((t) => t.id === "neurotoxin"), "revoked: neurotoxin not offered");
  await noViolations(p, "readiness after revocation");

  // Products: NDCs where a source shows them, the review status where not;
  // disabling a product.
  await p.click("#tab-products");
  await p.waitForSelector("#product-table");
  assert.match(await p.locator('#product-table tr[data-product="semaglutide_wegovy"] .ndcs').innerText(), /0169-4525-14/);
  assert.match(await p.locator('#product-table tr[data-product="onabotulinumtoxina_botox_cosmetic"] .review').innerText(), /medical director's review/);
  assert.equal(await p.locator('#product-table tr[data-product="bpc_157"] .enabled').innerText(), "Never (not orderable)");
  await noViolations(p, "products");
  await p.click('#product-table tr[data-product="onabotulinumtoxina_botox_cosmetic"] button');
  await p.waitForSelector("text=Botox Cosmetic disabled: PSOs at this clinic can no longer order it.");
  assert.equal(await p.locator('#product-table tr[data-product="onabotulinumtoxina_botox_cosmetic"] .enabled').innerText(), "No");
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
  await p.close();
});

test("the clinic records an adverse event (HTML in it stays text) and exports CSV and JSON; the director sees and exports it; other clinics and directors see nothing", async () => {
  assert.ok(flaggedApproved, "runs after the review test");
  const { p, errors } = await page("clinic_coast");
  await p.click("#tab-adverse");
  await p.waitForSelector("#ae-form");
  await p.waitForSelector("#ae-none");
  await noViolations(p, "adverse events");
  // Bad input is refused with the field named, and nothing is recorded.
  await p.fill("#ae-exam", "exam_nope");
  await p.click("#ae-form button[type=submit]");
  await p.waitForSelector("#ae-result .error");
  await p.fill("#ae-exam", flaggedApproved);
  await p.selectOption("#ae-type", "allergic_reaction");
  await p.selectOption("#ae-severity", "moderate");
  await p.fill("#ae-when", new Date(Date.now() - 2 * 3600e3 - new Date().getTimezoneOffset() * 60e3).toISOString().slice(0, 16));
  await p.fill("#ae-description", XSS_EVENT);
  await p.fill("#ae-actions", "=cold compress; antihistamine");
  await p.click("#ae-form button[type=submit]");
  await p.waitForSelector("#ae-table");
  assert.match(await p.locator("#ae-result").innerText(), /Recorded ae_|Recorded [a-z]+_/);
  const rowText = await p.locator("#ae-table tbody tr").first().innerText();
  assert.ok(rowText.includes(XSS_EVENT), rowText);
  assert.match(rowText, new RegExp(flaggedApproved));
  assert.match(rowText, /pso_/);
  assert.match(rowText, /allergic reaction\s+moderate/);
  assert.equal(await p.locator("#ae-table img").count(), 0);
  await noViolations(p, "adverse event recorded");

  const [csvDl] = await Promise.all([p.waitForEvent("download"), p.click("#ae-csv")]);
  const csv = readFileSync(await csvDl.path(), "utf8");
  assert.match(csv, new RegExp(flaggedApproved));
  assert.ok(csv.includes("'=cold compress"), "formula cells are neutralised: " + csv);
  const [jsonDl] = await Promise.all([p.waitForEvent("download"), p.click("#ae-json")]);
  const items = JSON.parse(readFileSync(await jsonDl.path(), "utf8")).items;
  assert.equal(items.length, 1);
  assert.equal(items[0].description, XSS_EVENT);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
  await p.close();

  // The director's view and export (opened with a pasted director token).
  const dir = await page("director-token");
  await dir.p.click("#tab-md-adverse");
  await dir.p.waitForSelector("#ae-table");
  assert.ok((await dir.p.locator("#ae-table").innerText()).includes(XSS_EVENT));
  await noViolations(dir.p, "director adverse events");
  const [dl] = await Promise.all([dir.p.waitForEvent("download"), dir.p.click("#ae-csv")]);
  assert.match(readFileSync(await dl.path(), "utf8"), new RegExp(flaggedApproved));
  assert.deepEqual(dir.errors, []);
  await dir.p.close();

  // Tenancy: Glow's admin sees no event; md_coast does not direct Glow.
  const glow = await call(env, "GET", "/v1/clinic/adverse-events", undefined, { Authorization: "Bearer sk_test_glow" });
  assert.deepEqual(glow.json.items, []);
  for (const path of ["reviews", "adverse-events", "readiness", "protocols"]) {
    assert.equal((await call(env, "GET", `/v1/director/clinics/clinic_glow/${path}`, undefined, { Authorization: "Bearer " + md })).status, 404, path);
  }
  // A bad director token does not open the dashboard.
  const bad = await env.browser.newPage();
  await bad.goto(`${env.api}/dashboard/`);
  await bad.fill("#md-token", "x.y.z");
  await bad.click("#md-form button[type=submit]");
  await bad.waitForSelector("text=/director token was not accepted/");
  await bad.close();
});

test("the director writes protocol version 2 in the form (HTML stays text; bad input refused, nothing written), it stays out of force until signed, then the provider's decision form prefills from it; the review share is set; axe is clean", async () => {
  assert.ok(flaggedApproved, "runs after the review test (version 1 signed there)");
  const auth = { Authorization: "Bearer " + md };
  const base = "/v1/director/clinics/clinic_coast";
  // Readiness was revoked in the review test: attest again so an exam can be made.
  const ready = await call(env, "PUT", `${base}/readiness/neurotoxin`, { items: { anaphylaxis_kit: true, escalation_plan: true }, last_drill_on: day(Date.now() - 86400e3) }, auth);
  assert.equal(ready.status, 201, ready.text);
  const prov = await providerAuth(env, "prov_tx_md");
  const examID = await queuedExam(env, { first_name: "Ida", last_name: "Park", email: "ida@example.com" }, "pk_test_coast");
  assert.equal((await call(env, "POST", `/v1/provider/exams/${examID}/claim`, undefined, prov)).status, 200);
  const inForce = async () => (await call(env, "GET", `/v1/provider/exams/${examID}/protocols`, undefined, prov)).json;
  assert.equal((await inForce()).protocols[0].version, 1);

  const { p, errors } = await page("director");
  await p.click("#tab-protocols");
  await p.waitForSelector("#protocol-form");
  await p.selectOption("#pw-treatment", "neurotoxin");
  // The form starts from version 1; only enabled products of the treatment are offered.
  assert.equal(await p.inputValue("#pw-title"), "Glabellar lines <i>v1</i>");
  assert.equal(await p.inputValue("#pw-product"), "abobotulinumtoxina_dysport");
  assert.match(await p.locator("#pw-result").innerText(), /Starting from version 1; saving writes version 2\./);
  const offered = await p.locator("#pw-product option").evaluateAll((os) => os.map((o) => o.value));
  assert.ok(!offered.includes("onabotulinumtoxina_botox_cosmetic"), "disabled in the products test: " + offered);
  assert.ok(!offered.includes("botulinum_toxin_imported_unapproved"), "never orderable: " + offered);
  assert.deepEqual(await p.locator("#pw-route option").evaluateAll((os) => os.map((o) => o.value)), ["intramuscular"]);
  await noViolations(p, "protocol writing form");

  // Bad input: refused with the field named, nothing written.
  await p.fill("#pw-dose", "");
  await p.click("#protocol-form button[type=submit]");
  await p.waitForSelector("#pw-result .error");
  assert.match(await p.locator("#pw-result").innerText(), /standing_order\.dose/);
  const before = await call(env, "GET", `${base}/protocols`, undefined, auth);
  assert.equal(before.json.protocols.find((x) => x.treatment === "neurotoxin").versions.length, 1, "a refused version is not written");
  await noViolations(p, "protocol form with an error");

  const TITLE = "Glabellar + forehead <b>v2</b>";
  const TEXT = `Assess, consent, inject. <img src=x onerror="window.__pwned=6">`;
  await p.fill("#pw-title", TITLE);
  await p.fill("#pw-text", TEXT);
  await p.selectOption("#pw-product", "incobotulinumtoxina_xeomin");
  await p.fill("#pw-dose", "40 units");
  await p.fill("#pw-areas", "glabella, forehead");
  await p.fill("#pw-frequency", "every 12 weeks");
  await p.fill("#pw-quantity", "1 vial");
  await p.fill("#pw-refills", "1");
  await p.fill("#pw-valid_days", "120");
  await p.click("#protocol-form button[type=submit]");
  await p.waitForSelector("text=Neurotoxin protocol version 2 written. It is not in force until you sign it.");
  const row = '#protocol-table tr[data-treatment="neurotoxin"]';
  const v2 = `${row} li[data-version="2"]`;
  assert.match(await p.locator(v2).innerText(), /v2 “Glabellar \+ forehead <b>v2<\/b>” — incobotulinumtoxina_xeomin, 40 units\.[\s\S]*Unsigned/);
  await p.click(`${v2} summary`);
  assert.equal(await p.locator(`${v2} details p`).innerText(), TEXT);
  assert.equal(await p.locator("#protocol-table b, #protocol-table img, #protocol-table i").count(), 0, "director-entered HTML is text");
  assert.match(await p.locator(row).innerText(), /Version 1: Glabellar lines/, "version 1 stays in force until version 2 is signed");
  assert.equal((await inForce()).protocols[0].version, 1, "an unsigned version is not in force");

  // Signed: version 2 is in force and prefills the provider's decision form.
  await p.fill("#sign-name", "Morgan Hale");
  await p.check("#sign-accept");
  await p.click('button[aria-label="Sign Neurotoxin protocol version 2"]');
  await p.waitForSelector("text=Neurotoxin protocol version 2 signed; it is in force from now.");
  assert.match(await p.locator(row).innerText(), /Version 2: Glabellar \+ forehead <b>v2<\/b>/);
  const now = await inForce();
  assert.equal(now.protocols[0].version, 2);
  assert.deepEqual(now.orders[0], { treatment: "neurotoxin", product: "incobotulinumtoxina_xeomin", dose: "40 units", route: "intramuscular",
    areas: ["glabella", "forehead"], frequency: "every 12 weeks", quantity: "1 vial", refills: 1, valid_days: 120 });

  const con = await env.browser.newPage();
  con.on("pageerror", (e) => errors.push(String(e)));
  await con.goto(`${env.api}/console/?exam=${examID}`);
  await con.waitForSelector("#signin");
  await signIn(con, "prov_tx_md");
  await con.waitForSelector("#decision", { timeout: 15000 });
  assert.equal(await con.getAttribute("#d-neurotoxin-prefill", "data-protocol-version"), "2");
  assert.equal(await con.inputValue("#d-neurotoxin-product"), "incobotulinumtoxina_xeomin");
  assert.equal(await con.inputValue("#d-neurotoxin-dose"), "40 units");
  assert.equal(await con.inputValue("#d-neurotoxin-areas"), "glabella, forehead");
  assert.equal(await con.inputValue("#d-neurotoxin-valid_days"), "120");
  await con.close();

  // The review share: refused out of range (nothing changes), then set.
  await p.click("#tab-reviews");
  await p.waitForSelector("#share-form");
  assert.equal(await p.inputValue("#share-percent"), "10");
  await noViolations(p, "review share form");
  await p.fill("#share-percent", "0");
  await p.click("#share-form button[type=submit]");
  await p.waitForSelector("#share-result .error");
  assert.match(await p.locator("#share-result").innerText(), /review_percent/);
  assert.equal((await call(env, "GET", `${base}/settings`, undefined, auth)).json.settings.review_percent, 10);
  await p.fill("#share-percent", "25");
  await p.click("#share-form button[type=submit]");
  await p.waitForSelector("text=Chart review now samples 25% of each provider's decided exams, and every flagged exam.");
  assert.match(await p.locator("#cr-summary").innerText(), /Sample: 25% of each provider's decided exams/);
  const st = (await call(env, "GET", `${base}/settings`, undefined, auth)).json.settings;
  assert.equal(st.review_percent, 25);
  assert.equal(st.updated_by, "md_coast");
  assert.equal((await call(env, "GET", "/v1/clinic/oversight", undefined, { Authorization: "Bearer sk_test_coast" })).json.chart_review.review_percent, 25);
  // Another clinic's settings are not the director's to read or write.
  assert.equal((await call(env, "PUT", "/v1/director/clinics/clinic_glow/settings", { review_percent: 50 }, auth)).status, 404);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
  await p.close();
});
