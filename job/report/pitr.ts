// The status report's Point-in-Time Recovery section: what Supabase's Management API says about its
// WAL archiving (and, once db-backup streams WAL itself, what its own archive holds).
export interface PitrSection {
  configured: boolean;
  note: string;
  availableFrom?: string;
  availableTo?: string;
  /** From the Management API: PITR (WAL-G archiving) switched on for the project. */
  enabled?: boolean;
  walgEnabled?: boolean;
}
