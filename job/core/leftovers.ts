// Whatever a run leaves on disk or on a server while it works (a download directory, a partial
// file, a scratch database) is named with what tells the next run whether its owner is still
// running, so the next run removes it when the owner is gone, even one killed with SIGKILL.
import { readFileSync } from "node:fs";

/** Whether the process `pid` (on this machine) still runs. */
export function isOwnerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
  // A zombie (killed, not yet reaped) is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
