import type { RepositorySettings } from "../core/settings";
import { LocalDirectoryRepository } from "./local";
import { S3Repository, type S3RepositoryOptions } from "./s3";
import type { BackupRepository } from "../core/repository";

export type { BackupRepository, StoredObject } from "../core/repository";
export { ObjectNotFoundError } from "../core/repository";

export function openRepository(settings: RepositorySettings, options: S3RepositoryOptions = {}): BackupRepository {
  return settings.kind === "s3" ? new S3Repository(settings, options) : new LocalDirectoryRepository(settings.dir);
}
