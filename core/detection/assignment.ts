/**
 * Optimal assignment (the linear assignment problem): given a cost matrix, pair rows with columns,
 * each at most once, minimizing the summed cost. Pure arithmetic.
 *
 * solveAssignment is the shortest-augmenting-path form of the Hungarian method (Kuhn-Munkres with
 * the potentials of Jonker and Volgenant, 1987; O(n^2 m) for n rows <= m columns): rows are added
 * one at a time, each by a Dijkstra-like search over reduced costs for the cheapest augmenting path,
 * keeping row and column potentials u, v with u[i] + v[j] <= c[i][j] (equality on matched pairs), so
 * every intermediate assignment is optimal for the rows added so far. A matrix with more rows than
 * columns is solved transposed.
 *
 * assignWithLimit is what trackers need (lap.lapjv's extend_cost with cost_limit, as ByteTrack
 * calls it): a pair may also stay unmatched, each side at cost limit / 2, so a pair costing more
 * than `limit` is never taken and the result is optimal over all partial assignments.
 */

/** For each row, the column it is assigned (every row gets one when rows <= columns, else -1 for the rows left out). */
export function solveAssignment(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  const m = n === 0 ? 0 : cost[0]!.length;
  if (n === 0) return [];
  for (const row of cost) {
    if (row.length !== m) throw new RangeError('cost matrix rows must all have the same length');
    for (const c of row) if (!Number.isFinite(c)) throw new RangeError('costs must be finite numbers');
  }
  if (m === 0) return new Array<number>(n).fill(-1);
  if (n > m) {
    const transposed = Array.from({ length: m }, (_, j) => Array.from({ length: n }, (_, i) => cost[i]![j]!));
    const byCol = solveAssignment(transposed);
    const out = new Array<number>(n).fill(-1);
    byCol.forEach((i, j) => (out[i] = j));
    return out;
  }
  // 1-based arrays; column 0 is the virtual start of each augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOf = new Int32Array(m + 1); // rowOf[j]: the row matched to column j (0 = none)
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      let delta = Infinity;
      let j1 = 0;
      const row = cost[i0 - 1]!;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = row[j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOf[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // Flip the augmenting path back to its start.
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (rowOf[j]! > 0) out[rowOf[j]! - 1] = j - 1;
  return out;
}

export interface LimitedAssignment {
  /** [row, column] pairs, by row. */
  matches: Array<[number, number]>;
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/**
 * The cheapest partial assignment when leaving a row or a column unmatched costs limit / 2 each:
 * no pair costing more than `limit` is taken (one costing exactly `limit` is, as in lap.lapjv).
 */
export function assignWithLimit(cost: readonly (readonly number[])[], limit: number, cols = cost[0]?.length ?? 0): LimitedAssignment {
  const n = cost.length;
  const m = cols;
  const rowsOut = Array.from({ length: n }, (_, i) => i);
  const colsOut = Array.from({ length: m }, (_, j) => j);
  if (n === 0 || m === 0) return { matches: [], unmatchedRows: rowsOut, unmatchedCols: colsOut };
  // The extended square matrix [[C, L/2], [L/2, 0]] of size n + m (lap.lapjv's extend_cost).
  const size = n + m;
  const half = limit / 2;
  const big = Array.from({ length: size }, (_, i) =>
    Array.from({ length: size }, (_, j) => (i < n && j < m ? Math.min(cost[i]![j]!, limit + 1) : i < n || j < m ? half : 0)),
  );
  const col = solveAssignment(big);
  const matches: Array<[number, number]> = [];
  const rowTaken = new Uint8Array(n);
  const colTaken = new Uint8Array(m);
  for (let i = 0; i < n; i++) {
    const j = col[i]!;
    if (j >= 0 && j < m && cost[i]![j]! <= limit) {
      matches.push([i, j]);
      rowTaken[i] = 1;
      colTaken[j] = 1;
    }
  }
  return { matches, unmatchedRows: rowsOut.filter((i) => !rowTaken[i]), unmatchedCols: colsOut.filter((j) => !colTaken[j]) };
}
