/**
 * The image view's button icons: VS Code's own (@vscode/codicons), bundled as their SVG files'
 * text and put in the page as inline SVG, for the reasons webview/chart/icons.ts gives (no font
 * file can be loaded by a renderer; inline SVG needs no source and takes `currentColor`).
 */
import arrowSwap from '@vscode/codicons/src/icons/arrow-swap.svg';
import close from '@vscode/codicons/src/icons/close.svg';
import eye from '@vscode/codicons/src/icons/eye.svg';
import history from '@vscode/codicons/src/icons/history.svg';
import layers from '@vscode/codicons/src/icons/layers.svg';
import listOrdered from '@vscode/codicons/src/icons/list-ordered.svg';
import sortPrecedence from '@vscode/codicons/src/icons/sort-precedence.svg';
import splitHorizontal from '@vscode/codicons/src/icons/split-horizontal.svg';
import symbolColor from '@vscode/codicons/src/icons/symbol-color.svg';

const ICONS = {
  'side-by-side': splitHorizontal,
  swipe: arrowSwap,
  onion: layers,
  flicker: eye,
  epochs: history,
  index: listOrdered,
  worst: sortPrecedence,
  scale: symbolColor,
  close,
} as const;

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
