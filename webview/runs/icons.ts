/** The Runs panel's icons (webview/shared/inline-icon.ts says why inline SVG). */
import chevronDown from '@vscode/codicons/src/icons/chevron-down.svg';
import chevronRight from '@vscode/codicons/src/icons/chevron-right.svg';
import debugContinue from '@vscode/codicons/src/icons/debug-continue.svg';
import folderOpened from '@vscode/codicons/src/icons/folder-opened.svg';
import goToFile from '@vscode/codicons/src/icons/go-to-file.svg';
import refresh from '@vscode/codicons/src/icons/refresh.svg';
import table from '@vscode/codicons/src/icons/table.svg';
import trash from '@vscode/codicons/src/icons/trash.svg';
import { inlineIcon } from '../shared/inline-icon';

const ICONS = {
  openExperiment: goToFile,
  openFolder: folderOpened,
  continue: debugContinue,
  delete: trash,
  refresh,
  exportCsv: table,
  expand: chevronRight,
  collapse: chevronDown,
} as const;

export type IconName = keyof typeof ICONS;

export function icon(name: IconName): SVGSVGElement {
  return inlineIcon(ICONS[name]);
}
