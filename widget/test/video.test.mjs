// Browser tests of the patient's video visit: Chromium with a fake camera
// and microphone against the local server (-dev), with a Pion provider
// (go run ./infra/videopeer) and, browser to browser, with the provider
// console's call panel in a second browser context.
//   cd widget && npm test
//
// On a loopback-only network Chromium needs --allow-loopback-in-peer-
// connection and the camera granted (else it hides its addresses behind
// mDNS names and never connects); every WebRTC wait has its own timeout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { start, apiCall, widgetFrame, axeCheck, CHROMIUM } from "./harness.mjs";
import { signIn } from "./consoles-harness.mjs";

const repo = new URL("../../", import.meta.url).pathname;
const MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection"];
const PERMISSIONS = ["camera", "microphone"];
const WAIT = 20000; // each WebRTC or signaling wait

let env;
let bin;
let binDir;
before(async () => {
  env = await start({ args: MEDIA_ARGS, permissions: PERMISSIONS });
  binDir = mkdtempSync(join(tmpdir(), "gf-videopeer-"));
  bin = join(binDir, "videopeer");
  execFileSync("go", ["build", "-o", bin, "./infra/videopeer"], { cwd: repo, stdio: "inherit" });
});
after(async () => {
  if (env) await env.stop();
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

// Every frame of the page records its peer connections and sockets, so
// the test can read RTP statistics and drop the signaling socket.
function instrument() {
  const PC = window.RTCPeerConnection;
  const WS = window.WebSocket;
  window.__pcs = [];
  window.__sockets = [];
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
  if (PC)
    window.RTCPeerConnection = class extends PC {
      constructor(...a) {
        super(...a);
        window.__pcs.push(this);
      }
    };
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      window.__sockets.push(this);
    }
  };
}

// rtpIn counts the RTP packets received on the newest peer connection
// (kind: "video" or "audio"), and rtpOut those sent.
async function rtp(frame) {
  return frame.evaluate(async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    const out = { in: 0, out: 0, state: pc ? pc.connectionState : "none", pcs: window.__pcs.length };
    if (!pc) return out;
    (await pc.getStats()).forEach((v) => {
      if (v.type === "inbound-rtp" && v.kind === "video") out.in += v.packetsReceived || 0;
      if (v.type === "outbound-rtp" && v.kind === "video") out.out += v.packetsSent || 0;
    });
    return out;
  });
}

async function rtpFlows(frame, what) {
  const a = await rtp(frame);
  const deadline = Date.now() + WAIT;
  for (;;) {
    const b = await rtp(frame);
    if (b.in >= a.in + 20 && b.out >= a.out + 20) return b;
    if (Date.now() > deadline) assert.fail(`${what}: RTP not flowing both ways in the browser: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function noA11yViolations(frame, step) {
  assert.deepEqual(await axeCheck(frame), [], `axe: serious/critical violations on ${step}`);
}

async function fits(frame, step) {
  const o = await frame.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(o.sw <= o.cw, `${step}: horizontal scrolling at ${o.cw}px (${o.sw})`);
}

async function phase(frame, want, timeout = WAIT) {
  await frame.waitForFunction((w) => {
    const el = document.getElementById("video-status");
    return el && w.split("|").includes(el.dataset.phase);
  }, want, { timeout });
}

// videopeer runs the Pion provider; next(event) waits for one of its
// output lines, send(cmd) gives it a command.
function videopeer() {
  const p = spawn(bin, ["-url", env.api, "-wait", "20s", "-timeout", "3m"], { stdio: ["pipe", "pipe", "pipe"] });
  const lines = [];
  const waiters = [];
  let stderr = "";
  p.stderr.on("data", (b) => (stderr += b));
  createInterface({ input: p.stdout }).on("line", (l) => {
    let ev;
    try {
      ev = JSON.parse(l);
    } catch {
      return;
    }
    lines.push(ev);
    waiters.splice(0).forEach((w) => w());
  });
  p.on("exit", () => waiters.splice(0).forEach((w) => w()));
  return {
    async next(event, timeout = WAIT + 5000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const i = lines.findIndex((e) => e.event === event || e.event === "error");
        if (i >= 0) {
          const [ev] = lines.splice(i, 1);
          if (ev.event === "error") assert.fail(`videopeer: ${ev.error}\n${stderr}`);
          return ev;
        }
        if (p.exitCode !== null) assert.fail(`videopeer exited (${p.exitCode}) before ${event}: ${stderr}`);
        if (Date.now() > deadline) assert.fail(`videopeer: no ${event} within ${timeout} ms; got ${JSON.stringify(lines)}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 250);
        });
      }
    },
    send(cmd) {
      p.stdin.write(cmd + "\n");
    },
    stop() {
      if (p.exitCode === null) p.kill("SIGTERM");
    },
  };
}

