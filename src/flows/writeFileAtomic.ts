import { createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";

/**
 * Writes a file so that it appears whole or not at all: the content goes to a hidden temporary name
 * in the same directory (same file system, so the rename is atomic), is flushed to disk (fsync), and
 * is renamed over the final name; then the directory is fsynced so the rename itself survives a power
 * cut. A reader never sees a half-written file under the final name.
 *
 * The temporary name is derived from the final one, so a rerun after a crash mid-write reuses (and
 * truncates) the leftover instead of accumulating debris.
 */
export async function writeFileAtomic(
  finalPath: string,
  chunks: AsyncIterable<string> | Iterable<string>,
): Promise<number> {
  const dir = path.dirname(finalPath);
  const tmp = path.join(dir, `.${path.basename(finalPath)}.partial`);
  const out = createWriteStream(tmp, { flags: "w" });
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    const fh = await open(tmp, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, finalPath);
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  return bytes;
}
