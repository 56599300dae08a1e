/** Bytes and floats as they cross the channel (base64), and images drawn into canvases. */

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export function decodeFloats(text: string): Float32Array {
  const bytes = decodeBase64(text);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/**
 * Draws image `index` of `pixels` (uint8, height × width × channels each) into `canvas` at a whole
 * scale that fits `side` CSS pixels, crisp (no smoothing): what the decoder gave, pixel for pixel.
 */
export function drawImage(canvas: HTMLCanvasElement, pixels: Uint8Array, shape: readonly [number, number, number], index: number, side: number): void {
  const [height, width, channels] = shape;
  const scale = Math.max(1, Math.floor(side / Math.max(height, width)));
  canvas.width = width * scale;
  canvas.height = height * scale;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const image = new ImageData(width, height);
  const start = index * height * width * channels;
  for (let pixel = 0; pixel < height * width; pixel++) {
    for (let channel = 0; channel < 3; channel++) image.data[pixel * 4 + channel] = pixels[start + pixel * channels + (channels === 1 ? 0 : channel)];
    image.data[pixel * 4 + 3] = 255;
  }
  const source = document.createElement('canvas');
  source.width = width;
  source.height = height;
  source.getContext('2d')!.putImageData(image, 0, 0);
  const context = canvas.getContext('2d')!;
  context.imageSmoothingEnabled = false;
  context.drawImage(source, 0, 0, width * scale, height * scale);
}

/** A strip of `count` images side by side, each `side` CSS pixels at most. */
export function drawStrip(canvas: HTMLCanvasElement, pixels: Uint8Array, shape: readonly [number, number, number], count: number, side: number): void {
  const [height, width] = shape;
  const scale = Math.max(1, Math.floor(side / Math.max(height, width)));
  canvas.width = count * width * scale;
  canvas.height = height * scale;
  canvas.style.width = `${count * width * scale}px`;
  const context = canvas.getContext('2d')!;
  const one = document.createElement('canvas');
  for (let index = 0; index < count; index++) {
    drawImage(one, pixels, shape, index, height * scale);
    context.drawImage(one, index * width * scale, 0);
  }
}

/** `count` images in rows of `columns`, each `side` CSS pixels at most. */
export function drawGrid(canvas: HTMLCanvasElement, pixels: Uint8Array, shape: readonly [number, number, number], count: number, columns: number, side: number): void {
  const [height, width] = shape;
  const scale = Math.max(1, Math.floor(side / Math.max(height, width)));
  const rows = Math.ceil(count / columns);
  canvas.width = Math.min(count, columns) * width * scale;
  canvas.height = rows * height * scale;
  canvas.style.width = `${canvas.width}px`;
  const context = canvas.getContext('2d')!;
  const one = document.createElement('canvas');
  for (let index = 0; index < count; index++) {
    drawImage(one, pixels, shape, index, height * scale);
    context.drawImage(one, (index % columns) * width * scale, Math.floor(index / columns) * height * scale);
  }
}