// patientToVideo takes the patient through the exam, choosing a video
// visit, and submits it; the status page then starts the video visit.
async function patientToVideo(frame, who = {}) {
  const next = async () => {
    await frame.evaluate(() => (document.querySelector("main section").dataset.old = "1"));
    await frame.click("#next");
    await frame.waitForFunction(() => !document.querySelector("main section") || !document.querySelector("main section").dataset.old);
  };
  await frame.check("input[name=treatment][value=neurotoxin]");
  await next();
  const p = { first: "Maria", last: "Garcia", ...who };
  await frame.selectOption("#f-state", "TX");
  await frame.fill("#f-first", p.first);
  await frame.fill("#f-last", p.last);
  await frame.fill("#f-confirmName", `${p.first} ${p.last}`);
  await frame.fill("#f-dob", "1990-04-12");
  await frame.fill("#f-confirmDob", "1990-04-12");
  await frame.fill("#f-email", "maria@example.com");
  await next();
  for (const id of await frame.$$eval(".q:not([hidden])", (els) => els.map((e) => e.id.slice(2)))) {
    const q = `#w-${id}`;
    if (await frame.$(`${q} input[type=radio][value=false]`)) await frame.check(`${q} input[type=radio][value=false]`);
    else if (await frame.$(`${q} input[type=radio]`)) await frame.check(`${q} input[type=radio] >> nth=0`);
    else if (await frame.$(`${q} textarea`)) await frame.fill(`${q} textarea`, "none");
    else if (await frame.$(`${q} input[inputmode]`)) await frame.fill(`${q} input`, "70");
    else if (await frame.$(`${q} input[type=date]`)) await frame.fill(`${q} input`, "2024-01-01");
    else if (await frame.$(`${q} input:not([type=file])`)) await frame.fill(`${q} input`, "none");
  }
  await next();
  await frame.check("#c-telehealth");
  await frame.check("#c-privacy");
  await next();
  assert.equal(await frame.isDisabled("#m-1"), false, "video is offered");
  await frame.check("#m-1");
  await next();
  await frame.click("#next"); // submit
  await frame.waitForSelector("#video-status", { timeout: 10000 });
}

