/** The chart's page styles: theme variables only, so dark, light and high-contrast themes all read. */
export const CHART_STYLE = `
.latent-lab-chart { display: flex; flex-direction: column; box-sizing: border-box; padding: 4px 0; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); overflow: hidden; }
.latent-lab-chart .toolbar, .latent-lab-chart .legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; flex: none; }
.latent-lab-chart .legend { gap: 2px 6px; margin: 4px 0; max-height: 48px; overflow: hidden; }
.latent-lab-chart .spacer { flex: 1; }
.latent-lab-chart .note { color: var(--vscode-descriptionForeground); }
.latent-lab-chart .value { display: inline-block; min-width: 3em; font-variant-numeric: tabular-nums; }
.latent-lab-chart .plot { position: relative; flex: 1; min-height: 0; }
.latent-lab-chart button { color: var(--vscode-button-secondaryForeground, var(--vscode-foreground)); background: var(--vscode-button-secondaryBackground, transparent); border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent)); border-radius: 2px; padding: 1px 6px; font: inherit; cursor: pointer; }
.latent-lab-chart button:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-toolbar-hoverBackground)); }
.latent-lab-chart button:focus-visible, .latent-lab-chart input:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.latent-lab-chart button.series { background: transparent; border-color: transparent; padding: 0 4px; }
.latent-lab-chart button.series[aria-pressed="false"] { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); text-decoration: line-through; }
.latent-lab-chart .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border: 2px solid; border-radius: 2px; vertical-align: -1px; }
.latent-lab-chart vscode-single-select { width: 9em; }
.latent-lab-chart .field { display: inline-flex; align-items: center; gap: 4px; }
.latent-lab-chart input[type="range"] { accent-color: var(--vscode-button-background); vertical-align: middle; width: 80px; }
.latent-lab-chart svg.icon { display: block; width: 16px; height: 16px; }
`;
