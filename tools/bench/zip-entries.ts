import { readFileSync } from 'node:fs';

/** One file of a zip: its name and the bytes it takes in the archive (local header, name and compressed data). */
export interface ZipEntry {
  readonly name: string;
  readonly zippedBytes: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;

/**
 * The files of a zip as its central directory lists them, so a figure can tell which file the bytes of a function's
 * zip go to. Reads the small zips bundle-lambdas.mjs writes (no zip64, no archive comment beyond 64 KiB).
 *
 * @example
 * zipEntries('dist/apps/sns-lambdas/loan-updated.zip').map((entry) => entry.name); // ['index.js', 'index.js.map', …]
 */
export const zipEntries = (path: string): ZipEntry[] => {
  const zip = readFileSync(path);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end -= 1;
  if (end < 0) throw new Error(`${path}: not a zip (no end of central directory)`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== CENTRAL_FILE_HEADER) throw new Error(`${path}: damaged central directory at entry ${i}`);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    // The local header repeats the name (its own extra field is empty in the zips bundle-lambdas.mjs writes).
    entries.push({ name, zippedBytes: 30 + nameLength + compressed });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
};