async function openPatient(browser, { width = 320, query = "" } = {}) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.addInitScript(instrument);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${env.originA}/page${query}`);
  const frame = await widgetFrame(page, env);
  return { page, frame, errors };
}

test("video visit with a Pion provider at 320 px: camera check, waiting room with position, call with RTP both ways, mute and camera toggles, a network blip reconnects without losing the exam, the decision shows; axe clean throughout", { timeout: 180000 }, async () => {
  const prov = videopeer();
  try {
    await prov.next("ready");
    const { page, frame, errors } = await openPatient(env.browser);
    await patientToVideo(frame);
    const examId = await frame.evaluate(() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith("goodfaith:")))).examId);
    assert.match(examId, /\S/);

    // 1. The camera and microphone check.
    await phase(frame, "check");
    assert.equal(await frame.locator("#video h1").innerText(), "Check your camera and microphone");
    await noA11yViolations(frame, "camera check");
    await fits(frame, "camera check");
    await frame.click("#camera-check");
    await phase(frame, "ready");
    await frame.waitForFunction(() => {
      const v = document.getElementById("local-video");
      return v.srcObject && v.videoWidth > 0 && !v.paused;
    }, null, { timeout: WAIT });
    await noA11yViolations(frame, "camera ready");
    await fits(frame, "camera ready");

    // 2. The waiting room: the provider is rung; the patient's place shows.
    const joinedAt = await frame.evaluate(() => performance.now());
    await frame.click("#join-waiting");
    await phase(frame, "waiting");
    assert.equal(await frame.locator("#video h1").innerText(), "You are in the waiting room");
    assert.match(await frame.locator("#position").innerText(), /next in line/);
    const rung = await prov.next("rung");
    assert.equal(rung.exam_id, examId);
    await noA11yViolations(frame, "waiting room");
    await fits(frame, "waiting room");

    // A blip in the waiting room: a new socket joins again, still in line.
    const before = await frame.evaluate(() => window.__sockets.length);
    await page.context().setOffline(true);
    await frame.evaluate(() => window.__sockets.forEach((s) => s.close()));
    await phase(frame, "reconnecting");
    await page.context().setOffline(false);
    await phase(frame, "waiting");
    assert.ok((await frame.evaluate(() => window.__sockets.length)) > before, "a new socket");
    assert.match(await frame.locator("#position").innerText(), /next in line/);

    // 3. The provider accepts: the call connects, video flows both ways.
    prov.send("accept");
    await phase(frame, "call");
    const browserMs = Math.round((await frame.evaluate(() => performance.now())) - joinedAt);
    const conn = await prov.next("connected");
    const got = await prov.next("rtp");
    assert.ok(got.received >= 30, "the Pion provider received the browser's RTP");
    const r1 = await rtpFlows(frame, "call");
    console.log(`# time to connected: Pion provider ${conn.ms} ms from its dial; browser ${browserMs} ms from joining the waiting room (provider accepting in between)`);
    await frame.waitForFunction(() => {
      const v = document.getElementById("remote-video");
      return !v.hidden && v.srcObject && v.srcObject.getVideoTracks().length > 0;
    }, null, { timeout: WAIT });
    prov.send("data");
    await prov.next("data");
    await noA11yViolations(frame, "call");
    await fits(frame, "call");
    assert.equal((await apiCall(env, "GET", `/v1/exams/${examId}`, undefined, { Authorization: "Bearer " + (await token(frame)) })).json.exam.status, "in_consult");

    // Mute and camera toggles say so and stop the tracks' content.
    await frame.click("#mute");
    assert.equal(await frame.getAttribute("#mute", "aria-pressed"), "true");
    assert.match(await frame.locator("#video-status").innerText(), /Microphone is muted/);
    assert.equal(await frame.evaluate(() => document.getElementById("local-video").srcObject.getAudioTracks()[0].enabled), false);
    await frame.click("#camera");
    assert.equal(await frame.getAttribute("#camera", "aria-pressed"), "true");
    assert.equal(await frame.evaluate(() => document.getElementById("local-video").srcObject.getVideoTracks()[0].enabled), false);
    await noA11yViolations(frame, "call, muted and camera off");
    await frame.click("#mute");
    await frame.click("#camera");
    assert.equal(await frame.getAttribute("#mute", "aria-pressed"), "false");
    assert.equal(await frame.evaluate(() => document.getElementById("local-video").srcObject.getAudioTracks()[0].enabled), true);

    // 4. A network blip: the socket drops and the network is down a moment.
    // The widget reconnects on a new socket, joins again, and the provider
    // offers again: a new peer connection, the same exam.
    const sockets = await frame.evaluate(() => window.__sockets.length);
    await page.context().setOffline(true);
    await frame.evaluate(() => window.__sockets.forEach((s) => s.close()));
    await phase(frame, "reconnecting");
    await noA11yViolations(frame, "reconnecting");
    await new Promise((r) => setTimeout(r, 1500));
    await page.context().setOffline(false);
    await frame.waitForFunction((n) => window.__sockets.length > n && window.__sockets[window.__sockets.length - 1].readyState === 1, sockets, { timeout: WAIT });
    await frame.waitForFunction((n) => window.__pcs.length > n, r1.pcs, { timeout: WAIT });
    await phase(frame, "call");
    prov.send("rtp");
    await prov.next("rtp");
    await rtpFlows(frame, "after the blip");
    assert.equal(await frame.evaluate(() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith("goodfaith:")))).examId), examId, "the same exam");

    // 5. The provider decides: the call ends and the decision shows.
    prov.send("decide deferred");
    await prov.next("decided");
    await frame.waitForSelector("#outcome.deferred", { timeout: 15000 });
    assert.match(await frame.locator("#reason").innerText(), /recent photo/);
    assert.equal(await frame.$("#video"), null, "the video visit is gone");
    assert.equal(await frame.evaluate(() => window.__pcs.every((pc) => pc.connectionState === "closed")), true, "no peer connection left open");
    await noA11yViolations(frame, "decision");
    assert.deepEqual(errors, []);
    assert.deepEqual(await page.evaluate(() => window.__violations), [], "no CSP violation on the host");
    assert.deepEqual(await frame.evaluate(() => window.__csp), [], "no CSP violation in the frame (socket, media, WebRTC)");
    await page.close();
  } finally {
    prov.stop();
  }
});

