// Events on NATS. When a JetStream stream binds the subject, publish through JetStream with a
// message id (so a redelivery is not a duplicate) and wait for the ack; else core NATS. NATS being
// down never fails or loses a backup: the outcome is returned, said on stderr and recorded.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { eventSubjects } from "../core/catalog";
import type { EventPublisher } from "../core/events";
import { oneLine, usageError } from "../core/errors";
import type { Redactor } from "../core/redact";

type NatsConnection = Awaited<ReturnType<typeof connect>>;

const PUBLISH_ATTEMPTS = 3;

/** Used when NATS_URL is not set: events are reported as not delivered, never silently dropped. */
export const noEvents: EventPublisher = {
  configured: false,
  publish: async (name) => ({ subject: eventSubjects[name], delivered: false, via: "none", error: "NATS_URL is not set" }),
  close: async () => undefined,
};

/** A malformed NATS_URL is a configuration error (exit 2), not "NATS is down". Accepts what the
 * client does: a comma list of nats://, tls://, ws:// or wss:// URLs, or host[:port]. */
export function checkNatsUrl(url: string): string {
  for (const part of url.split(",").map((p) => p.trim())) {
    // Never the user info: in a NATS URL it may be a token (nats://<token>@host), and a token may
    // hold "/" or spaces, so everything up to the last "@" (a host never has one) goes.
    const bad = () => usageError(`NATS_URL "${hideUserInfo(part)}" is not a NATS server URL: use e.g. nats://nats:4222`);
    let parsed: URL;
    try {
      parsed = new URL(part.includes("://") ? part : `nats://${part}`);
    } catch {
      throw bad();
    }
    if (!["nats:", "tls:", "ws:", "wss:"].includes(parsed.protocol) || !parsed.hostname || /[\s]/.test(part)) throw bad();
    // An "@" the URL did not read as the end of its user info (a token with a "/" in it) would
    // send the token's first part to DNS as a host name: refused instead.
    if (part.includes("@") && !parsed.username) throw bad();
  }
  return url;
}

/** The URL with everything before its last "@" hidden. */
export function hideUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_m, scheme: string | undefined) => `${scheme ?? ""}***@`);
}

export function natsPublisher(url: string, options: { token?: string; redactor: Redactor; timeoutMs?: number }): EventPublisher {
  checkNatsUrl(url);
  const timeout = options.timeoutMs ?? 3000;
  let connection: Promise<NatsConnection> | undefined;
  const open = () =>
    (connection ??= connect({
      servers: url,
      token: options.token,
      timeout,
      reconnect: false,
      name: "db-backup",
    }));

  return {
    configured: true,
    async publish(name, payload, messageId) {
      const subject = eventSubjects[name];
      const data = JSON.stringify(payload);
      try {
        const nc = await open();
        const stream = await findStream(nc, subject);
        if (stream) {
          // A lost ack is retried with the same message id: the stream keeps one copy (its
          // duplicate window), so a retry or a redelivery is never a second event.
          const js = jetstream(nc, { timeout });
          for (let attempt = 1; ; attempt++) {
            try {
              await js.publish(subject, data, { msgID: messageId, timeout });
              return { subject, delivered: true, via: "jetstream" };
            } catch (error) {
              if (attempt >= PUBLISH_ATTEMPTS || nc.isClosed()) throw error;
              await new Promise((r) => setTimeout(r, 200 * attempt));
            }
          }
        }
        nc.publish(subject, data);
        await nc.flush();
        return { subject, delivered: true, via: "core" };
      } catch (error) {
        return { subject, delivered: false, via: "none", error: options.redactor.redact(oneLine(error)) };
      }
    },
    async close() {
      if (!connection) return;
      try {
        const nc = await connection;
        await nc.drain();
      } catch {
        /* never connected */
      }
    },
  };
}

async function findStream(nc: NatsConnection, subject: string): Promise<string | null> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    return await jsm.streams.find(subject);
  } catch {
    return null; // no JetStream, or no stream binds the subject
  }
}
