/**
 * Validation of `.aexp` cells as the person types: the runtime's own parser and schema run on the
 * notebook's text, and each problem is shown inside the cell it belongs to, with "did you mean"
 * offered as a quick fix (never one that writes a key the mapping already has: keyFix.ts).
 */
import * as vscode from 'vscode';
import { loadExperiment } from '../runtime/format/validate';
import { cellOffsets, cellsToText } from './cells';
import { keyFix } from './keyFix';
import { layoutOf, NOTEBOOK_TYPE } from './serializer';

function cellsOf(notebook: vscode.NotebookDocument) {
  return notebook.getCells().map((cell) => ({
    cell,
    type: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' as const : 'code' as const,
    text: cell.document.getText(),
    layout: layoutOf(cell),
  }));
}

export class AexpDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  private readonly collection = vscode.languages.createDiagnosticCollection('latent-lab');
  private readonly fixes = new WeakMap<vscode.Diagnostic, string>();
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.update(notebook)),
      vscode.workspace.onDidChangeNotebookDocument((event) => this.schedule(event.notebook)),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        for (const cell of notebook.getCells()) this.collection.delete(cell.document.uri);
      }),
      vscode.languages.registerCodeActionsProvider({ notebookType: NOTEBOOK_TYPE, language: 'yaml' }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
    for (const notebook of vscode.workspace.notebookDocuments) this.update(notebook);
  }

  private schedule(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => this.update(notebook), 150));
  }

  update(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE || notebook.isClosed) return;
    const cells = cellsOf(notebook);
    const offsets = cellOffsets(cells);
    const text = cellsToText(cells);
    const experiment = loadExperiment(text, notebook.uri.fsPath);
    const lineStarts = experiment.document.lineStarts;
    const byCell = new Map<number, vscode.Diagnostic[]>();
    for (const problem of experiment.diagnostics) {
      const start = lineStarts[problem.start.line - 1] + problem.start.column - 1;
      const end = lineStarts[problem.end.line - 1] + problem.end.column - 1;
      // The cell whose visible text contains the problem; a problem on a fence goes to the cell below it.
      let index = offsets.findIndex((offset, position) => start < offset + cells[position].text.length + 1 && start >= offset - (cells[position].layout?.before.length ?? 0));
      if (index < 0) index = 0;
      const cell = cells[index];
      const local = (offset: number) => cell.cell.document.positionAt(Math.max(0, Math.min(cell.text.length, offset - offsets[index])));
      const diagnostic = new vscode.Diagnostic(new vscode.Range(local(start), local(Math.max(end, start))), problem.message, problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'Latent Lab';
      if (problem.fix !== undefined) this.fixes.set(diagnostic, problem.fix);
      byCell.set(index, [...(byCell.get(index) ?? []), diagnostic]);
    }
    cells.forEach(({ cell }, index) => this.collection.set(cell.document.uri, byCell.get(index) ?? []));
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      const suggestion = this.fixes.get(diagnostic);
      if (suggestion === undefined) continue;
      const fix = keyFix(document.getText(), document.offsetAt(diagnostic.range.start), document.offsetAt(diagnostic.range.end), suggestion);
      if (!fix) continue;
      const action = fix.kind === 'replace'
        ? new vscode.CodeAction(`Change to "${fix.text}"`, vscode.CodeActionKind.QuickFix)
        : new vscode.CodeAction(`Remove "${fix.key}" ("${fix.existing}" is already set)`, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      if (fix.kind === 'replace') action.edit.replace(document.uri, diagnostic.range, fix.text);
      else action.edit.delete(document.uri, new vscode.Range(document.positionAt(fix.start), document.positionAt(fix.end)));
      action.diagnostics = [diagnostic];
      // Removing drops what the person wrote, so it is offered, never preferred.
      action.isPreferred = fix.kind === 'replace';
      actions.push(action);
    }
    return actions;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
