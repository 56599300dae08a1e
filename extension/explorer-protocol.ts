/**
 * What the extension host and the Latent Explorer's page (webview/explorer/) say to each other.
 * Types only: both sides `import type` it. The page speaks first (`ready`, again each time the
 * view is shown, since a hidden view's page is discarded); the host answers with the runs and, if
 * it has them, the points it computed before. The host checks every message of the page before
 * using it (explorer.ts parsePageMessage): a run is named by its folder, and only folders the host
 * listed are read.
 */
import type { ExploreExampleResult, ExploreImages, ExploreResult, ExploreSplit } from '../runtime/protocol';

export type { ExploreDimension, ExploreExampleResult, ExploreImages, ExploreModel, ExploreResult, ExploreSplit } from '../runtime/protocol';

/** A run the picker offers: newest first, with its experiment's title. */
export interface ExplorerRun {
  runDir: string;
  label: string;
  /** `last`, `best`, `epoch-N`: the checkpoints this run folder keeps. */
  checkpoints: string[];
}

/** Which points the view shows. */
export interface ExplorerChoice {
  runDir: string;
  checkpoint: string;
  split: ExploreSplit;
  /** PCA (the default) or UMAP of a subsample; a 2-d code is shown as it is either way. */
  projection?: 'pca' | 'umap';
}

/** The pan and zoom of the scatter: data coordinates at the view's centre, and pixels per data unit. */
export interface Camera {
  x: number;
  y: number;
  scale: number;
}

export type ColourBy = 'label' | 'loss' | `dimension-${number}`;

/** What the page keeps across a hide or a window reload (`setState`). */
export interface ExplorerState {
  choice?: ExplorerChoice;
  /** Whether the view follows the notebook's current run. */
  follow: boolean;
  camera?: Camera;
  colour: ColourBy;
  /** Classes the legend hides. */
  hidden: number[];
  /** The point being looked at (a latent vector), and the examples picked for an interpolation. */
  current?: number[];
  picked: number[];
}

/** Page → host. */
export type PageMessage =
  | { type: 'ready'; choice?: ExplorerChoice; follow: boolean }
  | { type: 'choose'; choice: ExplorerChoice; follow: boolean }
  | { type: 'example'; index: number }
  | { type: 'decode'; z: number[]; label?: number }
  | { type: 'decodeClasses'; z: number[] }
  | { type: 'interpolate'; from: number[]; to: number[]; steps: number; method: 'lerp' | 'slerp'; label?: number }
  /** The examples inside a lasso: the first 48 at most (explorer.ts LASSO_LIMIT), in index order. */
  | { type: 'lasso'; indices: number[] };

/** Host → page. */
export type HostMessage =
  | { type: 'untrusted'; message: string }
  | { type: 'runs'; runs: ExplorerRun[]; choice?: ExplorerChoice; follow: boolean }
  | { type: 'busy'; message: string }
  | { type: 'points'; choice: ExplorerChoice; result: ExploreResult }
  | { type: 'example'; result: ExploreExampleResult }
  | { type: 'decoded'; z: number[]; images: ExploreImages }
  | { type: 'classes'; images: ExploreImages }
  | { type: 'strip'; images: ExploreImages }
  /** The lassoed examples' inputs, in the order asked. */
  | { type: 'lasso'; indices: number[]; images: ExploreImages }
  | { type: 'notice'; message: string };
