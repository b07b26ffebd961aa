import type { RepositorySettings } from "../config";
import { LocalDirectoryRepository } from "./local";
import { S3Repository, type S3RepositoryOptions } from "./s3";
import type { BackupRepository } from "./types";

export type { BackupRepository, StoredObject } from "./types";
export { ObjectNotFoundError } from "./types";

export function openRepository(settings: RepositorySettings, options: S3RepositoryOptions = {}): BackupRepository {
  return settings.kind === "s3" ? new S3Repository(settings, options) : new LocalDirectoryRepository(settings.dir);
}
