/** Convolution shapes that exercise a backend's conv kernels: strides 1–4, unequal strides, 'same', 'valid' and explicit asymmetric padding, kernels not divisible by the stride, odd sizes. */
export type Shape4 = [number, number, number, number];
export type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export const CONV_CASES: { x: Shape4; filter: Shape4; stride: number | [number, number]; pad: Padding }[] = [
  { x: [3, 28, 28, 1], filter: [4, 4, 1, 8], stride: 2, pad: 'same' },
  { x: [3, 28, 28, 1], filter: [3, 3, 1, 8], stride: 2, pad: 'same' },
  { x: [2, 14, 14, 8], filter: [4, 4, 8, 6], stride: 2, pad: 'same' },
  { x: [2, 14, 14, 8], filter: [3, 3, 8, 5], stride: 2, pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 2, 3, 4], stride: 1, pad: 'valid' },
  { x: [1, 11, 13, 2], filter: [5, 3, 2, 3], stride: 3, pad: 'same' },
  { x: [2, 10, 9, 3], filter: [2, 5, 3, 2], stride: [2, 3], pad: 'valid' },
  { x: [1, 8, 8, 2], filter: [3, 3, 2, 4], stride: 2, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { x: [4, 8, 8, 4], filter: [1, 1, 4, 6], stride: 1, pad: 'same' },
  { x: [2, 7, 7, 3], filter: [2, 2, 3, 3], stride: 4, pad: 'same' },
];
