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

/**
 * Put `body` under `sub` (a "### " heading) at the end of the "## " section `heading`
 * of the file `path`, replacing what was under `sub` there.
 *
 *     writeSubsection("BENCHMARKS.md", "## Realm stores (SPEC §7.1, Node)", "### PostgreSQL", table);
 */
export function writeSubsection(path, heading, sub, body) {
  const doc = readFileSync(path, "utf8");
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`${path} has no ${heading}`);
  let end = doc.indexOf("\n## ", start + heading.length);
  if (end < 0) end = doc.length;
  let section = doc.slice(start, end);
  const at = section.indexOf(`\n${sub}\n`);
  if (at >= 0) {
    const next = section.indexOf("\n### ", at + sub.length + 1);
    section = section.slice(0, at) + (next < 0 ? "" : section.slice(next));
  }
  section = `${section.trimEnd()}\n\n${sub}\n\n${body.trimEnd()}\n`;
  writeFileSync(path, doc.slice(0, start) + section + doc.slice(end));
  console.log(`wrote ${sub} into ${heading} of ${path}`);
}
