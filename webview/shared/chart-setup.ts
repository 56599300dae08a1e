/**
 * What the training chart and the runs panel's charts (chart.js) set up alike: charts patched in
 * place and drawn at once (update('none'), no animation) filling their element's fixed height, and
 * axes whose text and grid take the theme's colours.
 */
import { cssVariable } from './dom';

export const PATCHED_CHART_OPTIONS = { animation: false, responsive: true, maintainAspectRatio: false } as const;

/** For data given as {x, y} points sorted by x: chart.js draws them as they are, without parsing or sorting. */
export const POINT_DATA_OPTIONS = { parsing: false, normalized: true } as const;

export interface AxisColours {
  foreground: string;
  grid: string;
}

/** Read once per draw or per theme: reading styles costs a style recalculation. */
export function readAxisColours(): AxisColours {
  return {
    foreground: cssVariable('--vscode-foreground', '#ccc'),
    grid: cssVariable('--vscode-editorWidget-border', cssVariable('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
  };
}

/** An axis's title, ticks (with `ticks`' own options) and grid lines in the theme's colours. */
export function themedAxis(title: string, colours: AxisColours, ticks: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { display: true, text: title, color: colours.foreground }, ticks: { color: colours.foreground, ...ticks }, grid: { color: colours.grid } };
}
