/**
 * The one page every Latent Lab webview loads (the Runs panel, the Latent Explorer): a CSP that
 * allows nothing by default, the bundle's script and styles only by a nonce made fresh for each
 * page, and a webview that reads only the bundle's folder. Plain Node (no `vscode` import), so
 * its promises are tested without VS Code.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  title: string;
  /** The id of the element the script builds the page in. */
  rootId: string;
  /** The script's address as the webview loads it (`webview.asWebviewUri` of the bundle's file). */
  script: string;
  /** The webview's own source for styles, images and fonts (`webview.cspSource`). */
  cspSource: string;
  /** `data-*` attributes of the body, e.g. state the page starts from; escaped here. */
  data?: Record<string, string>;
}

/** What a Latent Lab webview may do: run its bundle's scripts and read the bundle's folder, nothing else. */
export function webviewOptions<Folder>(bundle: Folder): { enableScripts: true; localResourceRoots: Folder[] } {
  return { enableScripts: true, localResourceRoots: [bundle] };
}

/** Text safe inside a double-quoted HTML attribute. */
export function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page's HTML; the nonce is the page's (also in `data-nonce`, for the styles its script adds). */
export function pageHtml(page: WebviewPage, nonce = randomBytes(16).toString('base64')): string {
  const { cspSource } = page;
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${cspSource} 'nonce-${nonce}'`, `img-src ${cspSource} data: blob:`, `font-src ${cspSource}`].join('; ');
  const data = Object.entries({ nonce, ...page.data }).map(([key, value]) => ` data-${key.replace(/[^a-z0-9-]/g, '')}="${attribute(value)}"`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${attribute(page.title)}</title>
</head>
<body${data}>
<div id="${attribute(page.rootId)}"></div>
<script type="module" nonce="${nonce}" src="${attribute(page.script)}"></script>
</body>
</html>`;
}
