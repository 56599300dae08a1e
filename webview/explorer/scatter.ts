/**
 * The scatter's drawing: WebGL2 point sprites (one vertex per point, a disc cut from each in the
 * fragment shader) where the page has WebGL, else Canvas2D. Not instanced quads: on SwiftShader's
 * software GL, 70k instanced quads took 1.4 s a frame and 70k points 55 ms; a GPU draws either in
 * well under a millisecond. Both draw every point into a frame a margin larger than the canvas and
 * show it; while the camera moves they show that frame moved and scaled (frame-cache.ts), so a pan
 * or zoom frame costs one quad (one drawImage) on any GL, and every point is drawn again once the
 * camera settles. Both take the same points, colours and camera; the canvas says which draws it
 * (data-renderer), how many points it drew (data-drawn) and whether it shows every point drawn at
 * its camera or a frame moved (data-frame: full, moved). Points with alpha 0 (a class the legend
 * hides) are not drawn.
 */
import type { Camera } from '../../extension/explorer-protocol';
import type { CachedFrame, Placement } from './frame-cache';
import { FrameKeeper, frameFor, frameSize } from './frame-cache';

export interface ScatterRenderer {
  readonly kind: 'webgl' | 'canvas2d';
  /** New points (count × 2, data units) and their colours (count × 4, 0–255). */
  setPoints(points: Float32Array, colours: Uint8Array, count: number): void;
  setColours(colours: Uint8Array): void;
  /** `moving`: the camera is being panned or zoomed, so the last frame drawn may be shown moved instead. */
  draw(camera: Camera, width: number, height: number, pointSize: number, moving: boolean): void;
}

// A hidden point's vertex is put outside the clip volume, so it is dropped before it is rasterised.
const POINTS_VERTEX = `#version 300 es
in vec2 position;
in vec4 colour;
uniform vec2 centre;
uniform float scale;
uniform vec2 viewport;
uniform float size;
out vec4 pointColour;
void main() {
  pointColour = colour;
  gl_PointSize = size;
  if (colour.a == 0.0) {
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    return;
  }
  vec2 pixels = (position - centre) * scale;
  gl_Position = vec4(pixels * 2.0 / viewport, 0.0, 1.0);
}`;

// Outside the disc the fragment is transparent, which the blend leaves as it was: the same pixels
// as discarding it, and cheaper on software GL.
const POINTS_FRAGMENT = `#version 300 es
precision mediump float;
in vec4 pointColour;
out vec4 fragment;
void main() {
  vec2 offset = gl_PointCoord * 2.0 - 1.0;
  float inside = step(dot(offset, offset), 1.0);
  fragment = vec4(pointColour.rgb * pointColour.a, pointColour.a) * inside;
}`;

const FRAME_VERTEX = `#version 300 es
in vec2 corner;
uniform vec2 offset;
uniform vec2 extent;
out vec2 place;
void main() {
  place = corner * 0.5 + 0.5;
  gl_Position = vec4(offset + corner * extent, 0.0, 1.0);
}`;

const FRAME_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D frame;
in vec2 place;
out vec4 fragment;
void main() {
  fragment = texture(frame, place);
}`;

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`the scatter's shader did not compile: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

function link(gl: WebGL2RenderingContext, vertex: string, fragment: string): WebGLProgram {
  const program = gl.createProgram()!;
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`the scatter's shaders did not link: ${gl.getProgramInfoLog(program)}`);
  return program;
}

function uniforms<K extends string>(gl: WebGL2RenderingContext, program: WebGLProgram, names: readonly K[]): Record<K, WebGLUniformLocation | null> {
  return Object.fromEntries(names.map((name) => [name, gl.getUniformLocation(program, name)])) as Record<K, WebGLUniformLocation | null>;
}

