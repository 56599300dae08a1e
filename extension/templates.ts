/**
 * Experiment templates for "Train VAE" and "New Experiment": one `.aexp` text per model kind and
 * dataset, written to read like the samples. Pure (no `vscode`), so the unit tests check that
 * every template passes the runtime's own validation.
 */
import type { DataConfig, ModelConfig } from '../runtime/format/schema';

export type TemplateDataset = DataConfig['dataset'];
export type TemplateKind = ModelConfig['kind'];

/** `download`: what the first run fetches into the dataset cache folder (published sizes). */
export const TEMPLATE_DATASETS: readonly { dataset: TemplateDataset; label: string; detail: string; download?: string }[] = [
  { dataset: 'sprites', label: 'Sprites', detail: 'procedural shapes, generated on the fly: no download' },
  { dataset: 'mnist', label: 'MNIST', detail: 'handwritten digits, 28×28 grey', download: '11 MB' },
  { dataset: 'fashion-mnist', label: 'Fashion-MNIST', detail: 'clothing, 28×28 grey', download: '30 MB' },
  { dataset: 'cifar10', label: 'CIFAR-10', detail: 'small photos, 32×32 RGB: a convolutional model', download: '163 MB' },
  { dataset: 'folder', label: 'An image folder…', detail: 'your PNG/JPEG images; subfolder names become labels' },
];

export const TEMPLATE_KINDS: readonly { kind: TemplateKind; label: string; detail: string }[] = [
  { kind: 'vae', label: 'Variational autoencoder (VAE)', detail: 'Gaussian latent, ELBO; sample new images' },
  { kind: 'beta-vae', label: 'β-VAE', detail: 'a VAE with a weighted KL term, for disentangled factors' },
  { kind: 'cvae', label: 'Conditional VAE', detail: 'generates an image of a chosen class' },
  { kind: 'ae', label: 'Undercomplete autoencoder', detail: 'a narrow code, trained to reconstruct' },
  { kind: 'sparse-ae', label: 'Sparse autoencoder', detail: 'a wide code with an L1 penalty' },
  { kind: 'denoising-ae', label: 'Denoising autoencoder', detail: 'reconstructs clean images from corrupted ones' },
  { kind: 'masked-ae', label: 'Masked autoencoder', detail: 'reconstructs masked patches' },
];

export interface TemplateOptions {
  kind: TemplateKind;
  dataset: TemplateDataset;
  latent?: number;
  epochs?: number;
  /** dataset `folder`: the image folder, relative to the new file. */
  folder?: string;
  /** sprites: how many images to generate (default 6000). */
  count?: number;
}

const KIND_TEXT: Record<TemplateKind, { title: string; about: string; latent: number; extra: string[] }> = {
  ae: { title: 'Autoencoder', about: 'An undercomplete autoencoder: the code is narrower than the image, so the network has to keep what matters.', latent: 16, extra: [] },
  'sparse-ae': { title: 'Sparse autoencoder', about: 'A code wider than the image, kept sparse by an L1 penalty on its values.', latent: 512, extra: ['code_activation: relu', 'sparsity: 30'] },
  'denoising-ae': { title: 'Denoising autoencoder', about: 'The encoder sees a corrupted image; the loss compares the output with the clean one.', latent: 32, extra: ['corruption: gaussian', 'noise: 0.4'] },
  'masked-ae': { title: 'Masked autoencoder', about: 'Half of the patches are hidden; the network fills them in.', latent: 64, extra: ['mask_ratio: 0.5', 'patch: 4'] },
  vae: { title: 'Variational autoencoder', about: 'A Gaussian latent trained on the evidence lower bound (ELBO): reconstruction plus KL to the prior. Sampling the prior makes new images.', latent: 16, extra: [] },
  'beta-vae': { title: 'β-VAE', about: 'A VAE whose KL term is weighted by β > 1, which favours disentangled latent factors.', latent: 8, extra: ['beta: 4', 'kl_warmup: 2'] },
  cvae: { title: 'Conditional VAE', about: 'Encoder and decoder both see the class label, so sampling can ask for a class.', latent: 16, extra: [] },
};

function dataCell(options: TemplateOptions): string[] {
  switch (options.dataset) {
    case 'sprites':
      return ['dataset: sprites', 'size: 28', `count: ${options.count ?? 6000}`, 'batch: 64'];
    case 'folder':
      return ['dataset: folder', `path: ${JSON.stringify(options.folder ?? 'images')}`, 'size: 32', 'channels: 3', 'batch: 64'];
    default:
      return [`dataset: ${options.dataset}`, 'batch: 128'];
  }
}

/** Colour images get a convolutional encoder and a Gaussian decoder; the rest an MLP and Bernoulli. */
function modelCell(options: TemplateOptions, latent: number): string[] {
  const colour = options.dataset === 'cifar10' || options.dataset === 'folder';
  const kind = KIND_TEXT[options.kind];
  return [
    `kind: ${options.kind}`,
    `latent: ${latent}`,
    colour ? 'encoder: [conv 32 k4 s2, batchnorm relu, conv 64 k4 s2, batchnorm relu]' : 'encoder: [dense 400 relu]',
    'decoder: mirror',
    ...kind.extra,
    ...(colour ? ['likelihood: gaussian', 'sigma: 0.1'] : ['likelihood: bernoulli']),
  ];
}

function fenced(kind: string, lines: string[]): string {
  return ['```' + kind, ...lines, '```'].join('\n');
}

export function experimentTemplate(options: TemplateOptions): string {
  const kind = KIND_TEXT[options.kind];
  const latent = options.latent ?? kind.latent;
  const dataset = TEMPLATE_DATASETS.find((candidate) => candidate.dataset === options.dataset)?.label.replace('…', '') ?? options.dataset;
  const variational = options.kind === 'vae' || options.kind === 'beta-vae' || options.kind === 'cvae';
  const sections = [
    `---\ntitle: ${kind.title} on ${dataset}\nseed: 1\n---`,
    `# ${kind.title} on ${dataset}\n\n${kind.about}\n\nRun a cell with its ▷ button, or Run All. The run folder keeps checkpoints, metrics and images.`,
    fenced('data', dataCell(options)),
    fenced('model', modelCell(options, latent)),
    fenced('train', [`epochs: ${options.epochs ?? 5}`, 'optimizer: adam', 'lr: 1e-3']),
    fenced('evaluate', ['metrics: [loss, reconstruction, kl, mse, psnr]']),
    fenced('reconstruct', ['count: 16']),
    ...(variational ? [fenced('sample', ['count: 32'])] : []),
  ];
  return `${sections.join('\n\n')}\n`;
}

/** `base.aexp`, or `base-2.aexp`, `base-3.aexp`… : the first name `exists` says is free. */
export function freeFileName(base: string, exists: (name: string) => boolean): string {
  for (let attempt = 1; ; attempt++) {
    const name = attempt === 1 ? `${base}.aexp` : `${base}-${attempt}.aexp`;
    if (!exists(name)) return name;
  }
}
