/** The image view's button icons (webview/shared/inline-icon.ts says why inline SVG). */
import arrowSwap from '@vscode/codicons/src/icons/arrow-swap.svg';
import close from '@vscode/codicons/src/icons/close.svg';
import eye from '@vscode/codicons/src/icons/eye.svg';
import history from '@vscode/codicons/src/icons/history.svg';
import layers from '@vscode/codicons/src/icons/layers.svg';
import listOrdered from '@vscode/codicons/src/icons/list-ordered.svg';
import sortPrecedence from '@vscode/codicons/src/icons/sort-precedence.svg';
import splitHorizontal from '@vscode/codicons/src/icons/split-horizontal.svg';
import symbolColor from '@vscode/codicons/src/icons/symbol-color.svg';
import { inlineIcon } from '../shared/inline-icon';

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

export function icon(name: IconName): SVGSVGElement {
  return inlineIcon(ICONS[name]);
}
