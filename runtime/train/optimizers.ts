/**
 * Optimizers with PyTorch's update rules and state we can checkpoint. TF.js core has no AdamW and
 * no global-norm clipping, and its optimizers hide their slots, so all four live here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../format/schema';

export interface OptimizerState {
  name: string;
  step: number;
  /** Slot tensors, variable by variable, slot by slot. */
  slots: { variable: number; slot: string; shape: number[]; values: Float32Array }[];
}

const SLOT_NAMES: Record<TrainConfig['optimizer'], string[]> = {
  adam: ['m', 'v'],
  adamw: ['m', 'v'],
  sgd: ['momentum'],
  rmsprop: ['square', 'momentum'],
};

/** One optimizer step over every variable, for a backend that can do it in one pass per variable. */
export interface FusedUpdateRequest {
  optimizer: TrainConfig['optimizer'];
  variables: readonly tf.Variable[];
  /** Per variable, its slots in SLOT_NAMES order. */
  slots: readonly (readonly tf.Variable[])[];
  gradients: readonly tf.Tensor[];
  lr: number;
  /** The step number, from 1. */
  step: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  momentum: number;
}

/**
 * Fused updates by backend name. A backend registers one (runtime/backends/native/); it answers false to
 * leave the step to the ops below, having changed nothing. The ops are the reference.
 */
export const fusedUpdates = new Map<string, (request: FusedUpdateRequest) => boolean>();

export class Optimizer {
  step = 0;
  private readonly slots: tf.Variable[][];

  constructor(private readonly config: TrainConfig, private readonly variables: tf.Variable[]) {
    // tidy frees the zeros each slot starts from; the variable keeps its own reference.
    this.slots = variables.map((variable) => SLOT_NAMES[config.optimizer].map(() => tf.tidy(() => tf.variable(tf.zerosLike(variable), false))));
  }

