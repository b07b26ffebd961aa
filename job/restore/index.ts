// Restoring a backup into a database: the target and its environment, the checks (production gate,
// overwrite, plan), what the dump holds, the engines that apply it in one transaction, the safety
// backup and request records.
export { restoreAction } from "./command";
export { ApplyError } from "./apply";
export { prepareDump, type PreparedDump } from "./contents";
export type { RestoreOptions, RestorePlan, RestoreReport, SafetyBackupSettings } from "./types";
export { scratchApply } from "./platform";
