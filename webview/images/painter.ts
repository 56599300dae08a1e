/**
 * Draws images onto the view's canvas with pixelated scaling: each image is written once into a
 * small scratch canvas of its own size and then scaled onto the view (no smoothing, so a 28×28
 * digit shows its real pixels), clipped to its pane. Also the colour scale and the divider.
 */
import type { Box } from './layout';
import { colourAt } from './pixels';

/** Writes one image's RGBA into an ImageData of the image's size; false when the image is not there. */
export type Paint = (target: ImageData) => boolean;

export interface Theme {
  foreground: string;
  muted: string;
  border: string;
  focus: string;
  background: string;
  font: string;
  /** The high-contrast themes' border colour; empty in other themes. */
  contrast: string;
}

function cssVariable(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function readTheme(): Theme {
  return {
    foreground: cssVariable('--vscode-foreground', '#cccccc'),
    muted: cssVariable('--vscode-descriptionForeground', '#999999'),
    border: cssVariable('--vscode-contrastBorder', cssVariable('--vscode-editorWidget-border', 'rgba(128,128,128,0.5)')),
    focus: cssVariable('--vscode-focusBorder', '#007fd4'),
    background: cssVariable('--vscode-editor-background', cssVariable('--vscode-notebook-outputContainerBackgroundColor', '#1e1e1e')),
    font: cssVariable('--vscode-font-family', 'sans-serif'),
    contrast: cssVariable('--vscode-contrastBorder', ''),
  };
}

export function intersect(a: Box, b: Box): Box {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - x), height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - y) };
}

export class Painter {
  private readonly scratch = document.createElement('canvas');
  private readonly scratchContext = this.scratch.getContext('2d')!;
  private data: ImageData | undefined;

  /** The source images' size; the scratch follows it. */
  resize(width: number, height: number): void {
    if (this.data && this.data.width === width && this.data.height === height) return;
    this.scratch.width = width;
    this.scratch.height = height;
    this.data = this.scratchContext.createImageData(width, height);
  }

  /**
   * `paint`'s image scaled onto `image` (where the whole image lands), showing only the part inside
   * `clip`, at `alpha`. False when the image is not there (nothing drawn).
   */
  draw(context: CanvasRenderingContext2D, paint: Paint, image: Box, clip: Box, alpha = 1): boolean {
    if (!this.data || !paint(this.data)) return false;
    this.scratchContext.putImageData(this.data, 0, 0);
    const visible = intersect(clip, image);
    if (visible.width <= 0 || visible.height <= 0) return true;
    context.save();
    context.beginPath();
    context.rect(visible.x, visible.y, visible.width, visible.height);
    context.clip();
    context.globalAlpha = alpha;
    context.imageSmoothingEnabled = false;
    context.drawImage(this.scratch, image.x, image.y, image.width, image.height);
    context.restore();
    return true;
  }

  /** A pane whose image is not there yet (or at all): a hatched box, so a gap is not read as a black image. */
  missing(context: CanvasRenderingContext2D, box: Box, theme: Theme): void {
    context.save();
    context.strokeStyle = theme.muted;
    context.globalAlpha = 0.5;
    context.setLineDash([3, 3]);
    context.strokeRect(box.x + 0.5, box.y + 0.5, Math.max(0, box.width - 1), Math.max(0, box.height - 1));
    context.restore();
  }

  /** The swipe divider: a line in the theme's focus colour with a dark edge, and a grip. */
  divider(context: CanvasRenderingContext2D, x: number, box: Box, theme: Theme): void {
    context.save();
    context.fillStyle = 'rgba(0,0,0,0.6)';
    context.fillRect(Math.round(x) - 2, box.y, 4, box.height);
    context.fillStyle = theme.focus;
    context.fillRect(Math.round(x) - 1, box.y, 2, box.height);
    const grip = Math.min(10, box.height / 3);
    context.fillRect(Math.round(x) - 3, box.y + box.height / 2 - grip / 2, 6, grip);
    context.restore();
  }

  /** The heatmap's colour scale from 0 to `top` (a fraction of full intensity) with numbers, in `box`. */
  legend(context: CanvasRenderingContext2D, box: Box, top: number, title: string, theme: Theme): void {
    context.save();
    const bar = { x: box.x, y: box.y + 22, width: 12, height: Math.max(20, box.height - 30) };
    for (let row = 0; row < bar.height; row++) {
      context.fillStyle = colourAt(1 - row / Math.max(1, bar.height - 1));
      context.fillRect(bar.x, bar.y + row, bar.width, 1);
    }
    context.strokeStyle = theme.border;
    context.strokeRect(bar.x - 0.5, bar.y - 0.5, bar.width + 1, bar.height + 1);
    context.fillStyle = theme.foreground;
    context.font = `11px ${theme.font}`;
    context.textBaseline = 'middle';
    context.textAlign = 'left';
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const y = bar.y + bar.height - fraction * (bar.height - 1);
      context.fillRect(bar.x + bar.width, Math.round(y), 3, 1);
      context.fillText(formatScale(top * fraction), bar.x + bar.width + 5, y);
    }
    context.textBaseline = 'top';
    context.fillStyle = theme.muted;
    context.fillText(title, box.x, box.y);
    context.restore();
  }
}

function formatScale(value: number): string {
  if (value === 0) return '0';
  return String(Number(value.toPrecision(3)));
}
