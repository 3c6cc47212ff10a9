// Test harness for the widget's browser tests: builds and starts the local
// Goodfaith server (-dev, temporary -data, free loopback port), serves
// clinic host pages from two other loopback origins (one allowed, one not),
// and launches Debian's chromium through playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const repo = new URL("../../", import.meta.url).pathname;
export const CHROMIUM = process.env.GOODFAITH_CHROMIUM || "/usr/bin/chromium";
export const AXE = readFileSync(new URL("../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
export const KEY = "pk_test_widget";

// freePort resolves to a TCP port free on 127.0.0.1 right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function listen(handler) {
  return new Promise((resolve) => {
    const s = createServer(handler);
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

// hostPage is a clinic's page with a strict CSP allowing only our origin.
function hostPage(api, url) {
  const q = url.searchParams;
  const attrs = [`src="${api}/widget/goodfaith.js"`, `data-key="${q.get("key") || KEY}"`, `data-target="#w"`];
  if (q.get("lang")) attrs.push(`data-lang="${q.get("lang")}"`);
  if (q.get("mode")) attrs.push(`data-mode="${q.get("mode")}"`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host clinic</title><script src="/host.js"></script></head>
<body><main><h1>Book with us</h1><div id="w"></div><script src="/mark.js"></script><script ${attrs.join(" ")} async></script></main></body></html>`;
}

const HOST_JS = `window.__events = []; window.__violations = [];
["goodfaith:ready","goodfaith:submitted","goodfaith:decided","goodfaith:close"].forEach(function (t) {
  window.addEventListener(t, function (e) { window.__events.push({ type: t, detail: JSON.stringify(e.detail) }); });
});
window.addEventListener("goodfaith:ready", function () { window.__t1 = performance.now(); });
window.addEventListener("message", function (e) { window.__events.push({ type: "message", detail: JSON.stringify(e.data) }); });
document.addEventListener("securitypolicyviolation", function (e) { window.__violations.push(e.violatedDirective + " " + e.blockedURI); });`;

// start's options: extra chromium args and context permissions (the video
// tests' fake camera).
export async function start({ args = [], permissions } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "gf-widget-data-"));
  const profile = mkdtempSync(join(tmpdir(), "gf-widget-profile-"));
  // GOODFAITH_LOCAL_BIN: a prebuilt ./infra/local (else it is built here).
  let bin = process.env.GOODFAITH_LOCAL_BIN;
  if (!bin) {
    bin = join(dataDir, "goodfaith-local");
    execFileSync("go", ["build", "-o", bin, "./infra/local"], { cwd: repo, stdio: "inherit" });
  }

  const hostA = await listen(() => {});
  const hostB = await listen(() => {});
  const originA = `http://127.0.0.1:${hostA.address().port}`;
  const originB = `http://127.0.0.1:${hostB.address().port}`;
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const demoOrigin = `http://localhost:${apiPort}`;

  const seed = JSON.parse(readFileSync(join(repo, "infra/local/demo-seed.json"), "utf8"));
  const glow = seed.clinics[0];
  seed.clinics = [
    {
      ...glow,
      id: "clinic_widget",
      name: "Glow & Co <Med> Spa",
      publishable_key: KEY,
      secret_key: "sk_test_widget",
      allowed_origins: [originA, demoOrigin],
      // Too light for white text: the contrast guard must darken it.
      branding: { primary_color: "#ffe45c" },
      hours: undefined,
    },
  ];
  const seedFile = join(dataDir, "seed.json");
  writeFileSync(seedFile, JSON.stringify(seed));

  for (const [srv, origin] of [[hostA, originA], [hostB, originB]]) {
    srv.on("request", (req, res) => {
      const url = new URL(req.url, origin);
      const csp = `default-src 'none'; script-src 'self' ${api}; frame-src ${api}; style-src 'self'; img-src 'self'; connect-src 'none'; base-uri 'none'`;
      if (url.pathname === "/mark.js") {
        // The moment the widget's script tag is reached (for scripts/size.mjs).
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end("window.__t0 = performance.now();");
      }
      if (url.pathname === "/host.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(HOST_JS);
      }
      if (url.pathname === "/page") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp });
        return res.end(hostPage(api, url));
      }
      res.writeHead(404).end();
    });
  }

  const server = spawn(bin, ["-addr", `127.0.0.1:${apiPort}`, "-data", dataDir, "-seed", seedFile, "-dev"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let logs = "";
  server.stdout.on("data", (b) => (out += b));
  server.stderr.on("data", (b) => (logs += b));
  for (let i = 0; i < 300 && !out.includes("demo clinic page"); i++) {
    if (server.exitCode !== null) throw new Error("local server exited: " + logs);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes("demo clinic page")) throw new Error("local server did not start: " + out + logs);

  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", ...args],
    ...(permissions ? { permissions } : {}),
  });

  return {
    api,
    originA,
    originB,
    demoOrigin,
    browser,
    logs: () => logs,
    async stop() {
      await browser.close().catch(() => {});
      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r() : server.once("exit", r)));
      hostA.close();
      hostB.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// apiCall calls the API from Node (no Origin header: a server caller).
export async function apiCall(env, method, path, body, headers = {}) {
  const res = await fetch(env.api + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

// widgetFrame waits for the widget's iframe in a host page and returns it.
export async function widgetFrame(page, env) {
  const handle = await page.waitForSelector(`iframe[src^="${env.api}/widget/frame.html"]`, { timeout: 10000 });
  const frame = await handle.contentFrame();
  await frame.waitForSelector("main section h1", { timeout: 10000 });
  return frame;
}

// axeCheck runs axe-core in the frame and returns serious and critical
// violations, each as "rule: targets".
export async function axeCheck(frame) {
  if (!(await frame.evaluate(() => typeof window.axe === "object"))) await frame.evaluate(AXE);
  const res = await frame.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return res.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
