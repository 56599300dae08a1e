/**
 * The YAML vocabulary of every cell kind, as JSON schemas. They validate cells, fill defaults, and
 * (through `description`) document each key for the README and the editor's hover.
 */
import type { CellKind } from './document';

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  enum?: readonly (string | number | boolean)[];
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  oneOf?: readonly JsonSchema[];
  const?: unknown;
};

const positiveInteger = (description: string, defaultValue?: number): JsonSchema => ({
  type: 'integer', minimum: 1, description, ...(defaultValue === undefined ? {} : { default: defaultValue }),
});

export const DATASETS = ['sprites', 'mnist', 'fashion-mnist', 'cifar10', 'folder'] as const;
export const MODEL_KINDS = ['ae', 'sparse-ae', 'denoising-ae', 'masked-ae', 'vae', 'beta-vae', 'cvae'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
/** Kinds with a Gaussian posterior and a prior to sample from. */
export const VARIATIONAL_KINDS: readonly ModelKind[] = ['vae', 'beta-vae', 'cvae'];
export const LIKELIHOODS = ['bernoulli', 'gaussian', 'laplace', 'smooth-l1'] as const;
export const CORRUPTIONS = ['gaussian', 'salt-and-pepper', 'mask'] as const;
export const SPRITE_MODES = ['random', 'grid'] as const;

/** Model-cell keys that only mean something for some kinds (checked in validate.ts). */
export const KIND_KEYS: Record<string, readonly ModelKind[]> = {
  sparsity: ['sparse-ae'],
  corruption: ['denoising-ae'],
  noise: ['denoising-ae'],
  mask_ratio: ['masked-ae'],
  patch: ['masked-ae'],
  beta: ['beta-vae'],
  capacity: ['beta-vae'],
  kl_warmup: ['vae', 'beta-vae', 'cvae'],
  skips: ['ae', 'sparse-ae', 'denoising-ae', 'masked-ae'],
  code_activation: ['ae', 'sparse-ae', 'denoising-ae', 'masked-ae'],
};
export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop'] as const;
export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
export const METRICS = ['loss', 'elbo', 'reconstruction', 'kl', 'mse', 'psnr', 'iwae', 'ssim', 'active-units', 'probe', 'knn', 'mig', 'factorvae'] as const;
export const INTERPOLATIONS = ['lerp', 'slerp'] as const;
export const PROJECTIONS = ['pca', 'umap', 'none'] as const;
export const SPLIT_NAMES = ['train', 'test', 'all'] as const;
/** The most images one strip or one traversal row holds. */
export const MAX_PATH_STEPS = 32;

export const frontMatterSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', description: 'Title shown in run listings.' },
    description: { type: 'string', description: 'Free text.' },
    seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed for weight initialisation, shuffling and sampling: the same file gives the same run.' },
    tags: { type: 'array', items: { type: 'string' }, description: 'Labels for finding runs.' },
  },
};

