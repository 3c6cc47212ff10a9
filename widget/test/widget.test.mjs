// Browser tests of the patient widget: Debian chromium via playwright-core,
// against the local server (go run ./infra/local -dev) on loopback.
//   cd widget && npm test
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, apiCall, widgetFrame, axeCheck, KEY } from "./harness.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  if (env) await env.stop();
});

// A small valid PNG (1×1).
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

const XSS_FIRST = `Ana<img src=x onerror="window.__pwned=1">`;
const XSS_MEDS = `<script>window.__pwned=2</script><b>bold</b> & aspirin`;

async function openHost(query = "", viewport) {
  const page = await env.browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${env.originA}/page${query}`);
  const frame = await widgetFrame(page, env);
  return { page, frame, errors };
}

async function events(page) {
  return page.evaluate(() => window.__events.filter((e) => e.type !== "message"));
}

async function noA11yViolations(frame, step) {
  const v = await axeCheck(frame);
  assert.deepEqual(v, [], `axe: serious/critical violations on step ${step}`);
}

async function step(frame) {
  return frame.locator("main section h1").innerText();
}

// next presses Continue and waits for the app to render its answer (the
// next step, or this one again with errors).
async function next(frame) {
  await frame.evaluate(() => (document.querySelector("main section").dataset.old = "1"));
  await frame.click("#next");
  await frame.waitForFunction(() => !document.querySelector("main section").dataset.old);
}

async function chooseTreatment(frame, id = "neurotoxin") {
  await frame.check(`input[name=treatment][value=${id}]`);
}

async function fillIdentity(frame, who = {}) {
  const p = { state: "TX", first: "Maria", last: "Garcia", dob: "1990-04-12", email: "maria@example.com", ...who };
  await frame.selectOption("#f-state", p.state);
  await frame.fill("#f-first", p.first);
  await frame.fill("#f-last", p.last);
  await frame.fill("#f-confirmName", `${p.first} ${p.last}`);
  await frame.fill("#f-dob", p.dob);
  await frame.fill("#f-confirmDob", p.dob);
  await frame.fill("#f-email", p.email);
}

// answerAll answers the visible questions: "No" to every yes/no question,
// text where text is asked, and a photo for photo questions.
async function answerAll(frame, texts = {}, { photo = true } = {}) {
  const items = await frame.$$eval(".q:not([hidden])", (els) => els.map((e) => e.id.slice(2)));
  for (const id of items) {
    const q = `#w-${id}`;
    if (await frame.$(`${q} input[type=radio]`)) {
      if (await frame.$(`${q} input[type=radio]:checked`)) continue;
      if (await frame.$(`${q} input[type=radio][value=false]`)) await frame.check(`${q} input[type=radio][value=false]`);
      else await frame.check(`${q} input[type=radio] >> nth=0`);
    } else if (await frame.$(`${q} textarea`)) {
      await frame.fill(`${q} textarea`, texts[id] || "none");
    } else if (await frame.$(`${q} input[type=file]`)) {
      if (!photo) continue;
      await frame.setInputFiles(`${q} input[type=file]`, { name: "face.png", mimeType: "image/png", buffer: PNG });
      await frame.waitForFunction((s) => /1/.test(document.querySelector(s).textContent), `#q-${id}-status`);
    } else if (await frame.$(`${q} input[inputmode]`)) {
      await frame.fill(`${q} input`, "70");
    } else if (await frame.$(`${q} input[type=date]`)) {
      await frame.fill(`${q} input`, "2024-01-01");
    } else if (await frame.$(`${q} input`)) {
      await frame.fill(`${q} input`, texts[id] || "none");
    }
  }
}

async function providerToken(id = "prov_tx_md") {
  const r = await apiCall(env, "POST", "/dev/token", { provider_id: id });
  assert.equal(r.status, 200, r.text);
  return { Authorization: "Bearer " + r.json.token };
}

