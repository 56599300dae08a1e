/**
 * The Latent Explorer in a real VS Code: a tiny sprites VAE trained from its notebook, then
 * Explore Latent Space opens the side-bar view on that run. The page (two webview frames deep) is
 * driven with pointer events as a person's hand would make them: it shows every point of the test
 * split, a hovered point's input and reconstruction, and the decoder's image under a drag and a
 * traversal slider, whose pixels change as they move.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LatentLabApi } from '../../extension/extension';
import { EXTENSION_ID, evaluateInFrames, outputText, screenshot, screenshotInThemes, trainSmall, waitFor } from './support';

/** sprites, count 400, test_fraction 0.25. */
const TEST_POINTS = 100;

/** Evaluates `body` in the view's frame (the one holding #explorer-root), with `root` bound to it. */
function inView<T>(body: string): Promise<T | null> {
  return evaluateInFrames(`(() => { const root = document.getElementById('explorer-root'); if (!root) return null; ${body} })()`) as Promise<T | null>;
}

async function waitInView<T>(what: string, body: string, accept: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await inView<T>(body);
    if (last !== null && accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Sends a pointer event to the scatter at a data point (the page's camera says where it is). */
function pointer(type: 'pointermove' | 'pointerdown' | 'pointerup', x: number, y: number, buttons = 0, altKey = false): Promise<unknown> {
  return inView(`const canvas = root.querySelector('canvas.scatter'); const camera = JSON.parse(canvas.dataset.camera); const box = canvas.getBoundingClientRect();
    const clientX = box.left + (${x} - camera.x) * camera.scale + camera.width / 2, clientY = box.top + camera.height / 2 - (${y} - camera.y) * camera.scale;
    canvas.dispatchEvent(new PointerEvent('${type}', { clientX, clientY, buttons: ${buttons}, button: 0, altKey: ${altKey}, pointerId: 1, bubbles: true })); return true;`);
}

/** The decoded image's pixels (a digest of its canvas) and the z it shows. */
const DECODED = `const canvas = root.querySelector('canvas.decoded'); if (!canvas.dataset.z) return null; const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data; let digest = 0; for (let index = 0; index < data.length; index += 4) digest = (digest * 31 + data[index]) % 1000000007; return { z: canvas.dataset.z, digest };`;

suite('Latent Explorer', () => {
  let api: LatentLabApi;

  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<LatentLabApi>(EXTENSION_ID)!.activate());
  });

  test('a page\'s example, decode or interpolation before any run is chosen is ignored, not thrown', async () => {
    assert.equal(api.explorer.state.choice, undefined, 'no run is chosen before the explorer is first shown (this test runs first in its suite)');
    const early: unknown[] = [
      { type: 'example', index: 0 },
      { type: 'decode', z: [0, 0, 0] },
      { type: 'decodeClasses', z: [0, 0, 0] },
      { type: 'interpolate', from: [0, 0, 0], to: [1, 1, 1], steps: 3, method: 'lerp' },
      { type: 'lasso', indices: [0, 1] },
    ];
    for (const message of early) await api.explorer.receive(message);
    assert.equal(api.explorer.counts.decodeSent, 0, 'no decode was sent');
    assert.equal(api.explorerRuntimePid(), undefined, 'nothing started the explorer\'s runtime');
  });

  test('after a short training the explorer shows the test split\'s points; hover shows a point\'s images; a drag and a traversal slider change the decoded pixels; a lasso shows its images; a new epoch redraws them', async () => {
    const { editor, code, runDir } = await trainSmall('explorer-tour.aexp', { title: 'Explorer tour', seed: 3, data: 'dataset: sprites\nsize: 16\ncount: 400\ntest_fraction: 0.25\nbatch: 50', model: 'kind: vae\nlatent: 3\nencoder: [dense 32 relu]', train: 'epochs: 2' });
    assert.ok(runDir, 'the notebook has a run folder');

    await vscode.commands.executeCommand('latentLab.exploreLatentSpace');
    const shown = await waitInView<{ points: string; drawn: string; renderer: string }>('the points', `const canvas = root.querySelector('canvas.scatter'); return root.dataset.points && canvas.dataset.drawn ? { points: root.dataset.points, drawn: canvas.dataset.drawn, renderer: root.dataset.renderer } : null;`, (value) => value.drawn === value.points);
    assert.equal(Number(shown.points), TEST_POINTS, 'every example of the test split is a point');
    assert.equal(api.explorer.state.choice?.runDir, runDir, 'the view follows the notebook\'s run');
    assert.equal(api.explorer.state.follow, true);

    // Hover the first point: its input and reconstruction are drawn, with its label and loss.
    const result = api.explorer.result!;
    const projected = Buffer.from(result.projection.points, 'base64');
    const points = new Float32Array(projected.buffer, projected.byteOffset, projected.byteLength / 4);
    await pointer('pointermove', points[0], points[1]);
    const hovered = await waitInView<{ index: string; caption: string; inputWidth: number }>('the hovered point\'s images', `const figure = root.querySelector('figure.hover'); return figure.hidden ? null : { index: figure.dataset.index, caption: figure.querySelector('figcaption').textContent, inputWidth: figure.querySelector('canvas.input').width };`, () => true);
    assert.match(hovered.caption, /label \d+ · loss [\d.]+ nats/);
    assert.ok(hovered.inputWidth >= 16, 'the input is drawn');
    const index = Number(hovered.index);
    assert.ok(Math.hypot(points[index * 2] - points[0], points[index * 2 + 1] - points[1]) < 1e-3, 'the point under the pointer is the one hovered (or one drawn on top of it)');

    // A drag far from the points decodes what lies there; further along, other pixels.
    const [low, high] = [Math.min(...points.filter((_, at) => at % 2 === 0)), Math.max(...points.filter((_, at) => at % 2 === 0))];
    const far = high + (high - low);
    await pointer('pointerdown', far, 0, 1);
    await pointer('pointermove', far, 0, 1);
    const first = await waitInView<{ z: string; digest: number }>('a decoded image', DECODED, () => true);
    await pointer('pointermove', far, (high - low) * 1.5, 1);
    const second = await waitInView<{ z: string; digest: number }>('another decoded image', DECODED, (value) => value.z !== first.z);
    await pointer('pointerup', far, (high - low) * 1.5);
    assert.notEqual(second.digest, first.digest, 'dragging changes the decoded pixels');

    // The traversal slider of the dimension with the most KL moves the point along it.
    const top = result.dimensions[0];
    await inView(`const input = root.querySelector('input[data-dimension="${top.index}"]'); input.value = String(${top.high}); input.dispatchEvent(new Event('input')); return true;`);
    const slid = await waitInView<{ z: string; digest: number }>('the slider\'s decoded image', DECODED, (value) => value.z !== second.z);
    assert.equal(Number(slid.z.split(',')[top.index]).toFixed(2), top.high.toFixed(2), 'the slider sets its dimension');
    assert.notEqual(slid.digest, second.digest, 'the slider changes the decoded pixels');
    assert.ok(api.explorer.counts.decodeSent <= api.explorer.counts.decode, 'the host sends no more decodes than the page asked for');

    // The view with room: the chat beside it closed; then scrolled to the images and sliders.
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    // An Alt-drag lasso around the first point: the inputs of the points inside it.
    const side = (high - low) / 10;
    await pointer('pointerdown', points[0] - side, points[1] - side, 1, true);
    for (const [dx, dy] of [[1, -1], [1, 1], [-1, 1], [-1, -1]]) await pointer('pointermove', points[0] + dx * side, points[1] + dy * side, 1, true);
    await pointer('pointerup', points[0] - side, points[1] - side, 0, true);
    const lassoed = await waitInView<{ inside: string; count: string }>('the lassoed images', `const section = root.querySelector('section.lasso'); const canvas = section.querySelector('canvas'); return canvas.dataset.count ? { inside: section.dataset.inside, count: canvas.dataset.count } : null;`, () => true);
    assert.ok(Number(lassoed.count) >= 1 && Number(lassoed.count) === Math.min(48, Number(lassoed.inside)), JSON.stringify(lassoed));

    await screenshot('explorer-scatter');
    await inView(`root.querySelector('.legend').scrollIntoView(); return true;`);
    await screenshotInThemes('explorer');

    // Shown again: the host sends the points it has; nothing is encoded again.
    const encoded = api.explorer.counts.explore;
    await vscode.commands.executeCommand('workbench.view.explorer');
    await waitFor('the view to hide', () => !api.explorer.state.visible, 10_000);
    await vscode.commands.executeCommand('latentLab.exploreLatentSpace');
    await waitInView<string>('the points again', `return root.dataset.points ?? null;`, (value) => value === String(TEST_POINTS));
    assert.equal(api.explorer.counts.explore, encoded, 'showing the view again recomputes nothing');

    // One more epoch of the followed run: its new checkpoint is read and the points drawn again.
    await vscode.commands.executeCommand('latentLab.continueTraining', editor.notebook, 1);
    const train = code.find((cell) => (cell.metadata.aexp as { kind: string }).kind === 'train')!;
    await waitFor('the third epoch\'s points', () => api.explorer.result?.model.epoch === 3, 120_000).catch(async (error: Error) => {
      const status = await inView<string>(`return root.querySelector('.status').textContent;`);
      throw new Error(`${error.message}; the view: ${JSON.stringify({ ...api.explorer.state, epoch: api.explorer.result?.model.epoch, counts: api.explorer.counts, status })}; the train cell: ${outputText(train)}`);
    });
    await waitInView<string>('the page to show epoch 3', `return root.querySelector('.status').textContent;`, (text) => /epoch 3\)/.test(text));
  });

  test('a split shown before is picked again without encoding it again (its points are kept, as across a window reload) while its checkpoint is unchanged', async () => {
    const shown = api.explorer.state.choice;
    assert.ok(shown && api.explorer.state.points === TEST_POINTS, 'the test split of the tour\'s run is shown');
    const encoded = api.explorer.counts.explore;
    await api.explorer.receive({ type: 'choose', choice: { ...shown, split: 'train' }, follow: false });
    assert.equal(api.explorer.counts.explore, encoded + 1, 'the train split is encoded');
    assert.ok(api.explorer.state.points! > TEST_POINTS);
    await api.explorer.receive({ type: 'choose', choice: shown, follow: true });
    assert.equal(api.explorer.state.points, TEST_POINTS);
    assert.equal(api.explorer.counts.explore, encoded + 1, 'the test split came from the kept points, not the runtime');
    await waitInView<string>('the test split\'s points', `return root.dataset.points ?? null;`, (value) => value === String(TEST_POINTS));
  });
});
