/** The explorer's styles: theme colours only, so light, dark and high-contrast all read. */
export const EXPLORER_STYLE = `
body { padding: 0 8px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
#explorer-root { display: flex; flex-direction: column; gap: 6px; }
.controls { display: flex; flex-direction: column; gap: 4px; }
.controls vscode-single-select { width: 100%; }
.row { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.row vscode-single-select { flex: 1; min-width: 6em; }
.status { margin: 0; color: var(--vscode-descriptionForeground); }
.scatter-wrap { position: relative; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent)); }
.scatter-wrap canvas { position: absolute; left: 0; top: 0; }
.scatter { cursor: crosshair; touch-action: none; }
.scatter:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.overlay { pointer-events: none; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 6px; align-items: center; }
.legend .class { display: inline-flex; gap: 3px; align-items: center; background: none; border: 1px solid transparent; color: var(--vscode-foreground); font: inherit; padding: 1px 3px; cursor: pointer; }
.legend .class[aria-pressed=false] { opacity: 0.4; text-decoration: line-through; }
.legend .class:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.swatch { width: 10px; height: 10px; border-radius: 50%; display: inline-block; }
.ramp { width: 80px; height: 8px; background: linear-gradient(to right, #440154, #3b528b, #21918c, #5ec962, #fde725); }
.figures { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; }
[hidden] { display: none !important; }
figcaption, .caption { color: var(--vscode-descriptionForeground); font-size: 0.9em; overflow-wrap: anywhere; }
/* A caption as wide as its images and wrapped, never widening its figure: the figures stay side by side. */
figcaption { width: 0; min-width: 100%; }
.pair { display: flex; gap: 2px; }
canvas.input, canvas.reconstruction, canvas.decoded, canvas.classes, canvas.strip-images, canvas.lasso-images { image-rendering: pixelated; outline: 1px solid var(--vscode-contrastBorder, transparent); }
h3 { font-size: 1em; margin: 4px 0; font-weight: 600; }
.slider { display: grid; grid-template-columns: 11em 1fr; align-items: center; gap: 4px; }
.slider.inactive label { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); }
input[type=range] { accent-color: var(--vscode-focusBorder); width: 100%; }
input[type=range]:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.strip canvas, .lasso canvas { max-width: 100%; }
`;
