#!/usr/bin/env node
// `npx db-backup …`: the built bundle when there is one (what the image runs), else the sources.
const fs = require("node:fs");
const path = require("node:path");
const bundle = path.join(__dirname, "..", "dist", "db-backup.cjs");
if (fs.existsSync(bundle)) {
  require(bundle);
} else {
  require("tsx/cjs");
  require(path.join(__dirname, "..", "job", "main.ts"));
}
