// The job's architecture, checked by `npm test` (test/unit/architecture.test.ts): folders are
// capabilities, with a floor under them. README.md, "Code map", says what each folder is.
//   core/                           what every room uses; imports nothing above it
//   store/ events/ postgres/ streams/   the infrastructure: core (and streams) only
//   inventory/ backup/ restore/ verify/ retention/ report/   capabilities: the floor, and another
//                                   capability only through its index.ts
//   cli/ and main.ts                the top: parse and call
//   infra/ (the Pulumi program)     what both halves agree on, from job/core/ only
const CAPABILITIES = "inventory|backup|restore|verify|retention|report";
const INFRASTRUCTURE = "store|events|postgres|streams";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "An import cycle ties two rooms into one: break it by moving the shared piece down (core/, or a types file).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-is-the-floor",
      comment: "core/ is what every room uses, so it imports nothing above it.",
      severity: "error",
      from: { path: "^job/core/" },
      to: { path: "^job/", pathNot: "^job/core/" },
    },
    {
      name: "infrastructure-serves-capabilities",
      comment: "store/, events/, postgres/ and streams/ know nothing of the capabilities that use them.",
      severity: "error",
      from: { path: `^job/(${INFRASTRUCTURE})/` },
      to: { path: `^job/(${CAPABILITIES}|cli)/|^job/main\\.ts$` },
    },
    {
      name: "capability-through-its-entry",
      comment: "A capability uses another only through what that folder's index.ts exports.",
      severity: "error",
      from: { path: `^job/(${CAPABILITIES})/` },
      to: { path: `^job/(${CAPABILITIES})/`, pathNot: ["^job/$1/", `^job/(${CAPABILITIES})/index\\.ts$`] },
    },
    {
      name: "nothing-calls-the-cli",
      comment: "The command line parses and calls; nothing below it imports it.",
      severity: "error",
      from: { path: "^job/", pathNot: "^job/(cli/|main\\.ts$)" },
      to: { path: "^job/(cli/|main\\.ts$)" },
    },
    {
      name: "infra-shares-only-core",
      comment: "The Pulumi program and the job agree through job/core/ (catalog, settings, ids), nothing else.",
      severity: "error",
      from: { path: "^infra/" },
      to: { path: "^job/", pathNot: "^job/core/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
