// What every room publishes events through. events/ implements it on NATS (and a recorder when no
// NATS server is configured); the context hands it to actions.
import type { EventName } from "./catalog";

export interface EventOutcome {
  subject: string;
  delivered: boolean;
  via: "jetstream" | "core" | "none";
  error?: string;
}

export interface EventPublisher {
  /** False when no NATS server is configured: outcomes are recorded, not warned about. */
  readonly configured: boolean;
  publish(name: EventName, payload: Record<string, unknown>, messageId: string): Promise<EventOutcome>;
  close(): Promise<void>;
}
