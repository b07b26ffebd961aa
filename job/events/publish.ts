// The one way actions publish: publish, and say on stderr when a configured NATS did not take the
// event (an unconfigured NATS is recorded in the outcome, not warned about). Never throws: an event
// that cannot be delivered never fails a backup, a restore or a drill.
import type { EventName } from "../core/catalog";
import type { JobContext } from "../core/context";
import type { EventOutcome } from "../core/events";

export async function publishEvent(
  ctx: Pick<JobContext, "events" | "log">,
  name: EventName,
  payload: Record<string, unknown>,
  messageId: string,
): Promise<EventOutcome> {
  const outcome = await ctx.events.publish(name, payload, messageId);
  if (!outcome.delivered && ctx.events.configured) ctx.log.warn(`event ${outcome.subject} was not delivered: ${outcome.error}`);
  return outcome;
}
