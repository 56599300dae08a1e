/** Backend names, apart from backend.ts so that the extension can list them without loading TF.js. */
export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;
/** What `auto` tries, in order (README, Backends). */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow', 'webgpu', 'native', 'wasm', 'cpu'];
