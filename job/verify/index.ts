// The restore drill: a backup restored into a scratch database and its row counts compared; a
// verified full backup becomes a restore point.
export { verifyAction, type VerifyOptions, type VerifyReport } from "./command";
