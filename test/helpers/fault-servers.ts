// Servers of the fault tests' own, so killing one never disturbs another test file: a second S3
// gateway on the same cluster, a nats-server on its own port, a PostgreSQL instance with real
// passwords (scram) and SSL, a TLS-terminating proxy in front of the S3 gateway, and a CA.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, promises as fs, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { ROOT } from "./cli";
import { signal, waitFor } from "./processes";
import { portOpen } from "./services";

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

// ---- a second S3 gateway (scripts/services.sh rgw-extra) ---------------------------------------

export function startRgwExtra(port: number): number {
  const out = execFileSync("bash", [path.join(ROOT, "scripts/services.sh"), "rgw-extra", String(port)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const pid = Number(out.trim().split("\n").pop());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`services.sh rgw-extra ${port} printed no pid: ${out}`);
  return pid;
}

export function stopRgwExtra(port: number): void {
  execFileSync("bash", [path.join(ROOT, "scripts/services.sh"), "rgw-extra-stop", String(port)], { stdio: "ignore" });
}

// ---- nats-server ---------------------------------------------------------------------------------

export interface NatsServer {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  kill(): Promise<void>;
  restart(): Promise<NatsServer>;
  /** Kills it and removes its store (when this helper made it). */
  dispose(): Promise<void>;
}

export async function startNats(options: { port?: number; dir?: string; token?: string } = {}, ownsDir = options.dir === undefined): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await tempDir("dbb-nats-"));
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir];
  if (options.token) args.push("--auth", options.token);
  const child = spawn("/usr/sbin/nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  await waitFor(`nats-server on ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
    return portOpen(`127.0.0.1:${port}`, 200);
  }, 15_000, 50);
  const server: NatsServer = {
    port,
    url: `nats://127.0.0.1:${port}`,
    dir,
    process: child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      signal(child.pid!, "SIGKILL");
      await gone;
    },
    restart: () => startNats({ ...options, port, dir }, ownsDir),
    async dispose() {
      await server.kill();
      if (ownsDir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// ---- a CA and certificates (openssl) ----------------------------------------------------------------

export interface Certs {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** A throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it. */
export function makeCerts(dir: string): Certs {
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=db-backup test CA");
  ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(f("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
  ossl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "2", "-extfile", f("ext.cnf"));
  return { dir, caCert: f("ca.pem"), serverCert: f("server.pem"), serverKey: f("server.key") };
}

// ---- a TLS-terminating proxy (https in front of the S3 gateway) ---------------------------------

export async function startTlsProxy(certs: Certs, upstreamPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: await fs.readFile(certs.serverCert), key: await fs.readFile(certs.serverKey) }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: upstreamPort });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- a PostgreSQL instance of the test's own: scram passwords and SSL -------------------------------

export interface OwnPostgres {
  port: number;
  dir: string;
  certs: Certs;
  /** postgres://user:password@127.0.0.1:port/db?extra */
  url(user: string, password: string | null, database: string, query?: string): string;
  /** Runs SQL as the superuser (with its password). */
  psql(sql: string, database?: string): string;
  superPassword: string;
  stop(): void;
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** initdb + start as the postgres OS user (PostgreSQL refuses to run as root). TCP on 127.0.0.1
 * only, every connection with a scram password, SSL on with a certificate from our own CA and
 * required of every role but postgres. */
export async function startOwnPostgres(superPassword: string): Promise<OwnPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dbb-pg-"));
  try {
    return await initOwnPostgres(dir, superPassword);
  } catch (error) {
    execFileSync("rm", ["-rf", dir]);
    throw error;
  }
}

async function initOwnPostgres(dir: string, superPassword: string): Promise<OwnPostgres> {
  const certs = makeCerts(dir);
  const port = await freePort();
  const data = path.join(dir, "data");
  writeFileSync(path.join(dir, "pw"), superPassword + "\n");
  execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const asPostgres = (cmd: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", path.join(PG_BIN, cmd), ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: "/" });
  asPostgres("initdb", ["-D", data, "-U", "postgres", "-A", "scram-sha-256", `--pwfile=${path.join(dir, "pw")}`, "--no-sync", "--no-instructions"]);
  await fs.writeFile(
    path.join(data, "pg_hba.conf"),
    // Everyone but the test's superuser must use SSL: a plain connection of the job is refused.
    "local all all scram-sha-256\nhostnossl all postgres 127.0.0.1/32 scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
  );
  await fs.appendFile(
    path.join(data, "postgresql.conf"),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nssl = on\nssl_cert_file = '${certs.serverCert}'\nssl_key_file = '${certs.serverKey}'\nfsync = off\nshared_buffers = 32MB\nmax_connections = 30\n`,
  );
  execFileSync("chown", ["-R", "postgres:postgres", dir]);
  execFileSync("chmod", ["600", certs.serverKey]);
  execFileSync("chmod", ["755", dir]); // postgres's (its log and socket), readable by all (the CA)
  asPostgres("pg_ctl", ["-D", data, "-w", "-t", "30", "-l", path.join(dir, "log"), "start"]);
  const url = (user: string, password: string | null, database: string, query = "") =>
    `postgres://${encodeURIComponent(user)}${password !== null ? ":" + encodeURIComponent(password) : ""}@127.0.0.1:${port}/${database}${query ? "?" + query : ""}`;
  return {
    port,
    dir,
    certs,
    superPassword,
    url,
    psql: (sql: string, database = "postgres") =>
      execFileSync("psql", ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`, "-f", "-"], {
        input: sql,
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: superPassword, PGOPTIONS: "-c client_min_messages=warning" },
      }),
    stop: () => {
      try {
        asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } catch {
        /* already stopped */
      }
      execFileSync("rm", ["-rf", dir]);
    },
  };
}
