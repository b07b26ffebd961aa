// Bundles the job into one CommonJS file that runs with `node dist/db-backup.cjs` from a folder
// with no node_modules (the container image runs exactly that file).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [path.join(root, "job/main.ts")],
  outfile: path.join(root, "dist/db-backup.cjs"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
