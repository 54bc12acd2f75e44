// Bundles the console into ../dist/app for the Go binary to embed:
// src/main.tsx (and the CSS it imports) becomes main-<hash>.js and
// main-<hash>.css, and index.html names them. Type checking is tsc's job
// (scripts/build-console.sh runs it first); esbuild only strips types.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";

const outdir = new URL("../dist/app/", import.meta.url).pathname;
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await build({
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  outdir,
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith(".js"));
const css = outputs.find((f) => f.endsWith(".css"));
if (!js || !css) {
  throw new Error(`esbuild produced ${outputs.join(", ")}: expected one .js and one .css`);
}
const template = await readFile(new URL("index.html", import.meta.url), "utf8");
await writeFile(outdir + "index.html", template.replace("%SCRIPT%", js).replace("%STYLE%", css));
console.log(`console: ${js}, ${css} → ${outdir}`);