test("a host page on another origin, under a strict CSP, embeds the widget; the patient completes an async TX exam with a photo; the provider approves; the status page and the host see it without PHI; axe is clean on every step; patient text stays text", async () => {
  const { page, frame, errors } = await openHost();
  assert.notEqual(new URL(page.url()).origin, env.api, "host and widget must be different origins");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "goodfaith:ready"));

  // Contrast guard: the clinic's pale yellow became a readable colour.
  const brand = await frame.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--brand").trim());
  assert.notEqual(brand, "#ffe45c");

  // 1. treatments: an inline error when none is chosen.
  await noA11yViolations(frame, "treatments");
  await frame.click("#next");
  await frame.waitForSelector("#summary");
  assert.match(await frame.locator("#t-0-err").innerText(), /at least one/);
  await noA11yViolations(frame, "treatments with error");
  await chooseTreatment(frame);
  await next(frame);

  // 2. state and identity, name and date of birth checked twice.
  assert.equal(await step(frame), "About you");
  await noA11yViolations(frame, "identity");
  await fillIdentity(frame, { first: XSS_FIRST });
  await frame.fill("#f-confirmDob", "1990-04-21");
  await frame.fill("#f-confirmName", "Ana Garcia");
  await frame.click("#next");
  await frame.waitForSelector("#f-confirmDob-err");
  assert.match(await frame.locator("#f-confirmDob-err").innerText(), /do not match/);
  assert.match(await frame.locator("#f-confirmName-err").innerText(), /does not match/);
  assert.equal(await frame.getAttribute("#f-confirmDob", "aria-invalid"), "true");
  await noA11yViolations(frame, "identity with errors");
  await frame.fill("#f-confirmDob", "1990-04-12");
  await frame.fill("#f-confirmName", `${XSS_FIRST} Garcia`);
  await next(frame);

  // 3. questionnaire; a "yes" reveals its follow-up (enableWhen).
  assert.equal(await step(frame), "Your health history");
  assert.equal(await frame.isHidden("#w-allergy_details"), true);
  await frame.check("#w-allergies input[value=true]");
  assert.equal(await frame.isVisible("#w-allergy_details"), true);
  await frame.click("#next");
  await frame.waitForSelector("#q-allergy_details-err");
  await noA11yViolations(frame, "questions with errors");
  await frame.fill("#q-allergy_details", "penicillin: hives");
  await answerAll(frame, { medications: XSS_MEDS });
  await noA11yViolations(frame, "questions answered");
  await next(frame);

  // 4. consent.
  assert.equal(await step(frame), "Consent and privacy");
  await noA11yViolations(frame, "consent");
  await frame.click("#next");
  await frame.waitForSelector("#c-telehealth-err");
  await frame.check("#c-telehealth");
  await frame.check("#c-privacy");
  await next(frame);

  // 5. modality: only what the rules allow; async shows the expected wait.
  assert.equal(await step(frame), "How would you like to be seen?");
  await noA11yViolations(frame, "modality");
  assert.match(await frame.locator("#m-0-note").innerText(), /expected wait/);
  assert.equal(await frame.isChecked("#m-0"), true);
  await next(frame);

  // 6. review: patient text is shown as text, never as markup.
  assert.equal(await step(frame), "Review and submit");
  await noA11yViolations(frame, "review");
  const you = await frame.locator("#review-you").innerText();
  assert.ok(you.includes(XSS_FIRST), "the first name is shown literally");
  const answers = await frame.locator("#review-answers").innerText();
  assert.ok(answers.includes(XSS_MEDS), "the medications answer is shown literally");
  assert.equal(await frame.locator("#review-answers b, #review-answers script, main img").count(), 0, "no element came from patient text");
  assert.match(answers, /1 photo/);
  await frame.click("#next");

  // 7. status: submitted, then the provider's approval arrives by itself.
  await frame.waitForSelector("#state");
  assert.match(await frame.locator("#state").innerText(), /in line|Finding/);
  assert.ok((await frame.locator("#thanks").innerText()).includes(XSS_FIRST));
  await noA11yViolations(frame, "status (queued)");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "goodfaith:submitted"));

  const md = await providerToken();
  const queue = await apiCall(env, "GET", "/v1/provider/queue", undefined, md);
  assert.equal(queue.status, 200, queue.text);
  const examId = queue.json.items[0].exam_id;
  assert.ok(queue.json.items[0].flags.some((f) => f.code === "allergy"), "the allergy became a flag");
  assert.equal((await apiCall(env, "POST", `/v1/provider/exams/${examId}/claim`, undefined, md)).status, 200);
  const full = await apiCall(env, "GET", `/v1/provider/exams/${examId}`, undefined, md);
  assert.equal(full.json.exam.attachments.length, 1, "the photo reached the provider");
  assert.equal(full.json.exam.answers.medications, XSS_MEDS);
  const dec = await apiCall(env, "POST", `/v1/provider/exams/${examId}/decision`, {
    outcome: "approved",
    notes: "ok",
    orders: [{ treatment: "neurotoxin", product: "onabotulinumtoxinA", dose: "20 units", route: "intramuscular", areas: ["glabella"], frequency: "every 12 weeks", quantity: 20, refills: 3, valid_days: 180 }],
    attestation: { accepted: true },
  }, md);
  assert.equal(dec.status, 201, dec.text);

  await frame.waitForSelector("#outcome.approved", { timeout: 15000 });
  assert.match(await frame.locator("#outcome").innerText(), /Approved/);
  await noA11yViolations(frame, "status (approved)");
  await page.waitForFunction(() => window.__events.some((e) => e.type === "goodfaith:decided"));

  // The host page got events without any patient data, and no PHI is in
  // its DOM; nothing patient-entered ran as script anywhere.
  const evs = await page.evaluate(() => window.__events);
  const phi = ["Garcia", "Ana", "maria@example.com", "1990-04-12", "aspirin", "penicillin", examId];
  for (const e of evs) for (const p of phi) assert.ok(!e.detail.includes(p), `event ${e.type} carries ${p}: ${e.detail}`);
  assert.deepEqual([...new Set((await events(page)).map((e) => e.type))], ["goodfaith:ready", "goodfaith:submitted", "goodfaith:decided"]);
  const hostHTML = await page.content();
  for (const p of phi) assert.ok(!hostHTML.includes(p), `host DOM contains ${p}`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(await page.evaluate(() => window.__violations), [], "the host's strict CSP was respected");
  assert.deepEqual(errors, []);
  // The logs carry no PHI either.
  for (const p of ["Garcia", "maria@example.com", "aspirin"]) assert.ok(!env.logs().includes(p), `server logs contain ${p}`);
  await page.close();
});

