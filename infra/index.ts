// `pulumi up` entry point: read and validate the stack's config once, then build everything.
import { loadConfig } from "./config";
import { backupSystem } from "./program";

const system = backupSystem(loadConfig());

export const environment = system.environment;
export const namespace = system.namespace;
export const bucket = system.bucket;
export const image = system.image;
export const cronJobs = system.cronJobs;
export const restoreTemplate = system.restoreTemplate;
export const preMigrationTemplate = system.preMigrationTemplate;
export const restoreJob = system.restoreJob;
export const operatorAccessKey = system.operatorAccessKey;
export const operatorSecretKey = system.operatorSecretKey;
