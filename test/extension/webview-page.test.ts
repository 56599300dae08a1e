/** The page every Latent Lab webview loads: its CSP, nonces, body data and resource roots. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attribute, pageHtml, webviewOptions } from '../../extension/webview-page';

const CSP_SOURCE = 'https://webview.example';
const page = (data?: Record<string, string>) => pageHtml({ title: 'Runs', rootId: 'runs-root', script: 'https://webview.example/dist/webview/runs.js', cspSource: CSP_SOURCE, ...(data ? { data } : {}) });

/** The CSP's directives by name, from the page's meta element. */
function policy(html: string): Map<string, string[]> {
  const content = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(content, 'the page has a CSP meta element');
  return new Map(content.replace(/&#39;/g, "'").split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

test('the CSP allows nothing by default, scripts only by the page\'s nonce, and styles, images and fonts from the webview\'s own source', () => {
  const html = page();
  const csp = policy(html);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  const nonce = /data-nonce="([^"]+)"/.exec(html)![1];
  assert.deepEqual(csp.get('script-src'), [`'nonce-${nonce}'`], 'no unsafe-inline, no host: only scripts bearing the nonce run');
  assert.deepEqual(csp.get('style-src'), [CSP_SOURCE, `'nonce-${nonce}'`]);
  assert.deepEqual(csp.get('img-src'), [CSP_SOURCE, 'data:', 'blob:']);
  assert.deepEqual(csp.get('font-src'), [CSP_SOURCE]);
  assert.deepEqual([...csp.keys()].sort(), ['default-src', 'font-src', 'img-src', 'script-src', 'style-src']);
});

test('every script carries the nonce, which is new for each page', () => {
  const html = page();
  const nonce = /data-nonce="([^"]+)"/.exec(html)![1];
  assert.ok(Buffer.from(nonce, 'base64').length >= 16, 'the nonce has at least 128 random bits');
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  for (const script of scripts) assert.ok(script.includes(` nonce="${nonce}"`), script);
  assert.notEqual(/data-nonce="([^"]+)"/.exec(page())![1], nonce);
});

test('the page has no inline event handlers, and body data cannot open an element or attribute of its own', () => {
  const hostile = JSON.stringify({ selected: ['"><script>alert(1)</script><img src=x onerror=alert(2)>'] });
  const html = page({ state: hostile });
  const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
  const attributes = tags.flatMap((tag) => [...tag.replace(/^<[a-z]+/i, '').matchAll(/\s*([^\s=>]+)(?:="[^"]*")?/g)].map((match) => match[1]));
  assert.deepEqual(attributes.filter((name) => /^on/i.test(name)), [], 'no element has an on* attribute');
  assert.deepEqual(tags.map((tag) => /^<([a-z]+)/i.exec(tag)![1]), ['html', 'head', 'meta', 'meta', 'meta', 'title', 'body', 'div', 'script'], 'the state opened no element');
  assert.equal((html.match(/<script\b/g) ?? []).length, 1, 'the state opened no script');
  const state = /data-state="([^"]*)"/.exec(html)![1];
  assert.equal(state, attribute(hostile));
  // What the page's script reads back (dataset decodes the entities) is the state as given.
  assert.equal(state.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'), hostile);
});

test('a webview reads only the bundle folder and runs scripts', () => {
  const bundle = { path: '/extension/dist/webview' };
  const options = webviewOptions(bundle);
  assert.deepEqual(options, { enableScripts: true, localResourceRoots: [bundle] });
  assert.equal(options.localResourceRoots[0], bundle);
});