class WebGlScatter implements ScatterRenderer {
  readonly kind = 'webgl';
  private readonly pointsProgram: WebGLProgram;
  private readonly pointsUniforms: Record<'centre' | 'scale' | 'viewport' | 'size', WebGLUniformLocation | null>;
  private readonly pointsArray: WebGLVertexArrayObject;
  private readonly frameProgram: WebGLProgram;
  private readonly frameUniforms: Record<'offset' | 'extent' | 'frame', WebGLUniformLocation | null>;
  private readonly frameArray: WebGLVertexArrayObject;
  private readonly positions: WebGLBuffer;
  private readonly colours: WebGLBuffer;
  private readonly texture: WebGLTexture;
  private readonly framebuffer: WebGLFramebuffer;
  private textureWidth = 0;
  private textureHeight = 0;
  private readonly largest: number;
  private readonly keeper = new FrameKeeper();
  private count = 0;
  private visible = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly gl: WebGL2RenderingContext) {
    this.pointsProgram = link(gl, POINTS_VERTEX, POINTS_FRAGMENT);
    this.pointsUniforms = uniforms(gl, this.pointsProgram, ['centre', 'scale', 'viewport', 'size']);
    this.pointsArray = gl.createVertexArray();
    gl.bindVertexArray(this.pointsArray);
    this.positions = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    const position = gl.getAttribLocation(this.pointsProgram, 'position');
    gl.enableVertexAttribArray(position);
    gl.vertexAttribPointer(position, 2, gl.FLOAT, false, 0, 0);
    this.colours = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    const colour = gl.getAttribLocation(this.pointsProgram, 'colour');
    gl.enableVertexAttribArray(colour);
    gl.vertexAttribPointer(colour, 4, gl.UNSIGNED_BYTE, true, 0, 0);

    this.frameProgram = link(gl, FRAME_VERTEX, FRAME_FRAGMENT);
    this.frameUniforms = uniforms(gl, this.frameProgram, ['offset', 'extent', 'frame']);
    this.frameArray = gl.createVertexArray();
    gl.bindVertexArray(this.frameArray);
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const corner = gl.getAttribLocation(this.frameProgram, 'corner');
    gl.enableVertexAttribArray(corner);
    gl.vertexAttribPointer(corner, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);

    this.texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.framebuffer = gl.createFramebuffer();
    this.largest = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE) as number, gl.getParameter(gl.MAX_RENDERBUFFER_SIZE) as number);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.disable(gl.DEPTH_TEST);
    this.warmUp();
  }

  /**
   * One point into a 1-pixel frame and that frame onto the canvas, before any points come: software
   * GL (SwiftShader) compiles a draw's pipeline at its first use, which would otherwise hold back
   * the first frame of the points. The GL does this while the page waits for the host.
   */
  private warmUp(): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(2), gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    gl.bufferData(gl.ARRAY_BUFFER, new Uint8Array([0, 0, 0, 255]), gl.DYNAMIC_DRAW);
    this.count = 1;
    const frame = frameFor({ x: 0, y: 0, scale: 1 }, 1, 1, 1, 1);
    this.drawPoints(frame, 1);
    this.show(frame, { dx: 0, dy: 0, zoom: 1 });
    this.count = 0;
    delete this.canvas.dataset.drawn;
    gl.clear(gl.COLOR_BUFFER_BIT);
  }

  setPoints(points: Float32Array, colours: Uint8Array, count: number): void {
    const gl = this.gl;
    this.count = count;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    gl.bufferData(gl.ARRAY_BUFFER, points.subarray(0, count * 2), gl.STATIC_DRAW);
    this.setColours(colours);
  }

  setColours(colours: Uint8Array): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    gl.bufferData(gl.ARRAY_BUFFER, colours.subarray(0, this.count * 4), gl.DYNAMIC_DRAW);
    this.visible = 0;
    for (let index = 0; index < this.count; index++) if (colours[index * 4 + 3] > 0) this.visible++;
    this.keeper.invalidate();
  }

  draw(camera: Camera, width: number, _height: number, pointSize: number, moving: boolean): void {
    const ratio = this.canvas.width / Math.max(1, width);
    const plan = this.keeper.plan(camera, this.canvas.width, this.canvas.height, ratio, pointSize, moving, this.largest);
    if (!plan) return;
    if (plan.render) this.drawPoints(plan.render, pointSize);
    this.show(plan.frame, plan.placement);
    this.canvas.dataset.frame = plan.kind;
  }

  /** Every point, into the frame's texture. */
  private drawPoints(frame: CachedFrame, pointSize: number): void {
    const gl = this.gl;
    const { width, height } = frameSize(frame);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    if (width !== this.textureWidth || height !== this.textureHeight) {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      this.textureWidth = width;
      this.textureHeight = height;
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.texture, 0);
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.viewport(0, 0, width, height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.pointsProgram);
    gl.bindVertexArray(this.pointsArray);
    gl.uniform2f(this.pointsUniforms.centre, frame.camera.x, frame.camera.y);
    gl.uniform1f(this.pointsUniforms.scale, frame.camera.scale * frame.ratio);
    gl.uniform2f(this.pointsUniforms.viewport, width, height);
    gl.uniform1f(this.pointsUniforms.size, pointSize * frame.ratio);
    gl.enable(gl.BLEND);
    gl.drawArrays(gl.POINTS, 0, this.count);
    gl.disable(gl.BLEND);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.canvas.dataset.drawn = String(this.visible);
  }

  /** The frame's texture on the canvas, moved and scaled: texel for pixel where it is neither. */
  private show(frame: CachedFrame, placement: Placement): void {
    const gl = this.gl;
    const { width, height } = frameSize(frame);
    const canvasWidth = this.canvas.width, canvasHeight = this.canvas.height;
    gl.viewport(0, 0, canvasWidth, canvasHeight);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.frameProgram);
    gl.bindVertexArray(this.frameArray);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    const filter = placement.zoom === 1 ? gl.NEAREST : gl.LINEAR;
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.uniform1i(this.frameUniforms.frame, 0);
    gl.uniform2f(this.frameUniforms.offset, (2 * placement.dx) / canvasWidth, (-2 * placement.dy) / canvasHeight);
    gl.uniform2f(this.frameUniforms.extent, (width * placement.zoom) / canvasWidth, (height * placement.zoom) / canvasHeight);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}

