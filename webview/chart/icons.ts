/**
 * The toolbar's icons: VS Code's own (@vscode/codicons), each bundled as its SVG file's text and
 * put in the page as inline SVG. Not the codicon font: a notebook renderer cannot load a file of
 * the extension (no asWebviewUri), the font inlined as a data URL would add 168 KB to every
 * notebook that loads the renderer and is refused where the notebook's own CSP is on (its
 * font-src takes no data:), while inline SVG needs no source at all and takes the theme's
 * foreground through `currentColor`, high contrast included.
 */
import discard from '@vscode/codicons/src/icons/discard.svg';
import fileMedia from '@vscode/codicons/src/icons/file-media.svg';
import table from '@vscode/codicons/src/icons/table.svg';

const ICONS = { 'reset-zoom': discard, 'export-png': fileMedia, 'export-csv': table } as const;

export type IconName = keyof typeof ICONS;

/** A new element for the icon, hidden from assistive technology (its button carries the name). */
export function icon(name: IconName): SVGSVGElement {
  const parsed = new DOMParser().parseFromString(ICONS[name], 'image/svg+xml').documentElement;
  const svg = document.importNode(parsed, true) as unknown as SVGSVGElement;
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon');
  return svg;
}
