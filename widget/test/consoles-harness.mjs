// Harness for the provider console and clinic dashboard browser tests:
// builds and starts the local server (-dev, demo seed with two clinics,
// temporary -data, free loopback port) and launches Debian's chromium
// through playwright-core with a fresh profile.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { AXE, CHROMIUM, apiCall, freePort } from "./harness.mjs";

const repo = new URL("../../", import.meta.url).pathname;

// startConsoles starts a server; opts.dataDir reuses a data folder (kept
// on stop when given), opts.args adds flags (e.g. -dev-clock-offset).
export async function startConsoles(opts = {}) {
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), "gf-console-data-"));
  const profile = mkdtempSync(join(tmpdir(), "gf-console-profile-"));
  let bin = process.env.GOODFAITH_LOCAL_BIN;
  if (!bin) {
    bin = join(dataDir, "goodfaith-local");
    execFileSync("go", ["build", "-o", bin, "./infra/local"], { cwd: repo, stdio: "inherit" });
  }
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ["-addr", `127.0.0.1:${port}`, "-data", dataDir, "-dev", ...(opts.args || [])], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let logs = "";
  server.stdout.on("data", (b) => (out += b));
  server.stderr.on("data", (b) => (logs += b));
  for (let i = 0; i < 300 && !out.includes("clinic dashboard"); i++) {
    if (server.exitCode !== null) throw new Error("local server exited: " + logs);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes("clinic dashboard")) throw new Error("local server did not start: " + out + logs);
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    api,
    browser,
    logs: () => logs,
    async stop() {
      await browser.close().catch(() => {});
      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r() : server.once("exit", r)));
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// call calls the API from Node, as harness.mjs's apiCall does.
export const call = apiCall;

export async function providerAuth(env, id) {
  const r = await call(env, "POST", "/dev/token", { provider_id: id });
  assert.equal(r.status, 200, r.text);
  return { Authorization: "Bearer " + r.json.token };
}

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

export const XSS_NAME = `Ana<img src=x onerror="window.__pwned=1">`;
export const XSS_MEDS = `<script>window.__pwned=2</script><b>bold</b> & aspirin`;

// queuedExam creates, fills (pregnant: a flag; HTML in the medications
// answer; a photo) and submits a TX neurotoxin exam at the demo clinic of
// the publishable key (Glow unless told).
export async function queuedExam(env, patient = {}, key = "pk_test_glow") {
  const p = { first_name: XSS_NAME, last_name: "Lopez", dob: "1988-02-03", email: "ana@example.com", state: "TX", ...patient };
  const c = await call(env, "POST", "/v1/exams", { patient: p, treatments: ["neurotoxin"], modality: "async" }, { "X-Goodfaith-Key": key });
  assert.equal(c.status, 201, c.text);
  const id = c.json.exam.id;
  const auth = { Authorization: "Bearer " + c.json.patient_token };
  const a = await call(env, "POST", `/v1/exams/${id}/attachments`, { kind: "photo", content_type: "image/png", size: PNG.length }, auth);
  assert.equal(a.status, 201, a.text);
  const up = await fetch(a.json.upload_url.startsWith("http") ? a.json.upload_url : env.api + a.json.upload_url, { method: "PUT", headers: a.json.headers, body: PNG });
  assert.ok(up.ok, "photo upload " + up.status);
  const answers = {
    pregnant: true, breastfeeding: false, allergies: false, medications: XSS_MEDS, conditions: "none",
    neuromuscular_disease: false, toxin_allergy: false, site_infection: false, aminoglycosides: false, photos: [a.json.attachment_id],
  };
  const i = await call(env, "PUT", `/v1/exams/${id}/intake`, { answers, consents: { telehealth: true, privacy: true }, modality: "async" }, auth);
  assert.equal(i.status, 200, i.text);
  const s = await call(env, "POST", `/v1/exams/${id}/submit`, undefined, auth);
  assert.equal(s.status, 202, s.text);
  return id;
}

export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return res.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

export async function noViolations(page, where) {
  assert.deepEqual(await axe(page), [], `axe: serious/critical violations on ${where}`);
}

// signIn goes through the dev issuer's sign-in page as subjectID.
export async function signIn(page, subjectID, check) {
  await page.click("#signin");
  await page.waitForURL(/\/dev\/authorize/);
  if (check) await check(page);
  await page.click(`button[value="${subjectID}"]`);
}