class CanvasScatter implements ScatterRenderer {
  readonly kind = 'canvas2d';
  private readonly frameCanvas = document.createElement('canvas');
  private readonly frameContext = this.frameCanvas.getContext('2d')!;
  private readonly keeper = new FrameKeeper();
  private points: Float32Array = new Float32Array(0);
  private count = 0;
  /** The visible points grouped by colour, and where each colour's group starts, with its style. */
  private order = new Uint32Array(0);
  private groups: { start: number; style: string }[] = [];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly context: CanvasRenderingContext2D) {}

  setPoints(points: Float32Array, colours: Uint8Array, count: number): void {
    this.points = points;
    this.count = count;
    this.setColours(colours);
  }

  /** Groups the points by colour: setting a fill style is what costs, so each is set once a frame. */
  setColours(colours: Uint8Array): void {
    const groupOf = new Map<number, number>();
    const sizes: number[] = [];
    const group = new Int32Array(this.count);
    for (let index = 0; index < this.count; index++) {
      if (colours[index * 4 + 3] === 0) {
        group[index] = -1;
        continue;
      }
      const packed = colours[index * 4] * 0x1000000 + ((colours[index * 4 + 1] << 16) | (colours[index * 4 + 2] << 8) | colours[index * 4 + 3]);
      let at = groupOf.get(packed);
      if (at === undefined) {
        at = sizes.length;
        groupOf.set(packed, at);
        sizes.push(0);
      }
      group[index] = at;
      sizes[at]++;
    }
    const starts = new Uint32Array(sizes.length);
    for (let at = 1; at < sizes.length; at++) starts[at] = starts[at - 1] + sizes[at - 1];
    this.groups = [...groupOf.keys()].map((packed, at) => ({ start: starts[at], style: `rgba(${Math.floor(packed / 0x1000000)}, ${(packed >> 16) & 255}, ${(packed >> 8) & 255}, ${(packed & 255) / 255})` }));
    const fill = starts.slice();
    this.order = new Uint32Array(sizes.reduce((sum, size) => sum + size, 0));
    for (let index = 0; index < this.count; index++) if (group[index] >= 0) this.order[fill[group[index]]++] = index;
    this.keeper.invalidate();
  }

  draw(camera: Camera, width: number, _height: number, pointSize: number, moving: boolean): void {
    const ratio = this.canvas.width / Math.max(1, width);
    const plan = this.keeper.plan(camera, this.canvas.width, this.canvas.height, ratio, pointSize, moving, 16384);
    if (!plan) return;
    if (plan.render) this.drawPoints(plan.render, pointSize);
    this.show(plan.frame, plan.placement);
    this.canvas.dataset.frame = plan.kind;
  }

  /** Every visible point, a square each (a path per point, an arc, costs several times a rectangle, and at 4 px they look alike). */
  private drawPoints(frame: CachedFrame, pointSize: number): void {
    const { width, height } = frameSize(frame);
    if (this.frameCanvas.width !== width || this.frameCanvas.height !== height) {
      this.frameCanvas.width = width;
      this.frameCanvas.height = height;
    }
    const context = this.frameContext;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    const { camera, ratio } = frame;
    const scale = camera.scale * ratio, size = pointSize * ratio, half = size / 2;
    const centreX = frame.marginX + frame.canvasWidth / 2, centreY = frame.marginY + frame.canvasHeight / 2;
    const points = this.points, order = this.order;
    for (let at = 0; at < this.groups.length; at++) {
      context.fillStyle = this.groups[at].style;
      const end = at + 1 < this.groups.length ? this.groups[at + 1].start : order.length;
      for (let place = this.groups[at].start; place < end; place++) {
        const index = order[place];
        const x = (points[index * 2] - camera.x) * scale + centreX;
        const y = centreY - (points[index * 2 + 1] - camera.y) * scale;
        if (x < -half || y < -half || x > width + half || y > height + half) continue;
        context.fillRect(x - half, y - half, size, size);
      }
    }
    this.canvas.dataset.drawn = String(order.length);
  }

  /** The frame on the canvas, moved and scaled: pixel for pixel where it is neither. */
  private show(frame: CachedFrame, placement: Placement): void {
    const { width, height } = frameSize(frame);
    const context = this.context;
    const canvasWidth = this.canvas.width, canvasHeight = this.canvas.height;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, canvasWidth, canvasHeight);
    context.imageSmoothingEnabled = placement.zoom !== 1;
    const shownWidth = width * placement.zoom, shownHeight = height * placement.zoom;
    context.drawImage(this.frameCanvas, canvasWidth / 2 + placement.dx - shownWidth / 2, canvasHeight / 2 + placement.dy - shownHeight / 2, shownWidth, shownHeight);
  }
}

/**
 * WebGL2 where the page has it (unless `prefer` says canvas2d), else Canvas2D. A canvas that gave
 * out a WebGL context cannot give a 2-d one, so a failed WebGL start answers with a fresh canvas
 * in the old one's place.
 */
export function createScatter(canvas: HTMLCanvasElement, prefer: 'webgl' | 'canvas2d' = 'webgl'): { renderer: ScatterRenderer; canvas: HTMLCanvasElement } {
  let target = canvas;
  if (prefer === 'webgl') {
    // Kept so that a test (and a screenshot) can read the pixels back after the frame.
    const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, premultipliedAlpha: true, antialias: false });
    if (gl) {
      try {
        const renderer = new WebGlScatter(canvas, gl);
        canvas.dataset.renderer = 'webgl';
        return { renderer, canvas };
      } catch {
        target = canvas.cloneNode() as HTMLCanvasElement;
        canvas.replaceWith(target);
      }
    }
  }
  const context = target.getContext('2d');
  if (!context) throw new Error('this page can draw neither WebGL nor Canvas2D');
  target.dataset.renderer = 'canvas2d';
  return { renderer: new CanvasScatter(target, context), canvas: target };
}