async function token(frame) {
  return frame.evaluate(() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith("goodfaith:")))).token);
}

test("the camera check explains a blocked camera (en/es) and lets the patient try again", { timeout: 120000 }, async () => {
  // A context without the camera granted and with the fake UI off: the
  // browser refuses getUserMedia as a blocked permission does.
  const profile = mkdtempSync(join(tmpdir(), "gf-video-denied-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--use-fake-device-for-media-stream", "--deny-permission-prompts"],
  });
  try {
    for (const lang of ["en", "es"]) {
      const { page, frame } = await openPatient(ctx, { query: lang === "es" ? "?lang=es" : "" });
      await patientToVideo(frame, { first: lang === "es" ? "Lucía" : "Maria" });
      await phase(frame, "check");
      await frame.click("#camera-check");
      await phase(frame, "denied");
      const help = await frame.locator("#video-help [role=alert]").innerText();
      if (lang === "en") {
        assert.match(help, /blocked the camera/);
        assert.match(help, /address bar/);
        assert.match(await frame.locator("#camera-check").innerText(), /Try again/);
      } else {
        assert.match(help, /bloqueó la cámara/);
        assert.match(help, /barra de direcciones/);
        assert.match(await frame.locator("#camera-check").innerText(), /Intentar de nuevo/);
      }
      await noA11yViolations(frame, `camera blocked (${lang})`);
      await fits(frame, `camera blocked (${lang})`);
      // Allowing it and trying again works.
      await ctx.grantPermissions(PERMISSIONS); // (an iframe asks as its embedder)
      await frame.click("#camera-check");
      await phase(frame, "ready");
      await ctx.clearPermissions();
      await page.close();
    }
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

// providerConsole opens the provider console in its own browser context
// (fresh profile, fake camera, camera and microphone granted), signs in as
// the provider and waits until the console's signaling socket is online.
async function providerConsole(provider = "prov_tx_md") {
  const profile = mkdtempSync(join(tmpdir(), "gf-video-provider-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", ...MEDIA_ARGS],
    permissions: PERMISSIONS,
  });
  const page = await ctx.newPage();
  await page.addInitScript(instrument);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${env.api}/console/`);
  await consoleSignIn(page, provider);
  return {
    ctx,
    page,
    errors,
    async close() {
      await ctx.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function consoleSignIn(page, provider) {
  await page.waitForSelector("#signin", { timeout: WAIT });
  await signIn(page, provider);
  await page.waitForSelector("#queue-h", { timeout: WAIT });
  await page.waitForSelector("#video-online[data-state=open]", { timeout: WAIT });
}

async function callPhase(page, want, timeout = WAIT) {
  await page.waitForFunction((w) => {
    const el = document.getElementById("call-status");
    return el && w.split("|").includes(el.dataset.phase);
  }, want, { timeout });
}

// waitingPatient takes a patient through the widget to the waiting room.
async function waitingPatient(first) {
  const p = await openPatient(env.browser, { width: 360 });
  await patientToVideo(p.frame, { first });
  await phase(p.frame, "check");
  await p.frame.click("#camera-check");
  await phase(p.frame, "ready");
  await p.frame.click("#join-waiting");
  await phase(p.frame, "waiting");
  p.examId = await p.frame.evaluate(() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith("goodfaith:")))).examId);
  return p;
}

// bothWays: connected on both sides, RTP received and sent on both, and
// each side's remote video has frames.
async function bothWays(prov, patient, what) {
  await callPhase(prov, "call");
  await phase(patient.frame, "call");
  await rtpFlows(patient.frame, "patient " + what);
  const got = await rtpFlows(prov.mainFrame(), "provider " + what);
  assert.ok(got.in > 0, "the provider's inbound-rtp has packets");
  const bytes = await prov.evaluate(async () => {
    let n = 0;
    (await window.__pcs[window.__pcs.length - 1].getStats()).forEach((v) => v.type === "inbound-rtp" && (n += v.bytesReceived || 0));
    return n;
  });
  assert.ok(bytes > 0, "the provider's inbound-rtp has bytes");
  await prov.waitForFunction(() => document.getElementById("call-remote").videoWidth > 0, null, { timeout: WAIT });
  await patient.frame.waitForFunction(() => document.getElementById("remote-video").videoWidth > 0, null, { timeout: WAIT });
}

test("browser to browser with the provider console's call panel: two consoles are rung, accepting claims (the other's ring goes) and connects (RTP both ways), the review and decision sit beside the call, mute and camera toggles, the patient hangs up and the provider rings them back, the provider hangs up and then approves; axe clean", { timeout: 240000 }, async () => {
  const pc = await providerConsole();
  try {
    const prov = pc.page;
    // Another eligible provider is online in a console too.
    const other = await pc.ctx.newPage();
    await other.goto(`${env.api}/console/`);
    await consoleSignIn(other, "prov_multi_np");
    const patient = await waitingPatient("Ana");
    const { examId, frame } = patient;

    // Both consoles are rung for the waiting patient; accepting is the
    // claim, and the other console's ring goes away.
    await other.waitForSelector(`#ring-${examId} button.accept`, { timeout: WAIT });
    await prov.waitForSelector(`#ring-${examId} button.accept`, { timeout: WAIT });
    assert.match(await prov.locator(`#ring-${examId}`).innerText(), /TX.*Neurotoxin/);
    assert.deepEqual(await axeCheck(prov), [], "axe: console with a ring");
    const t0 = Date.now();
    await prov.click(`#ring-${examId} button.accept`);
    await callPhase(prov, "call");
    const connectedMs = Date.now() - t0;
    await bothWays(prov, patient, "after the accept");
    console.log(`# browser to browser (console): connected ${connectedMs} ms after the provider's accept (camera start, claim, join, offer/answer, ICE), RTP both ways checked at ${Date.now() - t0} ms`);
    const held = await apiCall(env, "GET", `/v1/exams/${examId}`, undefined, { Authorization: "Bearer " + (await token(frame)) });
    assert.equal(held.json.exam.status, "in_consult");
    assert.equal(await prov.locator(`#ring-${examId}`).count(), 0, "the ring is gone once accepted");
    await other.waitForSelector(`#ring-${examId}`, { state: "detached", timeout: WAIT });
    await other.close();

    // The call panel sits beside the review and the decision form.
    await prov.waitForSelector("#review .review-grid #call", { timeout: WAIT });
    await prov.waitForSelector("#review .review-grid #decision");
    const side = await prov.evaluate(() => {
      const a = document.getElementById("call").getBoundingClientRect();
      const b = document.getElementById("flags").getBoundingClientRect();
      return a.right <= b.left + 1;
    });
    assert.ok(side, "the call panel is beside the review at desktop width");
    assert.match(prov.url(), new RegExp(`[?&]exam=${examId}`), "the open exam is in the address");
    assert.deepEqual(await axeCheck(prov), [], "axe: console during the call");

    // Mute and camera toggles.
    await prov.click("#call-mute");
    assert.equal(await prov.getAttribute("#call-mute", "aria-pressed"), "true");
    assert.match(await prov.locator("#call-status").innerText(), /microphone is muted/);
    assert.equal(await prov.evaluate(() => document.getElementById("call-local").srcObject.getAudioTracks()[0].enabled), false);
    await prov.click("#call-camera");
    assert.equal(await prov.getAttribute("#call-camera", "aria-pressed"), "true");
    assert.equal(await prov.evaluate(() => document.getElementById("call-local").srcObject.getVideoTracks()[0].enabled), false);
    assert.deepEqual(await axeCheck(prov), [], "axe: muted, camera off");
    await prov.click("#call-mute");
    await prov.click("#call-camera");
    assert.equal(await prov.evaluate(() => document.getElementById("call-local").srcObject.getVideoTracks()[0].enabled), true);

    // The patient hangs up; the provider rings; the patient answers.
    const pcs = (await rtp(frame)).pcs;
    await frame.click("#hang-up");
    await phase(frame, "left");
    await callPhase(prov, "peer-left");
    await prov.click("#call-ring");
    await callPhase(prov, "ringing");
    await phase(frame, "ringing");
    await frame.click("#join-call");
    await frame.waitForFunction((n) => window.__pcs.length > n, pcs, { timeout: WAIT });
    await bothWays(prov, patient, "after the patient rejoined");

    // The provider hangs up, then decides: approved with orders.
    await prov.click("#call-hangup");
    await callPhase(prov, "ended");
    await phase(frame, "providerLeft");
    assert.equal(await prov.evaluate(() => window.__pcs.every((p) => p.connectionState === "closed")), true, "the provider's peer connection is closed");
    await prov.fill("#d-neurotoxin-product", "onabotulinumtoxinA");
    await prov.fill("#d-neurotoxin-dose", "20 units");
    await prov.fill("#d-neurotoxin-route", "intramuscular");
    await prov.fill("#d-neurotoxin-areas", "glabella");
    await prov.fill("#d-neurotoxin-refills", "0");
    await prov.fill("#d-neurotoxin-valid_days", "180");
    await prov.check("#d-attest");
    await prov.click("#sign");
    await prov.waitForSelector("#pso", { timeout: WAIT });
    await frame.waitForSelector("#outcome.approved", { timeout: 15000 });
    assert.equal(await frame.evaluate(() => window.__pcs.every((p) => p.connectionState === "closed")), true, "the patient's call ended");
    assert.equal(await prov.locator("#call-join").count(), 0, "no joining a decided exam's call");
    assert.deepEqual(await axeCheck(prov), [], "axe: console after the decision");
    assert.deepEqual(patient.errors, []);
    assert.deepEqual(pc.errors, []);
    assert.deepEqual(await frame.evaluate(() => window.__csp), [], "no CSP violation in the frame");
    assert.deepEqual(await prov.evaluate(() => window.__csp), [], "no CSP violation in the console");
    await patient.page.close();
  } finally {
    await pc.close();
  }
});

