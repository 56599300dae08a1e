/**
 * A notebook renderer's built bundle in a real browser (Debian's Chromium through playwright-core),
 * as VS Code loads it: a module at `/<bundle's file name>` next to the test's page, which activates
 * it with a stand-in for VS Code's renderer context (rendererContextScript) and sets
 * `window.loaded` once its harness is ready.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Module-script text for the test's page: `context`, a renderer context that records what the
 * renderer posts in `sent` and hands each listener what `deliver(message)` gets, and
 * `outputItem(json, id)`, an output item of `mime` as VS Code passes it to renderOutputItem.
 */
export function rendererContextScript(mime: string): string {
  return `const listeners = [];
const sent = [];
const deliver = (message) => listeners.forEach((listener) => listener(message));
const context = {
  postMessage: (message) => sent.push(message),
  onDidReceiveMessage: (listener) => { listeners.push(listener); return { dispose() {} }; },
  setState() {}, getState() { return undefined; }, workspace: { isTrusted: true }, settings: { lineLimit: 30 },
};
const outputItem = (json, id) => ({ id, mime: ${JSON.stringify(mime)}, metadata: {}, json: () => json, text: () => JSON.stringify(json), data: () => new TextEncoder().encode(JSON.stringify(json)), blob: () => new Blob([JSON.stringify(json)]) });
`;
}

/** The open page, or why the tests skip; errors thrown in the page are kept in `errors`. */
export class RendererPage {
  readonly errors: string[] = [];
  private constructor(
    readonly page: Page | undefined,
    readonly skip: string | undefined,
    private readonly browser?: Browser,
    private readonly server?: Server,
  ) {}

  /** Serves `html` and `bundle` (run node scripts/build.mjs first) and waits until the page is loaded. */
  static async open(options: { bundle: string; html: string; viewport: { width: number; height: number } }): Promise<RendererPage> {
    if (!existsSync(CHROMIUM)) return new RendererPage(undefined, `${CHROMIUM} is not installed (Debian's chromium package): the renderer tests need a browser`);
    assert.ok(existsSync(options.bundle), `${options.bundle} is missing: run node scripts/build.mjs first`);
    const script = `/${path.basename(options.bundle)}`;
    const server = createServer((request, response) => {
      if (request.url === script) response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(options.bundle));
      else response.writeHead(200, { 'content-type': 'text/html' }).end(options.html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    const page = await browser.newPage({ viewport: options.viewport });
    const opened = new RendererPage(page, undefined, browser, server);
    page.on('pageerror', (error) => opened.errors.push(error.message));
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => (globalThis as unknown as { loaded?: boolean }).loaded === true, undefined, { timeout: 30_000 });
    } catch {
      await opened.close();
      assert.fail(`the page did not load the renderer: ${opened.errors.join('; ')}`);
    }
    return opened;
  }

  async close(): Promise<void> {
    await this.browser?.close();
    this.server?.close();
  }
}
