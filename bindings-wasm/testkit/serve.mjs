// A tiny static file server on 127.0.0.1 for the browser tests and the demo.
//
//   const server = await serve({ "/": "/abs/dir", "/pkg/": "/abs/pkg" });
//   server.url  → "http://127.0.0.1:PORT"
//   await server.close();
//
// Mounts map URL prefixes to directories; the longest prefix wins. Only GET
// and HEAD; paths are confined to their directory.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

export async function serve(mounts, { port = 0 } = {}) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith("/") ? prefix : prefix + "/", resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const hit = table.find(([prefix]) => path === prefix.slice(0, -1) || path.startsWith(prefix));
      if (!hit) {
        res.writeHead(404).end("not found");
        return;
      }
      const [prefix, dir] = hit;
      let file = resolve(join(dir, path.slice(prefix.length)));
      if (file !== dir && !file.startsWith(dir + sep)) {
        res.writeHead(403).end();
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, "index.html");
      const body = await readFile(file).catch(() => null);
      if (!body) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

// `node testkit/serve.mjs` serves the browser demo with the built package.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const s = await serve(
    { "/": join(root, "examples", "browser"), "/pkg/": join(root, "bindings-wasm", "pkg") },
    { port: Number(process.env.PORT ?? 8080) },
  );
  console.log(`browser demo: ${s.url}/  (Ctrl-C to stop)`);
}
