/**
 * Which tfjs-node to ask npm for. It must match the TF.js the runtime is built with, and the one
 * place that says which that is: the exact version of `@tensorflow/tfjs-core` in package.json.
 */
export const TFJS_CORE = '@tensorflow/tfjs-core';

export interface Manifest {
  dependencies?: Record<string, string>;
}

/** `name@version` for npm, or an error saying what in package.json is wrong. */
export function nativeBackendSpec(manifest: Manifest, name: string): string {
  const version = manifest.dependencies?.[TFJS_CORE];
  if (version === undefined) throw new Error(`package.json declares no "${TFJS_CORE}" dependency, so the TF.js version to match is unknown`);
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json: dependencies["${TFJS_CORE}"] is "${version}", not an exact version like 4.22.0`);
  return `${name}@${version}`;
}
