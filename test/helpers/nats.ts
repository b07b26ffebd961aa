// A real NATS subscriber that collects the job's events.
import { connect } from "@nats-io/transport-node";
import { EVENT_SUBJECT_WILDCARD } from "../../job/core/catalog";
import { services } from "./services";

export interface ReceivedEvent {
  subject: string;
  data: Record<string, unknown>;
}

export async function subscribeEvents(): Promise<{ events: ReceivedEvent[]; waitFor(pred: (e: ReceivedEvent) => boolean, ms?: number): Promise<ReceivedEvent>; close(): Promise<void> }> {
  const nc = await connect({ servers: services.natsUrl });
  const events: ReceivedEvent[] = [];
  const sub = nc.subscribe(EVENT_SUBJECT_WILDCARD);
  (async () => {
    for await (const m of sub) events.push({ subject: m.subject, data: JSON.parse(m.string()) as Record<string, unknown> });
  })().catch(() => undefined);
  await nc.flush();
  return {
    events,
    async waitFor(pred, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = events.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events.map((e) => e.subject))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => nc.drain(),
  };
}
