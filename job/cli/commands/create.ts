// `db-backup create`: flags → CreateOptions.
import { Command, Option } from "commander";
import { createBackup } from "../../backup";
import { BACKUP_TYPES, PLATFORM_DATA_SCHEMAS, SUPABASE_MANAGED_SCHEMAS, type BackupType } from "../../core/catalog";
import { ENV, backupLockSeconds, backupName, compressionLevelSetting, optionalInt, postgresUrl, profileSetting, schemaList } from "../../core/settings";
import { collect, globalsOf, withContext, type CommandDeps } from "../context";

export function createCommand(deps: CommandDeps): Command {
  const { env } = deps;
  return new Command("create")
    .description("dump the database (pg_dump), gzip, checksum and upload it, with a manifest")
    .addOption(new Option("--type <type>", "backup type").choices([...BACKUP_TYPES]).default("manual"))
    .option("--tag <name>", "tag (required for pre_migration), e.g. before_v2_schema")
    .option("--schema <name>", `schema to include (repeatable; default ${ENV.schemas}, else all but Supabase's)`, collect)
    .option("--table <name>", "table to include (repeatable)", collect)
    .option("--schema-only", "dump the schema without data", false)
    .option("--data-only", "dump the data without schema", false)
    .option("--no-acl", "leave out grants (kept by default: Supabase's API depends on them)")
    .option("--profile <profile>", `supabase (the project's users and storage data too) or postgres (the app's schemas); ${ENV.profile}, default: detected`)
    .addOption(new Option("--format <format>", "plain SQL (gzip) or pg_dump custom format").choices(["plain", "custom"]).default("plain"))
    .option("--compression-level <n>", `gzip level 1-9 (${ENV.compressionLevel}, default 6)`)
    .option("--json", "print the manifest as JSON", false)
    .addHelpText(
      "after",
      `\nDefault scope: every schema except the ones Supabase's platform manages:\n  ${SUPABASE_MANAGED_SCHEMAS.join(", ")}\nand, for a Supabase project (profile supabase), the rows of the platform's data tables in\n  ${PLATFORM_DATA_SCHEMAS.join(", ")} (not their migration history).\n\nExamples:\n  db-backup create\n  db-backup create --type pre_migration --tag before_v2_schema\n  db-backup create --table pmoves_core.content_items --table pmoves_core.embeddings --data-only\n  db-backup create --schema pmoves_core --schema-only`,
    )
    .action(async (opts, command: Command) => {
      const sourceUrl = postgresUrl(globalsOf(command).dbUrl ?? env[ENV.sourceDbUrl], ENV.sourceDbUrl);
      await withContext(deps, command, (ctx) =>
        createBackup(ctx, {
          sourceUrl,
          type: opts.type as BackupType,
          tag: opts.tag,
          schemas: opts.schema ?? schemaList(env[ENV.schemas]),
          tables: opts.table ?? [],
          schemaOnly: opts.schemaOnly,
          dataOnly: opts.dataOnly,
          noAcl: opts.acl === false,
          profile: profileSetting(opts.profile ?? env[ENV.profile], opts.profile !== undefined ? "--profile" : ENV.profile),
          format: opts.format,
          compressionLevel:
            opts.compressionLevel !== undefined
              ? (optionalInt({ "--compression-level": opts.compressionLevel }, "--compression-level", 1, 9) as number)
              : compressionLevelSetting(env),
          backupName: backupName(env),
          lockSeconds: backupLockSeconds(env, opts.type as BackupType),
          json: opts.json,
        }),
      );
    });
}
