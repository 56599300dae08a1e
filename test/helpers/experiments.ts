import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** A small but real experiment: procedural sprites and an MLP VAE, a few seconds per epoch. */
export function tinyExperiment(directory: string, options: { epochs?: number; train?: string; count?: number; name?: string; kind?: string } = {}): string {
  const file = path.join(directory, `${options.name ?? 'tiny'}.aexp`);
  writeFileSync(file, `---
title: tiny
seed: 11
---
\`\`\`data
dataset: sprites
size: 16
count: ${options.count ?? 1200}
batch: 32
\`\`\`

\`\`\`model
kind: ${options.kind ?? 'vae'}
latent: 4
encoder: [dense 64 relu]
\`\`\`

\`\`\`train
epochs: ${options.epochs ?? 2}
log_every: 5
${options.train ?? ''}
\`\`\`

\`\`\`evaluate
metrics: [loss, elbo, mse]
\`\`\`

\`\`\`reconstruct
count: 8
\`\`\`
`);
  return file;
}
