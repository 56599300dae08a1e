/**
 * The scatter's drawing: WebGL2 point sprites (one vertex per point, a disc cut from each in the
 * fragment shader) where the page has WebGL, else Canvas2D. Not instanced quads: on SwiftShader's
 * software GL, 70k instanced quads took 1.4 s a frame and 70k points 55 ms; a GPU draws either in
 * well under a millisecond. Both take the same points, colours
 * and camera; the canvas says which draws it (data-renderer) and how many points it drew
 * (data-drawn). Points with alpha 0 (a class the legend hides) are not drawn.
 */
import type { Camera } from '../../extension/explorer-protocol';

export interface ScatterRenderer {
  readonly kind: 'webgl' | 'canvas2d';
  /** New points (count × 2, data units) and their colours (count × 4, 0–255). */
  setPoints(points: Float32Array, colours: Uint8Array, count: number): void;
  setColours(colours: Uint8Array): void;
  draw(camera: Camera, width: number, height: number, pointSize: number): void;
}

const VERTEX = `#version 300 es
in vec2 position;
in vec4 colour;
uniform vec2 centre;
uniform float scale;
uniform vec2 viewport;
uniform float size;
out vec4 pointColour;
void main() {
  vec2 pixels = (position - centre) * scale;
  gl_Position = vec4(pixels * 2.0 / viewport, 0.0, 1.0);
  gl_PointSize = size;
  pointColour = colour;
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in vec4 pointColour;
out vec4 fragment;
void main() {
  vec2 offset = gl_PointCoord * 2.0 - 1.0;
  if (dot(offset, offset) > 1.0 || pointColour.a == 0.0) discard;
  fragment = vec4(pointColour.rgb * pointColour.a, pointColour.a);
}`;

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`the scatter's shader did not compile: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

class WebGlScatter implements ScatterRenderer {
  readonly kind = 'webgl';
  private readonly program: WebGLProgram;
  private readonly positions: WebGLBuffer;
  private readonly colours: WebGLBuffer;
  private count = 0;
  private visible = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly gl: WebGL2RenderingContext) {
    const program = gl.createProgram()!;
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`the scatter's shaders did not link: ${gl.getProgramInfoLog(program)}`);
    this.program = program;
    gl.useProgram(program);
    const vertexArray = gl.createVertexArray();
    gl.bindVertexArray(vertexArray);
    this.positions = gl.createBuffer()!;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positions);
    const position = gl.getAttribLocation(program, 'position');
    gl.enableVertexAttribArray(position);
    gl.vertexAttribPointer(position, 2, gl.FLOAT, false, 0, 0);
    this.colours = gl.createBuffer()!;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colours);
    const colour = gl.getAttribLocation(program, 'colour');
    gl.enableVertexAttribArray(colour);
    gl.vertexAttribPointer(colour, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
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
  }

  draw(camera: Camera, width: number, _height: number, pointSize: number): void {
    const gl = this.gl;
    const ratio = this.canvas.width / Math.max(1, width);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.program);
    gl.uniform2f(gl.getUniformLocation(this.program, 'centre'), camera.x, camera.y);
    gl.uniform1f(gl.getUniformLocation(this.program, 'scale'), camera.scale * ratio);
    gl.uniform2f(gl.getUniformLocation(this.program, 'viewport'), this.canvas.width, this.canvas.height);
    gl.uniform1f(gl.getUniformLocation(this.program, 'size'), pointSize * ratio);
    gl.drawArrays(gl.POINTS, 0, this.count);
    this.canvas.dataset.drawn = String(this.visible);
  }
}

class CanvasScatter implements ScatterRenderer {
  readonly kind = 'canvas2d';
  private points: Float32Array = new Float32Array(0);
  private colours: Uint8Array = new Uint8Array(0);
  private count = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly context: CanvasRenderingContext2D) {}

  setPoints(points: Float32Array, colours: Uint8Array, count: number): void {
    this.points = points;
    this.count = count;
    this.colours = colours;
  }

  setColours(colours: Uint8Array): void {
    this.colours = colours;
  }

  draw(camera: Camera, width: number, height: number, pointSize: number): void {
    const context = this.context;
    const ratio = this.canvas.width / Math.max(1, width);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const half = pointSize / 2;
    let drawn = 0;
    let style = -1;
    for (let index = 0; index < this.count; index++) {
      const alpha = this.colours[index * 4 + 3];
      if (alpha === 0) continue;
      const packed = (this.colours[index * 4] << 16) | (this.colours[index * 4 + 1] << 8) | this.colours[index * 4 + 2];
      // Changing fillStyle is what costs: consecutive points of one colour keep it.
      if (packed !== style) {
        style = packed;
        context.fillStyle = `rgba(${this.colours[index * 4]}, ${this.colours[index * 4 + 1]}, ${this.colours[index * 4 + 2]}, ${alpha / 255})`;
      }
      const x = (this.points[index * 2] - camera.x) * camera.scale + width / 2;
      const y = height / 2 - (this.points[index * 2 + 1] - camera.y) * camera.scale;
      // Squares: a path per point (an arc) costs several times a rectangle, and at 4 px they look alike.
      context.fillRect(x - half, y - half, pointSize, pointSize);
      drawn++;
    }
    this.canvas.dataset.drawn = String(drawn);
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