export const cellSchemas: Record<CellKind, JsonSchema> = {
  data: {
    type: 'object',
    additionalProperties: false,
    required: ['dataset'],
    properties: {
      dataset: { type: 'string', enum: DATASETS, description: 'sprites (procedural, no download), mnist, fashion-mnist, cifar10 (downloaded once into the data folder), or folder (PNG/JPEG images, label = subfolder name).' },
      batch: positiveInteger('Examples per training step.', 128),
      path: { type: 'string', description: 'folder: the image folder, relative to the .aexp file.' },
      size: { oneOf: [{ type: 'integer', minimum: 4 }, { type: 'array', items: { type: 'integer', minimum: 4 }, minItems: 2, maxItems: 2 }], description: 'folder and sprites: image size in pixels (n or [height, width]).' },
      channels: { type: 'integer', enum: [1, 3], description: 'folder: 1 (grey) or 3 (RGB).' },
      count: positiveInteger('sprites: how many images to generate.'),
      factors: { type: 'string', enum: SPRITE_MODES, description: 'sprites: random (the default: x and y drawn continuously inside a margin that depends on the scale) or grid (as dSprites: shape, scale, rotation, x and y independent and discrete, each drawn uniformly from its levels; what the disentanglement metrics need).' },
      binarize: { type: 'string', enum: ['none', 'static', 'dynamic'], default: 'none', description: 'static: threshold at 0.5 once; dynamic: sample each pixel as Bernoulli(p) every batch. With a Bernoulli likelihood, binarized data makes the loss a true NLL in nats.' },
      train_limit: positiveInteger('Use only the first N training examples.'),
      test_limit: positiveInteger('Use only the first N test examples.'),
      test_fraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1, description: 'folder and sprites: fraction of the examples held out as the test split.' },
      shuffle: { type: 'boolean', default: true, description: 'Shuffle the training split every epoch.' },
      seed: { type: 'integer', minimum: 0, description: 'Seed of the train/test split and of generated data (sprites). Default: the experiment\'s seed. A sweep over seeds keeps it, so every run is tested on the same images.' },
    },
  },
  model: {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'latent', 'encoder'],
    properties: {
      kind: { type: 'string', enum: MODEL_KINDS, description: 'ae: deterministic autoencoder; sparse-ae: L1 penalty on the code; denoising-ae: trained to undo a corruption of its input; masked-ae: trained to fill in masked patches (SimMIM-style); vae: variational autoencoder (Gaussian posterior, standard normal prior, analytic KL); beta-vae: a VAE with a weighted KL (β, warm-up, capacity annealing); cvae: a VAE conditioned on the one-hot class label.' },
      latent: positiveInteger('Size of the code z.'),
      encoder: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Layers, e.g. "dense 400 relu", "conv 32 k4 s2 relu", "pool 2", "residual 64", "batchnorm relu", "dropout 0.2". The last encoder layer feeds a dense layer to the code (μ and log σ² for a VAE).' },
      decoder: { oneOf: [{ type: 'string', enum: ['mirror'] }, { type: 'array', minItems: 1, items: { type: 'string' } }], default: 'mirror', description: '"mirror" builds the transpose of the encoder; or a list of layers from the code to the output, e.g. "upsample 2 bilinear", "conv 32 k3 relu". The output layer (to the input\'s shape) is added for you.' },
      upsample: { type: 'string', enum: ['deconv', 'nearest', 'bilinear'], default: 'deconv', description: 'mirror: how strided convolutions and pooling are undone: deconv (transposed convolution), or nearest/bilinear interpolation followed by a convolution (no checkerboard artifacts).' },
      skips: { type: 'boolean', default: false, description: 'U-Net skip connections: the mirrored decoder concatenates the encoder\'s features at each scale. They bypass the bottleneck, so only non-variational kinds take them.' },
      code_activation: { type: 'string', enum: ['linear', 'relu', 'sigmoid', 'tanh'], default: 'linear', description: 'Activation of the code layer of a non-variational model (relu gives a sparse AE exact zeros).' },
      likelihood: { type: 'string', enum: LIKELIHOODS, default: 'bernoulli', description: 'Reconstruction term, summed over the elements of an example. bernoulli: sigmoid + binary cross-entropy from logits; gaussian: squared error with a fixed σ (MSE); laplace: absolute error with a fixed scale (MAE); smooth-l1: squared below smooth_l1_beta, absolute above.' },
      sigma: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'gaussian: the fixed standard deviation σ of p(x|z); laplace: the fixed scale b.' },
      smooth_l1_beta: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'smooth-l1: the threshold β between the squared and the absolute part. (PyTorch\'s default 1.0 makes it a pure squared error on pixels in [0, 1].)' },
      sparsity: { type: 'number', minimum: 0, default: 1, description: 'sparse-ae: weight λ of the L1 penalty λ·(1/D)·Σ|zᵢ| per example. Pair it with weight_decay so the decoder cannot undo a shrinking code.' },
      corruption: { type: 'string', enum: CORRUPTIONS, default: 'gaussian', description: 'denoising-ae: gaussian (additive noise of std `noise`, clipped to [0, 1]), salt-and-pepper (each pixel set to 0 or 1 with probability `noise`), mask (each pixel zeroed with probability `noise`).' },
      noise: { type: 'number', exclusiveMinimum: 0, default: 0.3, description: 'denoising-ae: σ of the gaussian corruption, or the probability of salt-and-pepper and mask.' },
      mask_ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.75, description: 'masked-ae: fraction of patches masked in each image.' },
      patch: positiveInteger('masked-ae: patch size in pixels (divides the image height and width).', 4),
      beta: { type: 'number', minimum: 0, default: 4, description: 'beta-vae: weight β of the KL term.' },
      kl_warmup: { type: 'integer', minimum: 0, default: 0, description: 'vae, beta-vae, cvae: epochs over which the KL weight ramps linearly from 0 to its target (against posterior collapse).' },
      capacity: {
        type: 'object',
        additionalProperties: false,
        required: ['max'],
        properties: {
          max: { type: 'number', minimum: 0, description: 'Final capacity C_max in nats.' },
          epochs: positiveInteger('Epochs over which C rises linearly from 0 to max.', 10),
          gamma: { type: 'number', exclusiveMinimum: 0, default: 100, description: 'Weight γ of |KL − C|.' },
        },
        description: 'beta-vae: capacity annealing (Burgess et al.): loss = reconstruction + γ·|KL − C| with C raised linearly to max; replaces β·KL.',
      },
      init: { type: 'string', enum: ['glorot', 'pytorch'], default: 'glorot', description: 'Weight initialisation: glorot (Keras/TF.js default) or pytorch (uniform ±1/√fan_in, as torch.nn.Linear).' },
    },
  },
  train: {
    type: 'object',
    additionalProperties: false,
    properties: {
      epochs: positiveInteger('Passes over the training split.', 10),
      optimizer: { type: 'string', enum: OPTIMIZERS, default: 'adam', description: 'adam, adamw (decoupled weight decay), sgd (with momentum), rmsprop.' },
      lr: { type: 'number', exclusiveMinimum: 0, default: 1e-3, description: 'Peak learning rate.' },
      momentum: { type: 'number', minimum: 0, maximum: 1, description: 'sgd and rmsprop momentum (sgd default 0.9, rmsprop 0).' },
      betas: { type: 'array', items: { type: 'number', minimum: 0, exclusiveMaximum: 1 }, minItems: 2, maxItems: 2, default: [0.9, 0.999], description: 'Adam/AdamW β₁, β₂.' },
      epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: 'Adam/AdamW/RMSprop ε.' },
      weight_decay: { type: 'number', minimum: 0, default: 0, description: 'adamw: decoupled decay; other optimizers: L2 added to the gradient (as PyTorch does).' },
      schedule: { type: 'string', enum: SCHEDULES, default: 'constant', description: 'Learning-rate schedule after warm-up: constant, step (× gamma every step_size epochs), cosine (to min_lr at the last step).' },
      step_size: positiveInteger('step schedule: epochs between decays.', 1),
      gamma: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'step schedule: decay factor.' },
      min_lr: { type: 'number', minimum: 0, default: 0, description: 'cosine schedule: final learning rate.' },
      warmup_steps: { type: 'integer', minimum: 0, default: 0, description: 'Linear warm-up from 0 to lr over this many steps.' },
      clip_norm: { type: 'number', exclusiveMinimum: 0, description: 'Rescale gradients whose global L2 norm exceeds this.' },
      clip_value: { type: 'number', exclusiveMinimum: 0, description: 'Clamp each gradient element to ±clip_value.' },
      early_stopping: {
        type: 'object',
        additionalProperties: false,
        required: ['patience'],
        properties: {
          patience: positiveInteger('Epochs without improvement of the test loss before stopping.'),
          min_delta: { type: 'number', minimum: 0, default: 0, description: 'Smallest decrease that counts as improvement.' },
        },
        description: 'Stop when the test loss stops improving.',
      },
      checkpoint_every: { type: 'integer', minimum: 0, default: 0, description: 'Also keep a checkpoint every N epochs (0: only last and best).' },
      validate: { type: 'boolean', default: true, description: 'Evaluate on the test split after every epoch.' },
      log_every: positiveInteger('Write a training record to metrics.jsonl every N steps.', 50),
    },
  },
  evaluate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      metrics: {
        type: 'array',
        items: { type: 'string', enum: METRICS },
        default: ['loss', 'reconstruction', 'kl', 'mse', 'psnr'],
        description:
          'Test-split metrics: loss (per example), elbo (= −loss for a VAE), reconstruction, kl, mse, psnr (dB); iwae (the importance-weighted bound on log p(x) in nats, k samples; variational kinds on binary data or a Gaussian/Laplace likelihood), ssim (of each image and its reconstruction), active-units (with the KL per dimension and a posterior-collapse warning), probe and knn (test accuracy of a linear probe and of kNN on the latent means, and with 100 and 1000 labels against raw pixels), mig and factorvae (disentanglement; sprites with factors: grid).',
      },
      k: { type: 'integer', minimum: 1, maximum: 100000, default: 50, description: 'Importance samples per example for iwae (Burda et al.): the bound tightens as k grows; k = 5000 on 10,000 MNIST images takes hours on a CPU.' },
    },
  },
  reconstruct: {
    type: 'object',
    additionalProperties: false,
    properties: {
      count: { type: 'integer', minimum: 1, maximum: 256, default: 16, description: 'Test images to show over their reconstructions.' },
    },
  },
  sample: {
    type: 'object',
    additionalProperties: false,
    properties: {
      count: { type: 'integer', minimum: 1, maximum: 256, default: 64, description: 'Images decoded from z ~ N(0, I) (variational kinds only; a cvae shows count/classes per class, one row per class).' },
      temperature: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Scale of the prior samples.' },
    },
  },
  interpolate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      between: { type: 'string', enum: ['images', 'classes'], description: 'images: pairs of test images (their posterior means); classes (cvae only): the mean code of each class\'s test images, with the class condition blended from one class to the other. Default: classes for a cvae, images otherwise.' },
      pairs: {
        oneOf: [
          { type: 'integer', minimum: 1, maximum: 32 },
          { type: 'array', minItems: 1, maxItems: 32, items: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 } },
        ],
        default: 4,
        description: 'How many strips (test images 0→1, 2→3, …; with `between: classes`, classes 0→1, 1→2, …), or the pairs themselves as [[from, to], …]: test image indices, or class numbers with `between: classes`.',
      },
      method: { type: 'string', enum: INTERPOLATIONS, default: 'lerp', description: 'lerp: the straight line between the two codes; slerp: the great-circle arc (White 2016), which keeps the norm a Gaussian prior expects instead of cutting through its low-density centre.' },
      steps: { type: 'integer', minimum: 2, maximum: MAX_PATH_STEPS, default: 10, description: 'Decoded images per strip, both endpoints included.' },
    },
  },
  traverse: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { oneOf: [{ type: 'string', enum: ['origin'] }, { type: 'integer', minimum: 0 }], default: 'origin', description: 'The centre of every row: origin (the prior mean 0 for variational kinds, the mean code of the test split otherwise), or a test image index (its posterior mean; a cvae decodes with its label, class 0 from the origin).' },
      range: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 3, description: 'k: each row moves one dimension from −k to +k standard deviations about the centre (the prior\'s σ = 1 for variational kinds; the dimension\'s standard deviation over the test codes otherwise).' },
      steps: { type: 'integer', minimum: 2, maximum: MAX_PATH_STEPS, default: 9, description: 'Decoded images per row, both ends included.' },
      dimensions: { type: 'integer', minimum: 1, maximum: 64, default: 16, description: 'Rows: at most this many dimensions, largest KL first (variational kinds; the largest variance over the test codes otherwise). Dimensions whose KL is below 0.01 nats are marked inactive.' },
    },
  },
  explore: {
    type: 'object',
    additionalProperties: false,
    properties: {
      split: { type: 'string', enum: SPLIT_NAMES, default: 'test', description: 'The examples to encode: train, test, or all (train then test).' },
      limit: positiveInteger('At most this many examples, the first ones of the split.', 10000),
      projection: { type: 'string', enum: PROJECTIONS, default: 'pca', description: 'To 2-D: pca (the two principal axes of the posterior means), umap (opt-in, on a seeded subsample of `subsample` points), or none (the code itself, for a 2-d code).' },
      subsample: positiveInteger('umap: how many of the encoded points it embeds (UMAP\'s time grows faster than the count).', 2000),
    },
  },
  sweep: {
    type: 'object',
    additionalProperties: false,
    properties: {
      grid: { type: 'object', description: 'cell.key: [values] (the paths --set takes, e.g. model.beta: [1, 4]): every combination of the values, the first key slowest.' },
      random: {
        type: 'object',
        additionalProperties: false,
        required: ['count', 'params'],
        properties: {
          count: positiveInteger('How many random draws.'),
          seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed of the draws alone: the same seed gives the same draws, whatever the experiment\'s seed.' },
          params: { type: 'object', description: 'cell.key: a distribution, {uniform: [low, high]}, {loguniform: [low, high]}, {int: [low, high]} or {choice: [values]}.' },
        },
        description: 'Random search: `count` draws of `params`, each draw combined with every grid point.',
      },
      seeds: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1 }], description: 'Model seeds, a list or how many (1…n): each grid point and draw runs once per seed. The data split keeps the experiment\'s seed (data.seed).' },
      metric: { type: 'string', default: 'test.loss', description: 'What aexp sweep --summary sorts by: split.metric, lower first (test.loss), or -split.metric, higher first (-test.elbo).' },
    },
  },
};

