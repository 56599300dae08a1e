/**
 * VS Code's own icons (@vscode/codicons) in our pages: each SVG file is bundled as text (esbuild's
 * `.svg` text loader) and put in the page as inline SVG. Not the codicon font: a notebook renderer
 * cannot load a file of the extension (no asWebviewUri), the font inlined as a data URL would add
 * 168 KB to every notebook that loads a renderer and is refused where the notebook's own CSP is on
 * (its font-src takes no data:), while inline SVG needs no source at all and takes the theme's
 * foreground through `currentColor`, high contrast included.
 */

/** A new element for an icon's SVG text, hidden from assistive technology (its button carries the name). */
export function inlineIcon(svgText: string): SVGSVGElement {
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement;
  const svg = document.importNode(parsed, true) as unknown as SVGSVGElement;
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon');
  return svg;
}
