// Supabase's platform, as db-backup needs to know it: how a project database is recognised
// (profile.ts), what a backup of one holds beyond its rows (source.ts), what a restore target
// already has of the platform (target.ts), and pg_dump's table of contents in a script, which says
// which entry a statement belongs to (toc.ts).
export { detectProfile } from "./profile";
export { extensionRecords, platformContents, referencedRoles, type AttachedObject, type ExtensionRecord, type PlatformContents } from "./source";
export { entrySchema, tocEntryOf, type TocEntry } from "./toc";
export { checkExtensions, inspectPlatform, type ExtensionCheck, type PlatformTarget } from "./target";
