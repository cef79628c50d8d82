// A deterministic zip of a directory: entries sorted, every timestamp 1980-01-01, no extra
// fields. The same files always give the same bytes, so Terraform (which names the uploaded
// object by the zip's MD5) redeploys a function only when its bundle changed.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";

const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, the earliest date zip can store

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

function localHeader(name, data, compressed, crc) {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
  h.writeUInt16LE(0x0800, 6); // UTF-8 names
  h.writeUInt16LE(8, 8); // deflate
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(crc, 14);
  h.writeUInt32LE(compressed.length, 18);
  h.writeUInt32LE(data.length, 22);
  h.writeUInt16LE(name.length, 26);
  return h;
}

function centralHeader(name, data, compressed, crc, offset) {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, zip 2.0
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(8, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(crc, 16);
  h.writeUInt32LE(compressed.length, 20);
  h.writeUInt32LE(data.length, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
  h.writeUInt32LE(offset, 42);
  return h;
}

/** Zips every file under `dir` (paths relative to it) into `zipPath`; returns the zip's size. */
export function zipDirectory(dir, zipPath) {
  const files = listFiles(dir)
    .map((path) => ({ path, name: relative(dir, path).split(sep).join("/") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const file of files) {
    const data = readFileSync(file.path);
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const name = Buffer.from(file.name, "utf8");
    const header = localHeader(name, data, compressed, crc);
    locals.push(header, name, compressed);
    centrals.push(centralHeader(name, data, compressed, crc, offset), name);
    offset += header.length + name.length + compressed.length;
  }
  const central = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...locals, central, end]);
  writeFileSync(zipPath, zip);
  return zip.length;
}
