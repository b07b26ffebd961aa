// `db-backup status`: the seed's Backup Status report.
import { Command } from "commander";
import { retentionFromEnv } from "../../core/settings";
import { statusAction, supabaseSettings } from "../../report";
import { withContext, type CommandDeps } from "../context";

export function statusCommand(deps: CommandDeps): Command {
  const { env } = deps;
  return new Command("status")
    .description("the Backup Status report: latest backups, storage summary, point-in-time recovery")
    .option("--json", "print JSON", false)
    .option("--max-age <type=age,...>", "exit 5 when the newest successful backup of a type is older, e.g. daily=26h,monthly=32d")
    .option("--html <file>", "also write the status page to <file>: one self-contained HTML file with trends and warnings")
    .addHelpText("after", "\nExit code 5 when there is no successful backup, or (--max-age) when backups of a type stopped.\n\nExamples:\n  db-backup status\n  db-backup status --json\n  db-backup status --max-age daily=26h,monthly=32d\n  db-backup status --html status.html")
    .action(async (opts, command: Command) =>
      withContext(deps, command, (ctx) => statusAction(ctx, { ...opts, retention: retentionFromEnv(env), supabase: supabaseSettings(env) })),
    );
}
