/** The image view's page styles: theme variables only, so dark, light and high-contrast themes all read. */
export const IMAGES_STYLE = `
.latent-lab-images { display: flex; flex-direction: column; box-sizing: border-box; padding: 4px 2px; gap: 4px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); overflow: hidden; outline: none; }
.latent-lab-images:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.latent-lab-images .toolbar, .latent-lab-images .scrub { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; flex: none; min-height: 26px; white-space: nowrap; }
.latent-lab-images .group { display: inline-flex; align-items: center; gap: 2px; }
.latent-lab-images .group[hidden], .latent-lab-images .field[hidden], .latent-lab-images vscode-button[hidden] { display: none; }
.latent-lab-images .spacer { flex: 1; }
.latent-lab-images .note, .latent-lab-images .status { color: var(--vscode-descriptionForeground); }
.latent-lab-images .status, .latent-lab-images .notice { flex: none; height: 18px; line-height: 18px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.latent-lab-images .notice { color: var(--vscode-errorForeground, var(--vscode-foreground)); }
/* No notice, no line for it: the view's height is its content's. */
.latent-lab-images .notice:empty { display: none; }
.latent-lab-images .value { display: inline-block; min-width: 7em; font-variant-numeric: tabular-nums; }
.latent-lab-images .plot { position: relative; flex: 1; min-height: 0; }
.latent-lab-images canvas.image-grid { position: absolute; inset: 0; width: 100%; height: 100%; cursor: pointer; touch-action: none; }
.latent-lab-images[data-diff="swipe"] canvas.image-grid { cursor: ew-resize; }
.latent-lab-images[data-enlarged] canvas.image-grid { cursor: grab; }
.latent-lab-images .field { display: inline-flex; align-items: center; gap: 4px; }
.latent-lab-images vscode-button { --vscode-button-paddingHorizontal: 6px; --vscode-button-secondaryBackground: var(--latent-lab-secondary-background); }
/* High-contrast themes give the buttons one background (and none to secondary ones: they would fall back to grey): the chosen mode or order wears the theme's active border, as VS Code's own toggles do. */
.latent-lab-images { --latent-lab-secondary-background: var(--vscode-button-secondaryBackground, transparent); }
.latent-lab-images vscode-button[aria-pressed="true"]::part(base) { border-color: var(--vscode-contrastActiveBorder, var(--vscode-button-border, transparent)); }
/* One epoch: its label takes the slider's place and the buttons stay at the right. */
.latent-lab-images .epoch-label { margin-right: auto; }
/* Narrow outputs: the buttons that have an icon show only it (their title and aria-label still name them). */
.latent-lab-images { container-type: inline-size; }
.latent-lab-images svg.icon { width: 14px; height: 14px; margin-right: 4px; vertical-align: -2px; flex: none; }
/* (After the rule above, which it overrides: the icon centred in a compact button.) */
@container (max-width: 760px) { .latent-lab-images .label.iconic { display: none; } .latent-lab-images svg.icon { margin-right: 0; } .latent-lab-images vscode-button.iconic::part(base) { padding: 1px 5px; } }
.latent-lab-images vscode-single-select { width: 9em; }
.latent-lab-images input[type="range"] { -webkit-appearance: none; appearance: none; vertical-align: middle; height: 16px; margin: 0; background: transparent; }
.latent-lab-images input[type="range"]::-webkit-slider-runnable-track { height: 4px; border-radius: 2px; background: var(--vscode-scrollbarSlider-background, rgba(128, 128, 128, 0.4)); border: 1px solid var(--vscode-contrastBorder, transparent); }
.latent-lab-images input[type="range"]::-webkit-slider-thumb { -webkit-appearance: none; appearance: none; width: 12px; height: 12px; margin-top: -5px; border-radius: 50%; background: var(--vscode-button-background, #0078d4); border: 1px solid var(--vscode-contrastActiveBorder, var(--vscode-contrastBorder, var(--vscode-button-background, #0078d4))); }
.latent-lab-images input[type="range"]:hover::-webkit-slider-thumb { background: var(--vscode-button-hoverBackground, var(--vscode-button-background, #0078d4)); }
.latent-lab-images input[type="range"]:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.latent-lab-images input[type="range"]:disabled { opacity: 0.5; }
.latent-lab-images input.epoch-slider { flex: 1; min-width: 120px; }
.latent-lab-images input.onion-slider, .latent-lab-images input.compare-slider { width: 90px; }
`;
