/** The panel's styles: theme variables only, so that dark, light and high-contrast themes all read. */
export const RUNS_STYLE = `
body { padding: 0 12px 12px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); }
h2 { font-size: 1.1em; font-weight: 600; margin: 14px 0 6px; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin: 8px 0; }
.toolbar .spacer { flex: 1; }
.note { color: var(--vscode-descriptionForeground); }
.problem { color: var(--vscode-errorForeground); }
.message { padding: 16px 0; max-width: 60em; line-height: 1.5; }
vscode-textfield { width: 18em; }
vscode-single-select { width: 10em; }
.table-wrap { max-height: 45vh; overflow: auto; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px; white-space: nowrap; border-bottom: 1px solid var(--vscode-editorGroup-border, transparent); }
th { position: sticky; top: 0; background: var(--vscode-editor-background); z-index: 1; font-weight: 600; }
th.config { color: var(--vscode-textLink-foreground); }
th button.sort { all: unset; cursor: pointer; }
th button.sort:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
th button.sort::after { content: attr(data-arrow); margin-left: 4px; }
td.number { text-align: right; }
/* Long names and device strings are cut to a width, whole in their tooltip: the columns compared stay in view. */
.clip { display: inline-block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.clip.experiment { max-width: 26em; }
.clip.backend { max-width: 16em; }
tr.sweep-group td { border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); font-weight: 600; }
tr.sweep-group .note, tr.sweep-group .problem { font-weight: normal; }
tr.sweep-group.plotted .sweep-name { text-decoration: underline; }
tr.sweep-run td:nth-child(2) { padding-left: 24px; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr.hovered { background: var(--vscode-list-hoverBackground); }
tbody tr[aria-selected="true"] { background: var(--vscode-list-inactiveSelectionBackground); color: var(--vscode-list-inactiveSelectionForeground, inherit); }
tbody tr:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.status { display: inline-block; padding: 0 6px; border-radius: 8px; border: 1px solid currentColor; font-size: 0.9em; }
.status.running { color: var(--vscode-charts-blue, var(--vscode-foreground)); }
.status.completed, .status.early-stopped { color: var(--vscode-charts-green, var(--vscode-foreground)); }
.status.diverged { color: var(--vscode-charts-red, var(--vscode-errorForeground)); }
.status.stopped, .status.interrupted, .status.analysis { color: var(--vscode-descriptionForeground); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.actions { display: inline-flex; gap: 2px; }
button.icon-button { display: inline-flex; align-items: center; justify-content: center; width: 22px; height: 22px; padding: 0; color: var(--vscode-icon-foreground, var(--vscode-foreground)); background: transparent; border: 1px solid transparent; border-radius: 4px; cursor: pointer; }
button.icon-button:hover { background: var(--vscode-toolbar-hoverBackground); }
button.icon-button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
button.icon-button:disabled { opacity: 0.4; cursor: default; }
svg.icon { display: block; width: 16px; height: 16px; }
.chart { position: relative; height: 320px; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 12px; margin: 4px 0; }
.legend span.entry.highlighted { font-weight: 600; text-decoration: underline; }
input[type="range"] { accent-color: var(--vscode-button-background); vertical-align: middle; width: 100px; }
body.vscode-high-contrast input[type="range"], body.vscode-high-contrast-light input[type="range"] { accent-color: var(--vscode-focusBorder); }
input[type="range"]:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.views { display: grid; grid-template-columns: max-content 1fr; gap: 6px 12px; align-items: center; }
.views canvas { image-rendering: pixelated; border: 1px solid var(--vscode-panel-border, transparent); }
.empty { color: var(--vscode-descriptionForeground); padding: 8px 0; }
`;
