// A throwaway PostgreSQL server for the tests and the store benchmark (not a test), as the
// Python tests' tests/pg_server.py does it: Debian's `postgresql` package (make
// setup-postgres), `initdb` and `pg_ctl start` as the `postgres` user, listening only on a
// unix socket in a temporary folder, stopped by PID.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The folder with initdb and pg_ctl (the newest installed), or null. */
export function pgBinDir() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(root, versions.at(-1), "bin") : null;
}

function ids(user) {
  const [uid, gid] = ["-u", "-g"].map((f) => Number(execFileSync("id", [f, user], { encoding: "utf8" }).trim()));
  return { uid, gid };
}

export class PgServer {
  constructor() {
    const bin = pgBinDir();
    if (bin === null) throw new Error("PostgreSQL is not installed: run `make setup-postgres`");
    this.bin = bin;
    this.root = mkdtempSync(join(tmpdir(), "tessera-pg-"));
    this.data = join(this.root, "data");
    this.sock = join(this.root, "sock");
    mkdirSync(this.sock);
    this.asPg = process.getuid && process.getuid() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
    if (this.asPg.length) {
      const { uid, gid } = ids("postgres");
      for (const p of [this.root, this.sock]) chownSync(p, uid, gid);
    }
    this.#run(join(bin, "initdb"), ["-D", this.data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    this.start();
    this.url = `postgresql://postgres@/postgres?host=${this.sock}`;
  }

  #run(cmd, args) {
    const [head, ...rest] = this.asPg.length ? [...this.asPg, cmd, ...args] : [cmd, ...args];
    execFileSync(head, rest, { stdio: ["ignore", "ignore", "inherit"] });
  }

  /** Starts the server (again) on the same data folder; `pid` is the postmaster's. */
  start() {
    this.#run(join(this.bin, "pg_ctl"), [
      "-D",
      this.data,
      "-w",
      "-l",
      join(this.root, "log"),
      "-o",
      `-k ${this.sock} -c listen_addresses='' -c fsync=off -c max_connections=200`,
      "start",
    ]);
    this.pid = Number(readFileSync(join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
  }

  /** Stops the server by its PID (fast shutdown) and waits for it to go. */
  async halt() {
    try {
      process.kill(this.pid, "SIGINT");
    } catch {
      return;
    }
    for (let i = 0; i < 400; i++) {
      try {
        process.kill(this.pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server and removes its folder. */
  async stop() {
    await this.halt();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The fixtures the PostgreSQL tests share with their worker processes (Python's store_worker.py policy). */
export const PG_POLICY = {
  version: 1,
  roles: {
    user: { permissions: ["read_own_user", "update_own_user", "admin_own_token"] },
    admin: { inherits: ["user"], permissions: ["admin_user", "admin_token"] },
  },
};
export const PG_KEY = { kty: "oct", k: "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI" };
export const FAST = { argon2: { memoryKib: 8, iterations: 1, parallelism: 1 } };
export const ADMIN = { id: "u-root", roles: ["admin"] };
