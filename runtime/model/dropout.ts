/**
 * Dropout whose masks come from the training step's seed. TF.js's own Dropout layer draws from
 * Math.random (or repeats one mask when seeded), which would break "the same file gives the same
 * run" and bit-exact resume. It serializes as a standard `Dropout`, so exported models load in a
 * browser without this class.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface NoiseContext {
  /** Set by the training loop before each step. */
  seed: number;
}

export class SeededDropout extends tfl.layers.Layer {
  static className = 'Dropout';
  private readonly rate: number;
  private readonly context: NoiseContext;
  private readonly stream: number;

  constructor(args: { rate: number; context: NoiseContext; stream: number }) {
    super({});
    this.rate = args.rate;
    this.context = args.context;
    this.stream = args.stream;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training) return tf.clone(input);
    return tf.tidy(() => {
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(input.shape, 0, 1, 'float32', (this.context.seed + 7919 * (this.stream + 1)) >>> 0), this.rate), 'float32');
      return tf.mul(input, tf.div(keep, 1 - this.rate));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { rate: this.rate, noiseShape: null, seed: null, ...super.getConfig() };
  }
}
