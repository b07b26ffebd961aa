// Where the real test services are. scripts/services.sh starts them (and prints these defaults);
// nothing here skips: a missing service fails the test that needs it, with a message saying how
// to start it.
import net from "node:net";

export const services = {
  pgUrl: process.env.DBB_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  s3Endpoint: process.env.DBB_TEST_S3_ENDPOINT ?? "http://127.0.0.1:7480",
  s3AccessKey: process.env.DBB_TEST_S3_ACCESS_KEY ?? "dbbackup-test-access",
  s3SecretKey: process.env.DBB_TEST_S3_SECRET_KEY ?? "dbbackup-test-secret-0123456789abcdef",
  s3OtherAccessKey: process.env.DBB_TEST_S3_OTHER_ACCESS_KEY ?? "dbbackup-other-access",
  s3OtherSecretKey: process.env.DBB_TEST_S3_OTHER_SECRET_KEY ?? "dbbackup-other-secret-0123456789abcdef",
  natsUrl: process.env.DBB_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
};

export async function portOpen(hostPort: string, timeoutMs = 2000): Promise<boolean> {
  const url = new URL(hostPort.includes("://") ? hostPort : `tcp://${hostPort}`);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Fails (never skips) when a service the test needs is not there. */
export async function requireServices(...names: ("postgres" | "s3" | "nats")[]): Promise<void> {
  const where = { postgres: services.pgUrl, s3: services.s3Endpoint, nats: services.natsUrl };
  for (const name of names) {
    if (!(await portOpen(where[name]))) {
      throw new Error(`${name} is not reachable at ${where[name]}: run scripts/services.sh (npm test does)`);
    }
  }
}