test("Texas needs photos for an online review: the photo question says so up front, and an online review cannot go on without one (before any submit); a deferral shows the provider's reason as text", async () => {
  const { page, frame } = await openHost();
  await chooseTreatment(frame);
  await next(frame);
  await fillIdentity(frame, { first: "Lee", last: "Park", email: "lee@example.com" });
  await next(frame);
  // Known from the widget config's rules, before anything is submitted.
  assert.match(await frame.locator("#q-photos-req").innerText(), /Required for an online review in your state/);
  assert.match(await frame.getAttribute("#q-photos", "aria-describedby"), /q-photos-req/);
  await answerAll(frame, {}, { photo: false });
  await next(frame);
  await frame.check("#c-telehealth");
  await frame.check("#c-privacy");
  await next(frame);
  // The online review is chosen: without a photo it goes back to the photo
  // question instead of on to review and submit.
  assert.equal(await step(frame), "How would you like to be seen?");
  assert.equal(await frame.isChecked("#m-0"), true);
  await next(frame);
  assert.equal(await step(frame), "Your health history");
  assert.match(await frame.locator("#q-photos-err").innerText(), /Photos are required/);
  assert.equal(await frame.getAttribute("#q-photos", "aria-invalid"), "true");
  await noA11yViolations(frame, "photo required");
  const drafts = await apiCall(env, "GET", "/v1/clinic/exams?status=draft", undefined, { Authorization: "Bearer sk_test_widget" });
  assert.equal(drafts.status, 200, drafts.text);
  assert.ok(drafts.json.items.some((i) => i.patient.first_name === "Lee"), "Lee's exam is still a draft: nothing was submitted");
  // A file of the wrong type is refused before any upload.
  await frame.setInputFiles("#q-photos", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
  assert.match(await frame.locator("#q-photos-status").innerText(), /JPEG, PNG or HEIC/);
  await frame.setInputFiles("#q-photos", { name: "face.png", mimeType: "image/png", buffer: PNG });
  await frame.waitForFunction(() => /1 photo/.test(document.getElementById("q-photos-status").textContent));
  for (let i = 0; i < 4; i++) await next(frame);
  await frame.waitForSelector("#state");

  const md = await providerToken();
  const queue = await apiCall(env, "GET", "/v1/provider/queue", undefined, md);
  const examId = queue.json.items.map((i) => i.exam_id).at(-1);
  assert.equal((await apiCall(env, "POST", `/v1/provider/exams/${examId}/claim`, undefined, md)).status, 200);
  const reason = `<b>Please</b> visit in person <img src=x onerror="window.__pwned=3">`;
  const dec = await apiCall(env, "POST", `/v1/provider/exams/${examId}/decision`, { outcome: "deferred", reason, attestation: { accepted: true } }, md);
  assert.equal(dec.status, 200, dec.text);
  await frame.waitForSelector("#outcome.deferred", { timeout: 15000 });
  assert.match(await frame.locator("#outcome").innerText(), /Deferred/);
  assert.equal(await frame.locator("#reason").innerText(), reason);
  assert.equal(await frame.locator("#reason *").count(), 0);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  await noA11yViolations(frame, "status (deferred)");
  await page.close();
});

test("Spanish: the widget speaks Spanish, errors included, and stays accessible", async () => {
  const { page, frame } = await openHost("?lang=es");
  assert.equal(await frame.evaluate(() => document.documentElement.lang), "es");
  assert.equal(await step(frame), "¿Qué tratamientos le interesan?");
  await frame.click("#next");
  await frame.waitForSelector("#t-0-err");
  assert.equal(await frame.locator("#t-0-err").innerText(), "Elija al menos un tratamiento.");
  await noA11yViolations(frame, "es treatments");
  await chooseTreatment(frame);
  await next(frame);
  assert.equal(await step(frame), "Sus datos");
  await fillIdentity(frame, { first: "José", last: "Núñez", email: "jose@example.com" });
  await next(frame);
  assert.equal(await step(frame), "Su historial médico");
  assert.equal(await frame.locator("#w-pregnant label").first().innerText(), "Sí");
  // The questions themselves are in Spanish (the questionnaires' FHIR
  // translations), photo question and its requirement included.
  const legend = async (id) => (await frame.locator(`#w-${id} legend`).innerText()).replace(/\s*\*$/, "");
  assert.equal(await legend("pregnant"), "¿Está embarazada o intentando quedar embarazada?");
  assert.match(await frame.locator("#w-neuromuscular_disease legend").innerText(), /^¿Tiene alguna enfermedad neuromuscular/);
  assert.match(await frame.locator("#w-photos label").innerText(), /^Fotos de la zona a tratar/);
  assert.match(await frame.locator("#q-photos-req").innerText(), /Obligatorio para una revisión en línea/);
  const english = await frame.$$eval(".q legend, .q label[for]", (els) => els.map((e) => e.textContent).filter((x) => /\b(Are|Do|Have|you)\b/.test(x)));
  assert.deepEqual(english, [], "questions left in English");
  await noA11yViolations(frame, "es questions");
  // Switching language keeps the answers and the step.
  await frame.check("#w-pregnant input[value=false]");
  await frame.selectOption("#lang", "en");
  assert.equal(await step(frame), "Your health history");
  assert.equal(await legend("pregnant"), "Are you pregnant or trying to become pregnant?");
  assert.equal(await frame.isChecked("#w-pregnant input[value=false]"), true);
  await page.close();
});

test("320 px wide: every step fits without horizontal scrolling and stays accessible", async () => {
  const { page, frame } = await openHost("", { width: 320, height: 640 });
  const fits = async (name) => {
    const [sw, cw] = await frame.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${name}: content ${sw}px wide in a ${cw}px frame`);
    const [hs, hc] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(hs <= hc, `${name}: host page scrolls sideways (${hs} > ${hc})`);
  };
  await fits("treatments");
  await chooseTreatment(frame);
  await chooseTreatment(frame, "glp1");
  await next(frame);
  await fits("identity");
  await fillIdentity(frame, { email: "narrow@example.com" });
  await next(frame);
  await fits("questions");
  await noA11yViolations(frame, "320px questions");
  await answerAll(frame);
  await next(frame);
  await frame.check("#c-telehealth");
  await frame.check("#c-privacy");
  await fits("consent");
  await next(frame);
  await fits("modality");
  await next(frame);
  await fits("review");
  await noA11yViolations(frame, "320px review");
  // The frame grew to its content (no inner scrollbar).
  const frameH = await page.evaluate(() => document.querySelector("iframe").getBoundingClientRect().height);
  const bodyH = await frame.evaluate(() => document.body.getBoundingClientRect().height);
  assert.ok(frameH >= bodyH, `frame ${frameH}px shorter than its content ${bodyH}px`);
  await page.close();
});

test("a reload mid-questionnaire resumes where the patient was, answers kept", async () => {
  const { page, frame } = await openHost();
  await chooseTreatment(frame);
  await next(frame);
  await fillIdentity(frame, { email: "reload@example.com" });
  await next(frame);
  await frame.check("#w-pregnant input[value=false]");
  await frame.check("#w-allergies input[value=true]");
  await frame.fill("#q-allergy_details", "latex <i>rash</i>");
  await page.reload();
  const again = await widgetFrame(page, env);
  assert.equal(await step(again), "Your health history");
  assert.equal(await again.isChecked("#w-pregnant input[value=false]"), true);
  assert.equal(await again.isChecked("#w-allergies input[value=true]"), true);
  assert.equal(await again.inputValue("#q-allergy_details"), "latex <i>rash</i>");
  // The host page's own storage holds nothing of it.
  const hostStorage = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  assert.ok(!hostStorage.includes("latex") && !hostStorage.includes("reload@example.com"), hostStorage);
  await page.close();
});

test("a host page on an origin the clinic did not allow is refused", async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.originB}/page`);
  const handle = await page.waitForSelector("iframe");
  await page.waitForTimeout(1500);
  const frame = await handle.contentFrame();
  // The browser blocks the frame (frame-ancestors): no app renders in it.
  const rendered = frame ? await frame.$("main section h1").catch(() => null) : null;
  assert.equal(rendered, null, "the frame rendered on a disallowed origin");
  assert.deepEqual(await events(page), [], "a refused frame sends no events");
  // And the API refuses the key from that origin.
  const r = await apiCall(env, "GET", "/v1/widget/config", undefined, { "X-Goodfaith-Key": KEY, Origin: env.originB });
  assert.equal(r.status, 403, r.text);
  await page.close();
});

test("button mode opens the widget as a dialog that Escape closes, returning focus", async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.originA}/page?mode=button`);
  const button = await page.waitForSelector("button.goodfaith-button");
  assert.equal(await page.$("iframe"), null, "no frame before the button is used");
  await button.click();
  const frame = await widgetFrame(page, env);
  await page.waitForFunction(() => window.__events.some((e) => e.type === "goodfaith:ready"));
  assert.equal(await page.getAttribute("[role=dialog]", "aria-modal"), "true");
  await noA11yViolations(frame, "dialog");
  // Escape inside the frame closes the dialog and focus returns to the button.
  await frame.focus("#next");
  await page.keyboard.press("Escape");
  await page.waitForSelector("[role=dialog]", { state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.className), "goodfaith-button");
  // The close button does the same.
  await page.click("button.goodfaith-button");
  await widgetFrame(page, env);
  await page.click("[role=dialog] button[aria-label=Close]");
  await page.waitForSelector("[role=dialog]", { state: "detached" });
  assert.deepEqual((await events(page)).map((e) => e.type).filter((t) => t !== "goodfaith:ready"), ["goodfaith:close"]);
  await page.close();
});

test("the local server's demo clinic page embeds the widget cross-origin", async () => {
  const page = await env.browser.newPage();
  const violations = [];
  page.on("console", (m) => m.type() === "error" && violations.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && violations.push(r.status() + " " + r.url()));
  await page.goto(`${env.demoOrigin}/demo/`);
  const frame = await widgetFrame(page, env);
  assert.equal(await step(frame), "Which treatments are you interested in?");
  await page.waitForSelector("#events li");
  assert.match(await page.locator("#events").innerText(), /goodfaith:ready/);
  assert.deepEqual(violations.filter((v) => !v.startsWith("Failed to load resource")), []);
  await page.close();
});

test("where an online review is the only way (clinic's tightened TX rules), the photo question is required up front and blocks the questions step; GLP-1, whose questionnaire has no photo question, gets one whose photo reaches the provider", async () => {
  const sk = { Authorization: "Bearer sk_test_widget" };
  const put = await apiCall(env, "PUT", "/v1/clinic/rules", { rules: [{ state: "TX", treatment: "glp1", modalities: ["async"] }] }, sk);
  assert.equal(put.status, 200, put.text);
  try {
    const { page, frame } = await openHost();
    await chooseTreatment(frame, "glp1");
    await next(frame);
    await fillIdentity(frame, { first: "Rosa", last: "Diaz", email: "rosa@example.com" });
    await next(frame);
    assert.equal(await step(frame), "Your health history");
    // The widget's own photo question, required (asterisk) before any submit.
    assert.match(await frame.locator("#w-_photos label").innerText(), /Photos of yourself.*\*/s);
    assert.match(await frame.locator("#q-_photos-req").innerText(), /Required: your state's rules need photos/);
    await answerAll(frame, {}, { photo: false });
    await frame.click("#next");
    await frame.waitForSelector("#q-_photos-err");
    assert.equal(await step(frame), "Your health history");
    assert.match(await frame.locator("#q-_photos-err").innerText(), /Photos are required/);
    await noA11yViolations(frame, "extra photo question required");
    await frame.setInputFiles("#q-_photos", { name: "me.png", mimeType: "image/png", buffer: PNG });
    await frame.waitForFunction(() => /1 photo/.test(document.getElementById("q-_photos-status").textContent));
    await next(frame);
    assert.equal(await step(frame), "Consent and privacy");
    await frame.check("#c-telehealth");
    await frame.check("#c-privacy");
    await next(frame);
    assert.equal(await frame.isDisabled("#m-1"), true, "video is not offered");
    await next(frame);
    assert.equal(await step(frame), "Review and submit");
    assert.match(await frame.locator("#review-answers").innerText(), /1 photo/);
    await next(frame);
    await frame.waitForSelector("#state");

    const md = await providerToken();
    const queue = await apiCall(env, "GET", "/v1/provider/queue", undefined, md);
    const item = queue.json.items.find((i) => i.treatments.includes("glp1"));
    assert.ok(item, queue.text);
    assert.equal((await apiCall(env, "POST", `/v1/provider/exams/${item.exam_id}/claim`, undefined, md)).status, 200);
    const full = await apiCall(env, "GET", `/v1/provider/exams/${item.exam_id}`, undefined, md);
    assert.equal(full.json.exam.attachments.length, 1, "the photo reached the provider");
    assert.equal(full.json.exam.answers._photos, undefined, "the widget's own question is not an answer");
    await page.close();
  } finally {
    const reset = await apiCall(env, "PUT", "/v1/clinic/rules", { rules: [] }, sk);
    assert.equal(reset.status, 200, reset.text);
  }
});

test("an invite link (/widget/?exam=…#patient_token=…) resumes the clinic's draft: the token leaves the address bar, the details are the clinic's, a reload keeps going, and the patient completes the intake", async () => {
  const sk = { Authorization: "Bearer sk_test_widget" };
  const inv = await apiCall(env, "POST", "/v1/clinic/invites", {
    patient: { first_name: "Inés", last_name: "Rivera", dob: "1985-07-09", email: "ines@example.com", state: "TX" },
    treatments: ["neurotoxin"],
  }, sk);
  assert.equal(inv.status, 201, inv.text);
  const link = new URL(inv.json.url);
  assert.equal(link.origin + link.pathname, env.api + "/widget/");
  const token = new URLSearchParams(link.hash.slice(1)).get("patient_token");
  assert.ok(token && link.searchParams.get("exam") === inv.json.exam_id, inv.json.url);

  const page = await env.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const sent = [];
  page.on("request", (r) => sent.push(r.url() + " " + JSON.stringify(r.headers()["referer"] || "")));
  await page.goto(inv.json.url);
  await page.waitForSelector("main section h1");
  // Straight to the questionnaire; the token is gone from the address bar.
  assert.equal(await page.locator("main section h1").innerText(), "Your health history");
  assert.ok(!page.url().includes(token) && !page.url().includes("#"), page.url());
  assert.equal(await page.evaluate(() => location.hash), "");
  for (const r of sent) assert.ok(!r.includes(token), "the token went out in a URL or referrer: " + r);
  await noA11yViolations(page, "invite questions");
  // TX requires photos for an online review: said up front here too.
  assert.match(await page.locator("#q-photos-req").innerText(), /Required for an online review/);
  await page.check("#w-pregnant input[value=false]");
  // A reload (the fragment is gone) keeps the exam and the answers.
  await page.reload();
  await page.waitForSelector("main section h1");
  assert.equal(await page.locator("main section h1").innerText(), "Your health history");
  assert.equal(await page.isChecked("#w-pregnant input[value=false]"), true);
  // The clinic's details, read-only, with no way to start over.
  await page.click("button.secondary");
  await page.waitForSelector("#f-first");
  assert.equal(await page.inputValue("#f-first"), "Inés");
  assert.equal(await page.inputValue("#f-dob"), "1985-07-09");
  assert.equal(await page.getAttribute("#f-first", "readonly"), "");
  assert.match(await page.locator("main section .hint").first().innerText(), /Your clinic entered these details/);
  assert.equal(await page.locator("text=Start over").count(), 0);
  await next(page);
  await answerAll(page);
  await next(page);
  await page.check("#c-telehealth");
  await page.check("#c-privacy");
  await next(page);
  await next(page);
  assert.equal(await page.locator("main section h1").innerText(), "Review and submit");
  assert.match(await page.locator("#review-you").innerText(), /Rivera/);
  await next(page);
  await page.waitForSelector("#state");
  assert.match(await page.locator("#thanks").innerText(), /Inés/);

  const ex = await apiCall(env, "GET", `/v1/clinic/exams/${inv.json.exam_id}`, undefined, sk);
  assert.equal(ex.status, 200, ex.text);
  assert.notEqual(ex.json.exam.status, "draft", "the invited exam was submitted");
  assert.deepEqual(errors, []);
  await page.close();

  // A link without its token, or with a bad one, says so plainly.
  const bad = await env.browser.newPage();
  await bad.goto(`${env.api}/widget/?exam=${inv.json.exam_id}#patient_token=not-a-token`);
  await bad.waitForSelector("#load-error");
  assert.match(await bad.locator("#load-error").innerText(), /expired or is no longer valid/);
  assert.equal(await bad.evaluate(() => location.hash), "");
  await bad.close();
});