export interface DataConfig {
  dataset: (typeof DATASETS)[number];
  batch: number;
  path?: string;
  size?: number | [number, number];
  channels?: 1 | 3;
  count?: number;
  factors?: (typeof SPRITE_MODES)[number];
  binarize: 'none' | 'static' | 'dynamic';
  train_limit?: number;
  test_limit?: number;
  test_fraction: number;
  shuffle: boolean;
  seed?: number;
}

export interface ModelConfig {
  kind: ModelKind;
  latent: number;
  encoder: string[];
  decoder: 'mirror' | string[];
  upsample: 'deconv' | 'nearest' | 'bilinear';
  skips: boolean;
  code_activation: 'linear' | 'relu' | 'sigmoid' | 'tanh';
  likelihood: (typeof LIKELIHOODS)[number];
  sigma: number;
  smooth_l1_beta: number;
  sparsity: number;
  corruption: (typeof CORRUPTIONS)[number];
  noise: number;
  mask_ratio: number;
  patch: number;
  beta: number;
  kl_warmup: number;
  capacity?: { max: number; epochs: number; gamma: number };
  init: 'glorot' | 'pytorch';
}

export interface TrainConfig {
  epochs: number;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number;
  momentum?: number;
  betas: [number, number];
  epsilon: number;
  weight_decay: number;
  schedule: (typeof SCHEDULES)[number];
  step_size: number;
  gamma: number;
  min_lr: number;
  warmup_steps: number;
  clip_norm?: number;
  clip_value?: number;
  early_stopping?: { patience: number; min_delta: number };
  checkpoint_every: number;
  validate: boolean;
  log_every: number;
}

