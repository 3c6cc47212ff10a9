// `make widget-size`: prints the widget's budgets, measured.
//   loader ≤ 5 KB gzipped; frame app (JS + CSS + HTML) ≤ 60 KB gzipped;
//   first screen interactive ≤ 500 ms after the script tag, on localhost.
// "Interactive" is the frame's goodfaith:ready, which it posts once the
// first step is rendered with its handlers; the script also checks a
// treatment can then be ticked. Exits 1 when a budget is exceeded.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { start, widgetFrame } from "../test/harness.mjs";

const dist = new URL("../dist/", import.meta.url);
const gz = (names) => names.reduce((n, f) => n + gzipSync(readFileSync(new URL(f, dist)), { level: 9 }).length, 0);
const raw = (names) => names.reduce((n, f) => n + readFileSync(new URL(f, dist)).length, 0);
const loader = ["goodfaith.js"];
const frame = ["frame.js", "frame.css", "frame.html"];
const kb = (n) => (n / 1024).toFixed(2) + " KB";
let over = false;
function line(what, value, budget, unit) {
  const ok = value <= budget;
  if (!ok) over = true;
  console.log(`${what.padEnd(44)} ${unit(value).padStart(10)}   budget ${unit(budget).padStart(9)}   ${ok ? "ok" : "OVER"}`);
}
line("loader goodfaith.js (gzip -9)", gz(loader), 5 * 1024, kb);
line("frame app frame.js+css+html (gzip -9)", gz(frame), 60 * 1024, kb);
console.log(`(raw: loader ${kb(raw(loader))}, frame ${kb(raw(frame))})`);

const env = await start();
try {
  const runs = [];
  const RUNS = 7;
  for (let i = 0; i < RUNS; i++) {
    const page = await env.browser.newPage();
    await page.goto(`${env.originA}/page`);
    await page.waitForFunction(() => window.__t1 !== undefined, null, { timeout: 10000 });
    const ms = await page.evaluate(() => window.__t1 - window.__t0);
    const f = await widgetFrame(page, env);
    await f.check("input[name=treatment] >> nth=0");
    runs.push(ms);
    await page.close();
  }
  const sorted = [...runs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`first screen interactive, runs (ms): ${runs.map((r) => r.toFixed(0)).join(", ")} (first run has a cold cache)`);
  line("first screen interactive, median of " + RUNS, median, 500, (v) => v.toFixed(0) + " ms");
  line("first screen interactive, worst of " + RUNS, sorted[sorted.length - 1], 500, (v) => v.toFixed(0) + " ms");
} finally {
  await env.stop();
}
process.exit(over ? 1 : 0);
