import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { nativeBackendSpec, TFJS_CORE } from '../../extension/nativeSpec';
import { AUTO_ORDER } from '../../runtime/backends/names';

const root = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
  contributes: {
    configuration: { properties: Record<string, { type: string; enum?: unknown[] }> };
    walkthroughs: { steps: { id: string; description: string; media: { markdown?: string } }[] }[];
  };
};

/** `require`, or `createRequire(…)`'s result. */
function isRequire(node: ts.Expression): boolean {
  return (ts.isIdentifier(node) && node.text === 'require') || (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'createRequire');
}

/** Every module a source file names as a string: imports, exports, import(), require() and require.resolve(). */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      const loads = callee.kind === ts.SyntaxKind.ImportKeyword || isRequire(callee) || (ts.isPropertyAccessExpression(callee) && callee.name.text === 'resolve' && isRequire(callee.expression));
      if (loads) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `@scope/name/deep/path` → `@scope/name`; `name/path` → `name`; relative paths and Node's own modules → undefined. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function importedPackages(folder: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const name of readdirSync(path.join(root, folder), { recursive: true }).map(String).filter((file) => file.endsWith('.ts'))) {
    const file = path.join(folder, name);
    for (const specifier of specifiers(path.join(root, file))) {
      const bare = packageOf(specifier);
      if (bare) packages.set(bare, [...(packages.get(bare) ?? []), file]);
    }
  }
  return packages;
}

test('every package runtime/, extension/ and webview/ import is a declared dependency, and every dependency is imported', () => {
  const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.optionalDependencies ?? {})]);
  const imported = new Map([...importedPackages('runtime'), ...importedPackages('extension'), ...importedPackages('webview')]);
  // Types only: the notebook renderer API's declarations (a dev dependency), never bundled.
  imported.delete('vscode-notebook-renderer');
  // The editor provides `vscode` to the extension host; it is never installed.
  imported.delete('vscode');
  const undeclared = [...imported].filter(([name]) => !declared.has(name)).map(([name, files]) => `${name} (imported by ${files[0]})`);
  assert.deepEqual(undeclared, [], 'packages reached through another package instead of declared in package.json');
  assert.deepEqual([...declared].filter((name) => !imported.has(name)), [], 'declared dependencies nothing imports');
});

test('dependencies are pinned to the exact versions installed', () => {
  for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name}: ${version} is not an exact version`);
    const installed = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    assert.equal(installed.version, version, `${name}: package.json says ${version}, node_modules holds ${installed.version}`);
  }
});

test('Install Native TensorFlow Backend asks npm for the TF.js version the runtime is built with', () => {
  const core = JSON.parse(readFileSync(path.join(root, 'node_modules', TFJS_CORE, 'package.json'), 'utf8')) as { version: string };
  assert.equal(nativeBackendSpec(manifest, '@tensorflow/tfjs-node'), `@tensorflow/tfjs-node@${core.version}`);
  assert.equal(nativeBackendSpec(manifest, '@tensorflow/tfjs-node-gpu'), `@tensorflow/tfjs-node-gpu@${core.version}`);
  assert.throws(() => nativeBackendSpec({ dependencies: {} }, '@tensorflow/tfjs-node'), /package\.json declares no "@tensorflow\/tfjs-core" dependency/);
  assert.throws(() => nativeBackendSpec({ dependencies: { [TFJS_CORE]: '^4.22.0' } }, '@tensorflow/tfjs-node'), /"\^4\.22\.0", not an exact version/);
});

test('settings that name folders are restricted: an untrusted workspace cannot set them', () => {
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [];
  // A free-form string setting here is a path (an enum names a choice, not a place).
  const paths = Object.entries(manifest.contributes.configuration.properties).filter(([, property]) => property.type === 'string' && !property.enum).map(([name]) => name);
  assert.ok(paths.includes('latentLab.runsFolder') && paths.includes('latentLab.datasetCacheFolder'));
  assert.deepEqual(paths.filter((name) => !restricted.includes(name)), []);
});

test('the walkthrough\'s backend step tells the order auto tries, every backend in it', () => {
  const step = manifest.contributes.walkthroughs.flatMap((walkthrough) => walkthrough.steps).find((candidate) => candidate.id === 'backend');
  assert.ok(step?.media.markdown);
  const page = readFileSync(path.join(root, step.media.markdown), 'utf8');
  const positions = AUTO_ORDER.map((backend) => page.indexOf(`\`${backend}\``));
  assert.ok(positions.every((position) => position >= 0), `${step.media.markdown} names ${AUTO_ORDER.join(', ')}`);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, `${step.media.markdown} lists them in auto's order`);
  // The step's own line, in words a newcomer knows, in the same order.
  const words = { tensorflow: 'TensorFlow', webgpu: 'WebGPU', native: 'native', wasm: 'WebAssembly', cpu: 'JavaScript' };
  const inDescription = AUTO_ORDER.map((backend) => step.description.indexOf(words[backend]));
  assert.ok(inDescription.every((position) => position >= 0), step.description);
  assert.deepEqual([...inDescription].sort((a, b) => a - b), inDescription, step.description);
});
