// Builds widget/dist/: goodfaith.js (the loader), frame.js, frame.css,
// frame.html, and SOURCES.sha256 — the hash of every source file, which a
// Go test compares with the sources so a stale dist/ fails the build.
//
//   node build.mjs           build into dist/
//   node build.mjs --check   build into a temporary folder and fail unless
//                            it equals the committed dist/ (make test)
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL(".", import.meta.url).pathname;
const check = process.argv.includes("--check");
const dist = check ? mkdtempSync(join(tmpdir(), "goodfaith-widget-")) : join(root, "dist");
mkdirSync(dist, { recursive: true });

const common = { bundle: true, minify: true, target: ["es2020"], legalComments: "none", logLevel: "warning", charset: "utf8" };
await build({ ...common, entryPoints: [join(root, "src/loader.ts")], outfile: join(dist, "goodfaith.js"), format: "iife" });
await build({ ...common, entryPoints: [join(root, "src/frame/main.ts")], outfile: join(dist, "frame.js"), format: "iife" });
await build({ ...common, entryPoints: [join(root, "src/frame/frame.css")], outfile: join(dist, "frame.css"), loader: { ".css": "css" } });
copyFileSync(join(root, "src/frame/frame.html"), join(dist, "frame.html"));
// The provider console and the clinic dashboard (issue 8).
await build({ ...common, entryPoints: [join(root, "src/console/main.ts")], outfile: join(dist, "console.js"), format: "iife" });
await build({ ...common, entryPoints: [join(root, "src/dashboard/main.ts")], outfile: join(dist, "dashboard.js"), format: "iife" });
await build({ ...common, entryPoints: [join(root, "src/shared/app.css")], outfile: join(dist, "app.css"), loader: { ".css": "css" } });
copyFileSync(join(root, "src/console/console.html"), join(dist, "console.html"));
copyFileSync(join(root, "src/dashboard/dashboard.html"), join(dist, "dashboard.html"));
writeFileSync(join(dist, "SOURCES.sha256"), sourceHash(root) + "\n");

if (check) {
  const stale = readdirSync(dist).filter((f) => {
    try {
      return !readFileSync(join(dist, f)).equals(readFileSync(join(root, "dist", f)));
    } catch {
      return true;
    }
  });
  rmSync(dist, { recursive: true, force: true });
  if (stale.length) {
    console.error(`widget/dist is stale (${stale.join(", ")}): run \`cd widget && npm run build\` and commit dist/`);
    process.exit(1);
  }
  console.log("widget/dist matches a fresh build");
}

// sourceHash must match widget/embed.go's sourceHash: SHA-256 over, for
// each file under src/ (and build.mjs) in byte order of its slash path,
// "<path>\n<length>\n<bytes>".
export function sourceHash(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(relative(dir, p).split("\\").join("/"));
    }
  };
  walk(join(dir, "src"));
  files.push("build.mjs");
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const h = createHash("sha256");
  for (const f of files) {
    const b = readFileSync(join(dir, f));
    h.update(f + "\n" + b.length + "\n");
    h.update(b);
  }
  return h.digest("hex");
}
