/**
 * The cell kinds, in the order a run executes them: the one list both the runtime and the
 * extension read (no TF.js here, so the extension bundle can import it).
 */
import type { CellKind } from './format/document';
import { CELL_KINDS } from './format/document';

export { CELL_KINDS };
export type { CellKind };

/** The cells that analyse a trained model; they need the train cell's checkpoint. */
export const ANALYSIS_CELLS = ['evaluate', 'reconstruct', 'sample', 'interpolate', 'traverse', 'explore'] as const satisfies readonly CellKind[];
export type AnalysisCell = (typeof ANALYSIS_CELLS)[number];

export function isAnalysisCell(kind: string): kind is AnalysisCell {
  return (ANALYSIS_CELLS as readonly string[]).includes(kind);
}