test("the provider's call survives a dropped socket and a reload of the console: a new socket (or a new sign-in) joins again, the provider offers again, RTP flows both ways, the exam stays in consult; then the provider defers", { timeout: 240000 }, async () => {
  const pc = await providerConsole();
  try {
    const prov = pc.page;
    const patient = await waitingPatient("Bea");
    const { examId, frame } = patient;
    await prov.waitForSelector(`#ring-${examId} button.accept`, { timeout: WAIT });
    await prov.click(`#ring-${examId} button.accept`);
    await bothWays(prov, patient, "after the accept");

    // 1. The network blips: the socket drops while offline a moment.
    const sockets = await prov.evaluate(() => window.__sockets.length);
    const pcs = await prov.evaluate(() => window.__pcs.length);
    await pc.ctx.setOffline(true);
    await prov.evaluate(() => window.__sockets.forEach((s) => s.close()));
    await callPhase(prov, "reconnecting");
    assert.deepEqual(await axeCheck(prov), [], "axe: reconnecting");
    await new Promise((r) => setTimeout(r, 1000));
    await pc.ctx.setOffline(false);
    await prov.waitForFunction((n) => window.__sockets.length > n && window.__sockets[window.__sockets.length - 1].readyState === 1, sockets, { timeout: WAIT });
    await prov.waitForFunction((n) => window.__pcs.length > n, pcs, { timeout: WAIT });
    await bothWays(prov, patient, "after the blip");
    const tok = { Authorization: "Bearer " + (await token(frame)) };
    assert.equal((await apiCall(env, "GET", `/v1/exams/${examId}`, undefined, tok)).json.exam.status, "in_consult");

    // 2. The console reloads: the token was in memory, so the provider
    // signs in again; the exam reopens with its call panel and joins.
    await prov.reload();
    await consoleSignIn(prov, "prov_tx_md");
    await prov.waitForSelector("#review .review-grid #call #call-join", { timeout: WAIT });
    assert.match(await prov.locator("#review-h").innerText(), new RegExp(examId));
    await phase(frame, "providerLeft|waiting");
    // The camera preview first, then the call.
    await prov.click("#call-preview");
    await prov.waitForFunction(() => {
      const v = document.getElementById("call-local");
      return v.srcObject && v.videoWidth > 0;
    }, null, { timeout: WAIT });
    assert.match(await prov.locator("#call-status").innerText(), /camera is on/);
    assert.equal(await prov.locator("#call-preview").count(), 0);
    assert.deepEqual(await axeCheck(prov), [], "axe: camera preview before joining");
    await prov.click("#call-join");
    await bothWays(prov, patient, "after the reload");
    assert.equal((await apiCall(env, "GET", `/v1/exams/${examId}`, undefined, tok)).json.exam.status, "in_consult");

    // The provider defers (deciding ends the call).
    await prov.check('input[name="d-neurotoxin-outcome"][value="defer"]');
    await prov.fill("#d-neurotoxin-reason", "Needs an in-person assessment");
    await prov.click("#sign");
    await prov.waitForSelector("#decided", { timeout: WAIT });
    await callPhase(prov, "ended");
    await frame.waitForSelector("#outcome.deferred", { timeout: 15000 });
    assert.deepEqual(patient.errors, []);
    assert.deepEqual(pc.errors, []);
    await patient.page.close();
  } finally {
    await pc.close();
  }
});

