// Taking a backup: reserve an id, stream pg_dump through the row counter, gzip and SHA-256 into the
// store, finalize the manifest, lock; and clean up after runs that died.
export { createBackup, type CreateOptions } from "./create";
