// `db-backup list` (the default action).
import { Command } from "commander";
import { ENV, retentionFromEnv } from "../../core/settings";
import { listAction, supabaseSettings } from "../../report";
import { withContext, type CommandDeps } from "../context";

export function listCommand(deps: CommandDeps): Command {
  const { env } = deps;
  return new Command("list")
    .description("list backups, newest first (the default action)")
    .option("--type <type>", "only this type (daily, manual, pre_migration, monthly, legacy, auto)")
    .option("--json", "print JSON", false)
    .addHelpText("after", `\nWith ${ENV.supabaseProjectId} and ${ENV.supabaseAccessToken}, Supabase's own backups are listed too, as type Auto.\n\nExamples:\n  db-backup list\n  db-backup list --type daily --json`)
    .action(async (opts, command: Command) =>
      withContext(deps, command, (ctx) => listAction(ctx, { ...opts, retention: retentionFromEnv(env), supabase: supabaseSettings(env) })),
    );
}
