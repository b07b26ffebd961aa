// What must stay: the verified restore points the storage holds (their locks extended at every
// drill), and `delete`, which refuses to remove what the seed's rules keep.
export { deleteAction, type DeleteOptions, type DeleteReport } from "./delete";
export {
  isVerified,
  isVerifiedRestorePoint,
  protectedRestorePoints,
  refreshRestorePoints,
  verifiedRestorePoints,
  type RestorePointHold,
} from "./restore-points";
