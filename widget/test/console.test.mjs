// Browser tests of the provider console: Debian chromium via playwright-core
// against the local server (-dev) on loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startConsoles, call, providerAuth, queuedExam, noViolations, signIn, XSS_NAME, XSS_MEDS } from "./consoles-harness.mjs";

let env;
before(async () => {
  env = await startConsoles();
});
after(async () => {
  if (env) await env.stop();
});

async function openConsole(query = "") {
  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${env.api}/console/${query}`);
  await page.waitForSelector("#signin");
  return { page, errors };
}

async function signedIn(provider = "prov_tx_md", query = "") {
  const { page, errors } = await openConsole(query);
  await signIn(page, provider);
  await page.waitForSelector("#queue-h");
  return { page, errors };
}

const row = (id) => `#queue-table tr[data-exam="${id}"]`;

test("provider signs in (OIDC code + PKCE against the dev issuer), the queue updates without reload, claims, reviews with flags first and patient HTML as text, approves with orders, and the signed PSO appears with its PDF; axe is clean on every page", async () => {
  const first = await queuedExam(env);
  const { page, errors } = await openConsole();
  await noViolations(page, "console sign-in");
  await signIn(page, "prov_tx_md", async (p) => {
    assert.match(await p.locator("h1").innerText(), /provider console/);
    await noViolations(p, "dev issuer sign-in page");
  });
  await page.waitForSelector(row(first), { timeout: 15000 });
  assert.match(await page.locator("#who").innerText(), /prov_tx_md/);
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length + localStorage.length), 0, "no token or PKCE state left in storage");
  assert.doesNotMatch(page.url(), /code=|state=/, "the code is removed from the address bar");
  await noViolations(page, "queue");

  // A new exam appears without a reload.
  const navs = [];
  page.on("framenavigated", (f) => f === page.mainFrame() && navs.push(f.url()));
  const second = await queuedExam(env, { first_name: "Bea", last_name: "Ruiz", dob: "1991-05-06", email: "bea@example.com" });
  await page.waitForSelector(row(second), { timeout: 15000 });
  assert.deepEqual(navs, [], "the page did not reload");
  assert.match(await page.locator(row(first)).innerText(), /Neurotoxin/);
  assert.match(await page.locator(row(first)).innerText(), /pregnan/i, "queue shows the flag");

  // Claim: the review opens, flags before identity and answers.
  await page.click(`${row(first)} button`);
  await page.waitForSelector("#review #flags li");
  const order = await page.evaluate(() => {
    const ids = ["flags", "identity", "answers", "photos", "decision"].map((id) => document.getElementById(id));
    return ids.every((el, i) => i === 0 || (ids[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0);
  });
  assert.ok(order, "flags come first, then identity, answers, photos, decision");
  const firstAnswer = await page.locator("#answers dt").first().innerText();
  assert.match(firstAnswer, /flagged/, "flagged answers are listed first");
  // Patient HTML is text.
  assert.equal(await page.locator("#patient-name").innerText(), XSS_NAME + " Lopez");
  assert.equal(await page.locator('#answers dd[data-link="medications"]').innerText(), XSS_MEDS);
  assert.equal(await page.locator("#review img[src=x], #review b, #review script").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // The photo is shown.
  await page.waitForFunction(() => [...document.querySelectorAll("#photos img")].some((i) => i.complete && i.naturalWidth > 0));
  assert.match(await page.locator("#d-neurotoxin-prefill").innerText(), /No earlier order/);
  assert.equal(await page.locator("#prior").innerText(), "None.");
  await noViolations(page, "review");
  // The claimed exam has left the queue.
  await page.waitForSelector(row(first), { state: "detached", timeout: 15000 });

  // Approving needs the attestation.
  await page.fill("#d-neurotoxin-product", "onabotulinumtoxinA");
  await page.fill("#d-neurotoxin-dose", "20 units");
  await page.fill("#d-neurotoxin-route", "intramuscular");
  await page.fill("#d-neurotoxin-areas", "glabella, forehead");
  await page.fill("#d-neurotoxin-frequency", "every 12 weeks");
  await page.fill("#d-neurotoxin-refills", "2");
  await page.fill("#d-neurotoxin-valid_days", "180");
  await page.click("#sign");
  assert.match(await page.locator("#decision-error").innerText(), /Attest/);
  await noViolations(page, "decision with error");
  await page.check("#d-attest");
  await page.click("#sign");
  await page.waitForSelector("#pso");
  const psoText = await page.locator("#pso").innerText();
  assert.match(psoText, /pso_/);
  assert.match(psoText, /onabotulinumtoxinA/);
  assert.match(psoText, /glabella/);
  await noViolations(page, "signed PSO");

  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#pso-pdf")]);
  const pdf = readFileSync(await dl.path());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  assert.match(dl.suggestedFilename(), /^pso_.*\.pdf$/);

  // The API agrees: decided, approved, with a PSO.
  const clinic = await call(env, "GET", `/v1/clinic/exams/${first}`, undefined, { Authorization: "Bearer sk_test_glow" });
  assert.equal(clinic.json.exam.outcome, "approved");
  assert.ok(clinic.json.exam.pso.id);
  assert.deepEqual(errors, []);
  await page.close();
});

test("provider defers with a reason (required) and the clinic dashboard shows it; prior orders of the same patient are listed and the order form is prefilled from the clinic's last order", async () => {
  // Same patient as a decided exam: approve one by API first.
  const auth = await providerAuth(env, "prov_tx_md");
  const earlier = await queuedExam(env, { first_name: "Cara", last_name: "Diaz", dob: "1985-01-01", email: "cara@example.com" });
  assert.equal((await call(env, "POST", `/v1/provider/exams/${earlier}/claim`, undefined, auth)).status, 200);
  const ok = await call(env, "POST", `/v1/provider/exams/${earlier}/decision`, {
    outcome: "approved", orders: [{ treatment: "neurotoxin", product: "abobotulinumtoxinA", dose: "50 units", route: "intramuscular", refills: 1 }], attestation: { accepted: true },
  }, auth);
  assert.equal(ok.status, 201, ok.text);
  const id = await queuedExam(env, { first_name: "Cara", last_name: "Diaz", dob: "1985-01-01", email: "cara@example.com" });

  const { page, errors } = await signedIn();
  await page.waitForSelector(row(id), { timeout: 15000 });
  await page.click(`${row(id)} button`);
  await page.waitForSelector("#decision");
  assert.match(await page.locator("#prior").innerText(), /approved/);
  assert.match(await page.locator("#prior").innerText(), /abobotulinumtoxinA 50 units/);
  assert.equal(await page.inputValue("#d-neurotoxin-product"), "abobotulinumtoxinA", "prefilled from the clinic's last order");
  assert.equal(await page.inputValue("#d-neurotoxin-dose"), "50 units");
  assert.match(await page.locator("#d-neurotoxin-prefill").innerText(), /prefilled from this clinic's last/);

  await page.check('input[name="d-neurotoxin-outcome"][value="defer"]');
  await page.click("#sign");
  assert.match(await page.locator("#decision-error").innerText(), /reason is required/);
  const reason = `Needs OB clearance <b>first</b>`;
  await page.fill("#d-neurotoxin-reason", reason);
  await page.click("#sign");
  await page.waitForSelector("#decided");
  assert.match(await page.locator("#decided").innerText(), /deferred/);
  assert.equal(await page.locator("#pso").count(), 0, "no PSO for a deferral");
  const clinic = await call(env, "GET", `/v1/clinic/exams/${id}`, undefined, { Authorization: "Bearer sk_test_glow" });
  assert.equal(clinic.json.exam.outcome, "deferred");
  assert.match(clinic.json.exam.reason, /Needs OB clearance <b>first<\/b>/);
  assert.deepEqual(errors, []);
  await page.close();

  // The clinic dashboard shows the deferral, its reason as text, and what to do next.
  const dash = await env.browser.newPage();
  await dash.goto(`${env.api}/dashboard/`);
  await dash.waitForSelector("#signin");
  await signIn(dash, "clinic_glow");
  await dash.waitForSelector(`#exams-table tr[data-exam="${id}"]`);
  await dash.click(`#exams-table tr[data-exam="${id}"] button`);
  await dash.waitForSelector("#exam-reason");
  assert.equal(await dash.locator("#exam-outcome").innerText(), "deferred");
  assert.match(await dash.locator("#exam-reason").innerText(), /Needs OB clearance <b>first<\/b>/);
  assert.equal(await dash.locator("#exam-reason b").count(), 0);
  assert.match(await dash.locator("#exam-next").innerText(), /Contact the patient/);
  await noViolations(dash, "dashboard deferred exam");
  await dash.close();
});

test("the order form is prefilled from the clinic's signed protocol (editable); an edited dose shows as a deviation before signing and the signed PSO records the protocol version and the deviation", async () => {
  // Coast Aesthetics has a medical director: readiness attested, then a
  // neurotoxin protocol written and e-signed (version 1 in force).
  const tok = await call(env, "POST", "/dev/director-token", { director_id: "md_coast" });
  assert.equal(tok.status, 200, tok.text);
  const md = { Authorization: "Bearer " + tok.json.token };
  const base = "/v1/director/clinics/clinic_coast";
  const drill = new Date(Date.now() - 7 * 86400000).toISOString().slice(0, 10);
  const ready = await call(env, "PUT", `${base}/readiness/neurotoxin`, { items: { anaphylaxis_kit: true, escalation_plan: true }, last_drill_on: drill }, md);
  assert.ok([200, 201].includes(ready.status), ready.text);
  const so = { product: "onabotulinumtoxina_botox_cosmetic", dose: "20 units", route: "IM", areas: ["glabella"], frequency: "every 12 weeks", refills: 0, valid_days: 180 };
  const created = await call(env, "POST", `${base}/protocols`, { treatment: "neurotoxin", title: "Glabellar lines", text: "Assess, consent, inject 5 sites.", standing_order: so }, md);
  assert.equal(created.status, 201, created.text);
  const v = created.json.protocol.version;
  const signed = await call(env, "POST", `${base}/protocols/neurotoxin/versions/${v}/sign`, { accepted: true, name: "Morgan Hale" }, md);
  assert.equal(signed.status, 200, signed.text);

  const id = await queuedExam(env, { first_name: "Eva", last_name: "Soto", dob: "1987-07-07", email: "eva@example.com" }, "pk_test_coast");
  const { page, errors } = await signedIn();
  await page.waitForSelector(row(id), { timeout: 15000 });
  await page.click(`${row(id)} button`);
  await page.waitForSelector("#decision");
  // Prefilled from the standing order of the version in force.
  const prefill = await page.locator("#d-neurotoxin-prefill").innerText();
  assert.match(prefill, new RegExp(`protocol “Glabellar lines”, version ${v}, signed by Morgan Hale`));
  assert.equal(await page.getAttribute("#d-neurotoxin-prefill", "data-protocol-version"), String(v));
  assert.equal(await page.inputValue("#d-neurotoxin-product"), so.product);
  assert.equal(await page.inputValue("#d-neurotoxin-dose"), "20 units");
  assert.equal(await page.inputValue("#d-neurotoxin-route"), "IM");
  assert.equal(await page.inputValue("#d-neurotoxin-areas"), "glabella");
  assert.equal(await page.inputValue("#d-neurotoxin-frequency"), "every 12 weeks");
  assert.equal(await page.inputValue("#d-neurotoxin-valid_days"), "180");
  assert.equal(await page.locator("#d-neurotoxin-deviations li").count(), 0, "no deviation before an edit");
  // The fields are editable; the edited dose shows as a deviation.
  await page.fill("#d-neurotoxin-dose", "30 units");
  await page.waitForSelector('#d-neurotoxin-deviations li[data-field="dose"]');
  assert.match(await page.locator("#d-neurotoxin-deviations").innerText(), /Dose: protocol 20 units, this order 30 units/);
  assert.equal(await page.locator("#d-neurotoxin-deviations li").count(), 1);
  assert.ok(await page.locator("#d-neurotoxin-dose").evaluate((el) => el.classList.contains("deviates")));
  await noViolations(page, "decision form with a protocol deviation");
  await page.check("#d-attest");
  await page.click("#sign");
  await page.waitForSelector("#pso", { timeout: 15000 });
  const cited = await page.locator("#pso-protocols").innerText();
  assert.match(cited, new RegExp(`version ${v}, signed by md_coast`));
  assert.match(cited, /dose: protocol "20 units", ordered "30 units"/);
  await noViolations(page, "signed PSO with its protocol");

  // The PSO itself (as the clinic gets it) records the version and the deviation.
  const ex = await call(env, "GET", `/v1/clinic/exams/${id}`, undefined, { Authorization: "Bearer sk_test_coast" });
  assert.equal(ex.json.exam.outcome, "approved");
  const pso = await call(env, "GET", `/v1/clinic/psos/${ex.json.exam.pso.id}`, undefined, { Authorization: "Bearer sk_test_coast" });
  assert.equal(pso.status, 200, pso.text);
  const doc = JSON.parse(Buffer.from(pso.json.pso.jws.split(".")[1], "base64url").toString()).pso;
  assert.equal(doc.protocols.length, 1);
  assert.equal(doc.protocols[0].version, v);
  assert.equal(doc.protocols[0].signed_by, "md_coast");
  assert.deepEqual(doc.protocols[0].deviations, ['dose: protocol "20 units", ordered "30 units"']);
  assert.equal(doc.orders[0].dose, "30 units");
  assert.deepEqual(errors, []);
  await page.close();
});

test("access: a provider cannot open an exam they do not hold, release puts it back, and another provider's claim is refused", async () => {
  const id = await queuedExam(env, { first_name: "Dee", last_name: "Ng", dob: "1979-03-03", email: "dee@example.com" });
  const md = await providerAuth(env, "prov_tx_md");
  const np = await providerAuth(env, "prov_multi_np");
  const ca = await providerAuth(env, "prov_ca_do");
  for (const who of [md, np, ca]) {
    assert.equal((await call(env, "GET", `/v1/provider/exams/${id}`, undefined, who)).status, 404, "unclaimed exam is not readable");
    assert.equal((await call(env, "GET", `/v1/provider/exams/${id}/history`, undefined, who)).status, 404);
  }
  assert.equal((await call(env, "POST", `/v1/provider/exams/${id}/claim`, undefined, ca)).status, 404, "not eligible in TX");

  // In the browser: the NP claims, the MD's console then cannot open it.
  const { page } = await signedIn("prov_multi_np");
  await page.waitForSelector(row(id), { timeout: 15000 });
  await page.click(`${row(id)} button`);
  await page.waitForSelector("#review");
  assert.equal((await call(env, "GET", `/v1/provider/exams/${id}`, undefined, md)).status, 404);
  assert.equal((await call(env, "POST", `/v1/provider/exams/${id}/claim`, undefined, md)).status, 409);
  // The MD's console, opened on the NP's exam (?exam=…), shows nothing of it.
  const { page: mdPage } = await signedIn("prov_tx_md", `?exam=${id}`);
  await mdPage.waitForSelector("#review-error", { timeout: 15000 });
  assert.match(await mdPage.locator("#review-error").innerText(), /not yours to open/);
  assert.equal(await mdPage.locator("#review, #patient-name, #call").count(), 0);
  assert.doesNotMatch(await mdPage.content(), /\bDee\b|dee@example\.com/, "no patient data on the page");
  assert.doesNotMatch(mdPage.url(), /exam=/, "the address forgets the exam");
  await noViolations(mdPage, "console refused an exam it does not hold");
  await mdPage.close();
  // Release: back in the queue, and gone from the NP's view.
  await page.click("#release");
  await page.waitForSelector("#review", { state: "detached" });
  await page.waitForSelector(row(id), { timeout: 15000 });
  assert.equal((await call(env, "GET", `/v1/provider/exams/${id}`, undefined, np)).status, 404);
  await page.close();
});

test("after a reload the console lists every exam the provider holds (GET /v1/provider/exams), not only the one in the address; another provider sees none of them", async () => {
  const inBrowser = await queuedExam(env, { first_name: "Fay", last_name: "Lund", dob: "1984-04-04", email: "fay@example.com" });
  const byAPI = await queuedExam(env, { first_name: "Gus", last_name: "Moe", dob: "1982-02-02", email: "gus@example.com" });
  const md = await providerAuth(env, "prov_tx_md");
  const { page, errors } = await signedIn();
  await page.waitForSelector(row(inBrowser), { timeout: 15000 });
  await page.click(`${row(inBrowser)} button`);
  await page.waitForSelector("#review");
  assert.match(page.url(), new RegExp(`exam=${inBrowser}`));
  // Claimed elsewhere (another tab, the API): this page does not know it yet.
  assert.equal((await call(env, "POST", `/v1/provider/exams/${byAPI}/claim`, undefined, md)).status, 200);
  assert.equal(await page.locator(`#held button:text-is("Open ${byAPI}")`).count(), 0);

  await page.reload();
  await page.waitForSelector("#signin");
  await signIn(page, "prov_tx_md");
  await page.waitForSelector(`#held button:text-is("Open ${byAPI}")`, { timeout: 15000 });
  await page.waitForSelector(`#held button:text-is("Open ${inBrowser}")`);
  await page.waitForSelector("#review"); // the exam in the address reopens too
  await noViolations(page, "console after a reload with held exams");
  await page.click(`#held button:text-is("Open ${byAPI}")`);
  await page.waitForFunction((id) => location.search.includes("exam=" + id), byAPI);
  await page.waitForSelector("#review");

  const mine = await call(env, "GET", "/v1/provider/exams", undefined, md);
  assert.equal(mine.status, 200, mine.text);
  const ids = mine.json.items.map((it) => it.exam_id);
  assert.ok(ids.includes(inBrowser) && ids.includes(byAPI), ids.join(","));
  assert.ok(mine.json.items.every((it) => !("patient" in it)), "no patient identity in the list");
  const theirs = await call(env, "GET", "/v1/provider/exams", undefined, await providerAuth(env, "prov_multi_np"));
  assert.equal(theirs.status, 200, theirs.text);
  assert.ok(!theirs.json.items.some((it) => it.exam_id === inBrowser || it.exam_id === byAPI), "another provider sees none of them");
  // Released: off the list.
  for (const id of [inBrowser, byAPI]) assert.equal((await call(env, "POST", `/v1/provider/exams/${id}/release`, undefined, md)).status, 200);
  assert.ok(!(await call(env, "GET", "/v1/provider/exams", undefined, md)).json.items.some((it) => it.exam_id === inBrowser || it.exam_id === byAPI));
  assert.deepEqual(errors, []);
  await page.close();
});

test("the console locks when idle, forgets the token and closes its signaling socket (no more video rings)", async () => {
  const { page } = await openConsole("?idle=4");
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws));
  await signIn(page, "prov_tx_md");
  await page.waitForSelector("#video-online[data-state=open]", { timeout: 10000 });
  assert.ok(sockets.some((ws) => /\/v1\/signal/.test(ws.url()) && !ws.isClosed()), "online on the signaling socket");
  await page.waitForSelector("text=Console locked", { timeout: 10000 });
  assert.match(await page.locator("[role=alert]").innerText(), /inactivity/);
  for (let i = 0; i < 50 && sockets.some((ws) => !ws.isClosed()); i++) await page.waitForTimeout(100);
  assert.ok(sockets.every((ws) => ws.isClosed()), "the signaling socket is closed");
  // Nothing of the session remains to call the API with.
  let calls = 0;
  page.on("request", (r) => r.url().includes("/v1/") && calls++);
  await page.waitForTimeout(6000);
  assert.equal(calls, 0, "no API calls after the lock");
  assert.equal(await page.locator("#queue").count(), 0);
  await noViolations(page, "locked console");
  // Signing in again works.
  await page.click("#signin");
  await page.waitForURL(/\/dev\/authorize/);
  await page.click('button[value="prov_tx_md"]');
  await page.waitForSelector("#queue-h");
  await page.close();
});
