/**
 * Completion and hover inside `.aexp` cells, from the runtime's schemas (schemaHelp.ts). A cell's
 * kind comes from its metadata, so a `model` cell completes model keys.
 */
import * as vscode from 'vscode';
import { isCellKind } from '../runtime/format/document';
import type { CellKind } from '../runtime/format/document';
import { FRONT_MATTER } from './cells';
import { completions, hover } from './schemaHelp';
import { CELL_LANGUAGE, layoutOf, NOTEBOOK_TYPE } from './serializer';

function kindOf(document: vscode.TextDocument): CellKind | 'front-matter' | undefined {
  for (const notebook of vscode.workspace.notebookDocuments) {
    if (notebook.notebookType !== NOTEBOOK_TYPE) continue;
    const cell = notebook.getCells().find((candidate) => candidate.document === document);
    if (!cell) continue;
    const kind = layoutOf(cell)?.kind;
    if (kind === FRONT_MATTER) return 'front-matter';
    return kind && isCellKind(kind) ? kind : undefined;
  }
  return undefined;
}

export function registerLanguageFeatures(): vscode.Disposable {
  const selector: vscode.DocumentSelector = { notebookType: NOTEBOOK_TYPE, language: CELL_LANGUAGE };
  return vscode.Disposable.from(
    vscode.languages.registerCompletionItemProvider(selector, {
      provideCompletionItems(document, position) {
        const kind = kindOf(document);
        if (!kind) return [];
        return completions(kind, document.getText(), position.line, position.character).map((suggestion) => {
          const item = new vscode.CompletionItem(suggestion.label, suggestion.role === 'key' ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.EnumMember);
          item.insertText = suggestion.insertText;
          item.detail = suggestion.detail;
          item.documentation = new vscode.MarkdownString(suggestion.documentation);
          item.sortText = `${suggestion.preferred ? '0' : '1'}${suggestion.label}`;
          item.preselect = suggestion.preferred;
          // Accepting a key goes on to its values.
          if (suggestion.role === 'key') item.command = { title: 'Suggest values', command: 'editor.action.triggerSuggest' };
          return item;
        });
      },
    }, ':', ' ', '[', ','),
    vscode.languages.registerHoverProvider(selector, {
      provideHover(document, position) {
        const kind = kindOf(document);
        const found = kind && hover(kind, document.getText(), position.line, position.character);
        if (!found) return undefined;
        return new vscode.Hover(new vscode.MarkdownString(found.markdown), new vscode.Range(position.line, found.start, position.line, found.end));
      },
    }),
  );
}
