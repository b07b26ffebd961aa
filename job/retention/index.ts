// What must stay: the verified restore points the storage protects, and `delete`, which refuses
// to remove what the seed's rules keep.
export { deleteAction, type DeleteOptions, type DeleteReport } from "./delete";
export {
  isVerified,
  isVerifiedRestorePoint,
  protectedRestorePoints,
  refreshRestorePoints,
  releaseProtection,
  verifiedRestorePoints,
  type RestorePointChange,
} from "./restore-points";