  /** Applies one update with learning rate `lr`; gradients are in the variables' order. */
  apply(gradients: tf.Tensor[], lr: number): void {
    this.step++;
    const { optimizer, weight_decay: decay, epsilon } = this.config;
    const [beta1, beta2] = this.config.betas;
    const momentum = this.config.momentum ?? (optimizer === 'sgd' ? 0.9 : 0);
    const t = this.step;
    const fused = fusedUpdates.get(tf.getBackend());
    if (fused?.({ optimizer, variables: this.variables, slots: this.slots, gradients, lr, step: t, beta1, beta2, epsilon, weightDecay: decay, momentum })) return;
    tf.tidy(() => {
      this.variables.forEach((variable, index) => {
        let gradient = gradients[index];
        const slots = this.slots[index];
        if (decay > 0 && optimizer !== 'adamw') gradient = tf.add(gradient, tf.mul(decay, variable));
        switch (optimizer) {
          case 'adam':
          case 'adamw': {
            const [m, v] = slots;
            m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, gradient)));
            v.assign(tf.add(tf.mul(beta2, v), tf.mul(1 - beta2, tf.square(gradient))));
            const stepSize = lr / (1 - beta1 ** t);
            const denominator = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - beta2 ** t)), epsilon);
            // AdamW decays the weights directly, decoupled from the adaptive step.
            const decayed = optimizer === 'adamw' && decay > 0 ? tf.mul(variable, 1 - lr * decay) : variable;
            variable.assign(tf.sub(decayed, tf.mul(stepSize, tf.div(m, denominator))));
            break;
          }
          case 'sgd': {
            const [buffer] = slots;
            if (momentum > 0) {
              buffer.assign(t === 1 ? gradient : tf.add(tf.mul(momentum, buffer), gradient));
              variable.assign(tf.sub(variable, tf.mul(lr, buffer)));
            } else variable.assign(tf.sub(variable, tf.mul(lr, gradient)));
            break;
          }
          case 'rmsprop': {
            const [square, buffer] = slots;
            const alpha = 0.99;
            square.assign(tf.add(tf.mul(alpha, square), tf.mul(1 - alpha, tf.square(gradient))));
            const scaled = tf.div(gradient, tf.add(tf.sqrt(square), epsilon));
            if (momentum > 0) {
              buffer.assign(tf.add(tf.mul(momentum, buffer), scaled));
              variable.assign(tf.sub(variable, tf.mul(lr, buffer)));
            } else variable.assign(tf.sub(variable, tf.mul(lr, scaled)));
            break;
          }
        }
      });
    });
  }

  /** Asynchronous: GPU backends in Node can only read tensors back asynchronously. */
  async getState(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = [];
    for (const [variable, list] of this.slots.entries()) {
      for (const [index, slot] of list.entries()) slots.push({ variable, slot: SLOT_NAMES[this.config.optimizer][index], shape: slot.shape, values: (await slot.data()) as Float32Array });
    }
    return { name: this.config.optimizer, step: this.step, slots };
  }

  /**
   * Throws, with what does not fit, unless `state` (a checkpoint's) fits this optimizer whole: its
   * name, a step count, and every slot of every variable once, each of the variable's shape.
   * Nothing is changed, so a resume can ask before it writes anything.
   */
  checkState(state: OptimizerState): void {
    const names = SLOT_NAMES[this.config.optimizer];
    if (state.name !== this.config.optimizer) throw new Error(`its optimizer state is ${state.name}'s, this run uses ${this.config.optimizer}`);
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`its optimizer step ${state.step} is not a count of steps`);
    const expected = this.slots.length * names.length;
    if (state.slots.length !== expected) throw new Error(`its optimizer state holds ${state.slots.length} slots, this model and ${this.config.optimizer} need ${expected}`);
    const seen = new Set<string>();
    for (const { variable, slot, shape, values } of state.slots) {
      const target = this.slots[variable]?.[names.indexOf(slot)];
      if (!target) throw new Error(`its optimizer slot ${slot} of variable ${variable} is not one of ${this.config.optimizer}'s for this model`);
      if (seen.has(`${variable}/${slot}`)) throw new Error(`its optimizer slot ${slot} of variable ${variable} appears twice`);
      seen.add(`${variable}/${slot}`);
      if (target.shape.join() !== shape.join()) throw new Error(`its optimizer slot ${slot} of variable ${variable} has shape [${shape}], the model expects [${target.shape}]`);
      if (values.length !== target.size) throw new Error(`its optimizer slot ${slot} of variable ${variable} holds ${values.length} values for shape [${shape}]`);
    }
  }

  /** Takes a checkpoint's state; checked whole first (checkState), so a misfit changes nothing. */
  setState(state: OptimizerState): void {
    this.checkState(state);
    this.step = state.step;
    for (const { variable, slot, shape, values } of state.slots) {
      const target = this.slots[variable][SLOT_NAMES[this.config.optimizer].indexOf(slot)];
      tf.tidy(() => target.assign(tf.tensor(values, shape)));
    }
  }

  dispose(): void {
    for (const list of this.slots) for (const slot of list) slot.dispose();
  }
}

/** Gradient clipping: per element (clip_value), then by the global L2 norm (clip_norm). */
export function clipGradients(gradients: tf.Tensor[], config: Pick<TrainConfig, 'clip_norm' | 'clip_value'>): { gradients: tf.Tensor[]; norm?: tf.Scalar } {
  let clipped = gradients;
  if (config.clip_value !== undefined) clipped = clipped.map((gradient) => tf.clipByValue(gradient, -config.clip_value!, config.clip_value!));
  if (config.clip_norm === undefined) return { gradients: clipped };
  const norm = tf.sqrt(tf.addN(clipped.map((gradient) => tf.sum(tf.square(gradient))))) as tf.Scalar;
  const scale = tf.minimum(1, tf.div(config.clip_norm, tf.add(norm, 1e-6)));
  return { gradients: clipped.map((gradient) => tf.mul(gradient, scale)), norm };
}

/** Learning rate at a global step: linear warm-up, then constant, step decay or cosine. */
export function learningRate(config: TrainConfig, step: number, stepsPerEpoch: number, totalSteps: number): number {
  if (step < config.warmup_steps) return (config.lr * (step + 1)) / config.warmup_steps;
  switch (config.schedule) {
    case 'constant':
      return config.lr;
    case 'step':
      return config.lr * config.gamma ** Math.floor(Math.floor(step / stepsPerEpoch) / config.step_size);
    case 'cosine': {
      const span = Math.max(1, totalSteps - config.warmup_steps);
      const progress = Math.min(1, (step - config.warmup_steps) / span);
      return config.min_lr + (config.lr - config.min_lr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
  }
}
