/**
 * Downloads into the dataset cache: streamed to a temporary file beside the target, checked
 * against its published MD5, then renamed into place, so the cache never holds a partial file.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { DatasetError } from './dataset';

export interface DownloadOptions {
  /** Called with bytes received and the total when the server says it. */
  onProgress?: (received: number, total: number | undefined) => void;
  timeoutMs?: number;
}

function get(url: string, timeoutMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(url, { timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location && redirects > 0) {
        response.resume();
        resolve(get(new URL(response.headers.location, url).toString(), timeoutMs, redirects - 1));
        return;
      }
      if (status !== 200) {
        response.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      resolve(response);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    request.on('error', reject);
  });
}

export async function downloadVerified(url: string, target: string, md5: string, options: DownloadOptions = {}): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.partial-${process.pid}-${Date.now()}`;
  const fail = (reason: string): never => {
    throw new DatasetError(`could not download ${url} into ${target}: ${reason}. Check the network, or put the file there by hand (or point --data-dir / AEXP_DATA_DIR at a folder that has it).`);
  };
  try {
    let response: http.IncomingMessage;
    try {
      response = await get(url, options.timeoutMs ?? 60_000);
    } catch (error) {
      return fail((error as Error).message);
    }
    const total = Number(response.headers['content-length']) || undefined;
    const hash = createHash('md5');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        hash.update(chunk);
        options.onProgress?.(received, total);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response, meter, createWriteStream(temporary));
    } catch (error) {
      return fail(`the transfer broke off after ${received} bytes (${(error as Error).message})`);
    }
    if (total !== undefined && received !== total) fail(`received ${received} of ${total} bytes`);
    const digest = hash.digest('hex');
    if (digest !== md5) fail(`checksum mismatch (md5 ${digest}, expected ${md5}); the file was discarded`);
    await fs.rename(temporary, target);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}
