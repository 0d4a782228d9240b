/** Flattens a nested fixture array (any depth) for expectClose. */
export function flat(v: unknown): number[] {
  return (v as unknown[]).flat(Infinity) as number[];
}
