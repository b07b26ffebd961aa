// Entry point of the bundle (dist/db-backup.cjs) and of `npx db-backup`.
import { main } from "./cli";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error)?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