export interface EvaluateConfig {
  metrics: (typeof METRICS)[number][];
  /** Importance samples of iwae. */
  k?: number;
}

export interface ReconstructConfig {
  count: number;
}

export interface SampleConfig {
  count: number;
  temperature: number;
}

export interface InterpolateConfig {
  between?: 'images' | 'classes';
  pairs: number | [number, number][];
  method: (typeof INTERPOLATIONS)[number];
  steps: number;
}

export interface TraverseConfig {
  from: 'origin' | number;
  range: number;
  steps: number;
  dimensions: number;
}

export interface ExploreConfig {
  split: (typeof SPLIT_NAMES)[number];
  limit: number;
  projection: (typeof PROJECTIONS)[number];
  subsample: number;
}

export interface FrontMatter {
  title?: string;
  description?: string;
  seed: number;
  tags?: string[];
}

export interface CellConfigs {
  data: DataConfig;
  model: ModelConfig;
  train: TrainConfig;
  evaluate: EvaluateConfig;
  reconstruct: ReconstructConfig;
  sample: SampleConfig;
  interpolate: InterpolateConfig;
  traverse: TraverseConfig;
  explore: ExploreConfig;
  sweep: SweepCellConfig;
}

export interface SweepCellConfig {
  grid?: Record<string, unknown[]>;
  random?: { count: number; seed: number; params: Record<string, unknown> };
  seeds?: number | number[];
  metric: string;
}
