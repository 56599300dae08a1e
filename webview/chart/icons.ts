/** The chart toolbar's icons (webview/shared/inline-icon.ts says why inline SVG). */
import discard from '@vscode/codicons/src/icons/discard.svg';
import fileMedia from '@vscode/codicons/src/icons/file-media.svg';
import table from '@vscode/codicons/src/icons/table.svg';
import { inlineIcon } from '../shared/inline-icon';

const ICONS = { 'reset-zoom': discard, 'export-png': fileMedia, 'export-csv': table } as const;

export type IconName = keyof typeof ICONS;

export function icon(name: IconName): SVGSVGElement {
  return inlineIcon(ICONS[name]);
}
