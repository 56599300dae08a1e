/**
 * The train cell's live chart, host side: its output item (the run's points, chart-points.ts,
 * compacted to re-send once per epoch and draw alone when the notebook reopens); its new points
 * go to the renderers by the ChartChannel (chart-channel.ts).
 */
import * as vscode from 'vscode';
import { ChartPoints } from './chart-points';

export { CHART_MESSAGE_INTERVAL_MS, ChartChannel } from './chart-channel';
export type { ChartHistory } from './chart-points';
export { SNAPSHOT_STEP_LIMIT } from './chart-points';

export const CHART_MIME = 'application/vnd.latent-lab.chart+json';
export const CHART_RENDERER_ID = 'latent-lab.chart';

export class TrainingChart extends ChartPoints {
  /** The output item: the whole history, compacted (version 2), re-sent each epoch. */
  item(): vscode.NotebookCellOutputItem {
    return vscode.NotebookCellOutputItem.json(this.compact(), CHART_MIME);
  }
}
