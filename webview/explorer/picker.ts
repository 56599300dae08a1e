/**
 * Which point is under the pointer, without looking at every point: the points are binned once
 * into a uniform grid over their bounds (about four points a cell), and a query reads only the
 * cells within its radius. 70k points pick in well under a millisecond.
 */
export class GridPicker {
  private readonly minX: number;
  private readonly minY: number;
  private readonly cellSize: number;
  private readonly columns: number;
  private readonly rows: number;
  /** Point indices sorted by cell; `starts[c]` to `starts[c + 1]` are cell c's. */
  private readonly order: Uint32Array;
  private readonly starts: Uint32Array;

  constructor(private readonly points: Float32Array, private readonly count: number) {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let index = 0; index < count; index++) {
      const x = points[index * 2], y = points[index * 2 + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    if (count === 0) minX = minY = maxX = maxY = 0;
    const side = Math.max(1, Math.ceil(Math.sqrt(count / 4)));
    this.cellSize = Math.max(maxX - minX, maxY - minY, 1e-9) / side;
    this.minX = minX;
    this.minY = minY;
    this.columns = Math.floor((maxX - minX) / this.cellSize) + 1;
    this.rows = Math.floor((maxY - minY) / this.cellSize) + 1;
    const cellOf = new Uint32Array(count);
    const counts = new Uint32Array(this.columns * this.rows + 1);
    for (let index = 0; index < count; index++) {
      const cell = this.cell(points[index * 2], points[index * 2 + 1]);
      cellOf[index] = cell;
      counts[cell + 1]++;
    }
    for (let cell = 1; cell < counts.length; cell++) counts[cell] += counts[cell - 1];
    this.starts = counts;
    const fill = counts.slice(0, -1);
    this.order = new Uint32Array(count);
    for (let index = 0; index < count; index++) this.order[fill[cellOf[index]]++] = index;
  }

  private cell(x: number, y: number): number {
    const column = Math.min(this.columns - 1, Math.max(0, Math.floor((x - this.minX) / this.cellSize)));
    const row = Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.minY) / this.cellSize)));
    return row * this.columns + column;
  }

  /** The nearest point to (x, y) within `radius` (data units) that `visible` accepts, or -1. */
  nearest(x: number, y: number, radius: number, visible: (index: number) => boolean = () => true): number {
    const firstColumn = Math.max(0, Math.floor((x - radius - this.minX) / this.cellSize));
    const lastColumn = Math.min(this.columns - 1, Math.floor((x + radius - this.minX) / this.cellSize));
    const firstRow = Math.max(0, Math.floor((y - radius - this.minY) / this.cellSize));
    const lastRow = Math.min(this.rows - 1, Math.floor((y + radius - this.minY) / this.cellSize));
    let best = -1;
    let bestDistance = radius * radius;
    for (let row = firstRow; row <= lastRow; row++) {
      for (let column = firstColumn; column <= lastColumn; column++) {
        const cell = row * this.columns + column;
        for (let at = this.starts[cell]; at < this.starts[cell + 1]; at++) {
          const index = this.order[at];
          const dx = this.points[index * 2] - x, dy = this.points[index * 2 + 1] - y;
          const distance = dx * dx + dy * dy;
          if (distance <= bestDistance && visible(index) && (distance < bestDistance || index < best)) {
            best = index;
            bestDistance = distance;
          }
        }
      }
    }
    return best;
  }

  /** Every visible point inside the polygon (data units), by the even-odd rule. */
  inside(polygon: readonly [number, number][], visible: (index: number) => boolean = () => true): number[] {
    if (polygon.length < 3) return [];
    const found: number[] = [];
    for (let index = 0; index < this.count; index++) {
      if (!visible(index)) continue;
      const x = this.points[index * 2], y = this.points[index * 2 + 1];
      let within = false;
      for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
        const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) within = !within;
      }
      if (within) found.push(index);
    }
    return found;
  }
}
