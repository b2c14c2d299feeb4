// Shared by the benchmark scripts: put one section of figures into BENCHMARKS.md.
import { readFileSync, writeFileSync } from "node:fs";

/**
 * Replace the body under `heading` (a "## " line) in the file `path` with `section`,
 * or append the heading and section when the file has no such heading yet.
 *
 *     writeSection("BENCHMARKS.md", "## Node JWT verification", table);
 */
export function writeSection(path, heading, section) {
  let doc = readFileSync(path, "utf8");
  if (!doc.includes(heading + "\n")) doc = doc.trimEnd() + `\n\n${heading}\n\n`;
  const start = doc.indexOf(heading + "\n") + heading.length + 1;
  const nextAt = doc.indexOf("\n## ", start);
  doc = doc.slice(0, start) + "\n" + section.trimEnd() + "\n\n" + (nextAt < 0 ? "" : doc.slice(nextAt + 1));
  writeFileSync(path, doc);
  console.log(`wrote ${path}`);
}