test("the call panel explains a camera the browser blocked, the call goes on receive-only, and once allowed, Try the camera again sends video (RTP both ways); the patient then leaves two rings unanswered and the provider ends the exam as a no-show (not_applicable); axe clean", { timeout: 240000 }, async () => {
  // The provider's browser refuses the camera as a blocked permission does.
  const profile = mkdtempSync(join(tmpdir(), "gf-video-provider-denied-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection", "--deny-permission-prompts"],
  });
  try {
    const prov = await ctx.newPage();
    await prov.addInitScript(instrument);
    const provErrors = [];
    prov.on("pageerror", (e) => provErrors.push(String(e)));
    await prov.goto(`${env.api}/console/`);
    await consoleSignIn(prov, "prov_tx_md");
    const patient = await waitingPatient("Cleo");
    await prov.waitForSelector(`#ring-${patient.examId} button.accept`, { timeout: WAIT });
    await prov.click(`#ring-${patient.examId} button.accept`);

    const help = prov.locator("#call-help [role=alert]");
    await help.waitFor({ timeout: WAIT });
    assert.match(await help.innerText(), /blocked the camera and microphone/);
    assert.match(await help.innerText(), /address bar/);
    assert.match(await help.innerText(), /cannot see or hear you/);
    // The accept went through all the same: the exam is claimed and joined.
    await callPhase(prov, "connecting|call");
    await prov.waitForSelector("#review .review-grid #call #call-camera-retry", { timeout: WAIT });
    assert.deepEqual(await axeCheck(prov), [], "axe: call panel with camera help");

    // Allowed now: trying again sends the camera from a fresh offer.
    const pcs = await prov.evaluate(() => window.__pcs.length);
    await ctx.grantPermissions(PERMISSIONS, { origin: env.api });
    await prov.click("#call-camera-retry");
    await prov.waitForFunction(() => {
      const v = document.getElementById("call-local");
      return v.srcObject && v.srcObject.getVideoTracks().length > 0;
    }, null, { timeout: WAIT });
    assert.equal(await prov.locator("#call-help [role=alert]").count(), 0, "the help is gone");
    await prov.waitForFunction((n) => window.__pcs.length > n, pcs, { timeout: WAIT });
    await bothWays(prov, patient, "after allowing the camera");

    // The patient hangs up and leaves two rings unanswered: the provider
    // ends the exam as a no-show (not applicable, not billed).
    await patient.frame.click("#hang-up");
    await callPhase(prov, "peer-left");
    assert.equal(await prov.locator("#call-noanswer").count(), 0, "no no-show before two rings");
    for (const n of [1, 2]) {
      await prov.click("#call-ring");
      await prov.waitForFunction((k) => /ring \d/.test(document.getElementById("call-status").textContent) && document.getElementById("call-status").textContent.includes("ring " + k), n, { timeout: WAIT });
      await phase(patient.frame, "ringing");
    }
    await prov.click("#call-noanswer");
    await prov.waitForSelector("#review-ended", { timeout: WAIT });
    assert.match(await prov.locator("#review-ended").innerText(), /not applicable/);
    const ended = await apiCall(env, "GET", `/v1/exams/${patient.examId}`, undefined, { Authorization: "Bearer " + (await token(patient.frame)) });
    assert.equal(ended.json.exam.status, "decided");
    assert.equal(ended.json.exam.outcome, "not_applicable");
    // The patient's widget leaves the call (or, if its status poll saw the
    // decided exam first, already shows the ended exam).
    await patient.frame.waitForFunction(() => {
      const s = document.getElementById("video-status");
      return (s && s.dataset.phase === "left") || document.querySelector("#outcome.not_applicable");
    }, null, { timeout: WAIT });
    assert.deepEqual(await axeCheck(prov), [], "axe: after the no-show");
    assert.deepEqual(provErrors, []);
    assert.deepEqual(patient.errors, []);
    await patient.page.close();
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
