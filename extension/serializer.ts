/**
 * `.aexp` files as notebooks. Each cell's layout (fences, blank lines) rides in its metadata, so
 * saving writes back exactly the bytes of every cell the person did not edit.
 */
import * as vscode from 'vscode';
import type { CellLayout } from './cells';
import { cellsToText, textToCells } from './cells';

export const NOTEBOOK_TYPE = 'latent-lab';
export const CELL_LANGUAGE = 'yaml';

export function layoutOf(cell: { metadata?: { [key: string]: unknown } }): CellLayout | undefined {
  return cell.metadata?.aexp as CellLayout | undefined;
}

export class AexpSerializer implements vscode.NotebookSerializer {
  private readonly encoder = new TextEncoder();

  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    // TextDecoder drops a byte-order mark unless told not to; keep it so that saving round-trips.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(content);
    const cells = textToCells(text).map((cell) => {
      const data = new vscode.NotebookCellData(cell.type === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code, cell.text, cell.type === 'markdown' ? 'markdown' : CELL_LANGUAGE);
      data.metadata = { aexp: cell.layout };
      return data;
    });
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    return this.encoder.encode(cellsToText(data.cells.map((cell) => ({
      type: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' as const : 'code' as const,
      text: cell.value,
      layout: layoutOf(cell),
    }))));
  }
}

/** An open notebook's cells as cells.ts reads them. */
export function notebookCells(notebook: vscode.NotebookDocument): { type: 'markdown' | 'code'; text: string; layout: CellLayout | undefined }[] {
  return notebook.getCells().map((cell) => ({
    type: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' as const : 'code' as const,
    text: cell.document.getText(),
    layout: layoutOf(cell),
  }));
}

/** The `.aexp` text of an open notebook, as it would be saved now. */
export function notebookText(notebook: vscode.NotebookDocument): string {
  return cellsToText(notebookCells(notebook));
}
