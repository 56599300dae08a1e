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
import { after, before } from 'node:test';
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

/**
 * The page for the tests of one file: opened before them and closed after them (node:test hooks).
 * `skip` says why there is none (no Chromium); `errors` keeps what the page threw.
 */
export class RendererPage {
  readonly errors: string[] = [];
  skip: string | undefined;
  private opened: Page | undefined;
  private browser: Browser | undefined;
  private server: Server | undefined;

  /** `bundle` (run node scripts/build.mjs first) is served at `/<its file name>` beside `html`. */
  constructor(private readonly options: { bundle: string; html: string; viewport: { width: number; height: number } }) {
    before(() => this.open());
    after(() => this.close());
  }

  get page(): Page {
    if (!this.opened) throw new Error(this.skip ?? 'the renderer page is not open yet');
    return this.opened;
  }

  private async open(): Promise<void> {
    if (!existsSync(CHROMIUM)) {
      this.skip = `${CHROMIUM} is not installed (Debian's chromium package): the renderer tests need a browser`;
      return;
    }
    const { bundle, html, viewport } = this.options;
    assert.ok(existsSync(bundle), `${bundle} is missing: run node scripts/build.mjs first`);
    const script = `/${path.basename(bundle)}`;
    this.server = createServer((request, response) => {
      if (request.url === script) response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(bundle));
      else response.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    const page = await this.browser.newPage({ viewport });
    page.on('pageerror', (error) => this.errors.push(error.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { loaded?: boolean }).loaded === true, undefined, { timeout: 30_000 }).catch(() => assert.fail(`the page did not load the renderer: ${this.errors.join('; ')}`));
    this.opened = page;
  }

  private async close(): Promise<void> {
    await this.browser?.close();
    this.server?.close();
  }
}
