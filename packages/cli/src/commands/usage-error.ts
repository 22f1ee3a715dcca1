/** A mistake in the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A numeric option: undefined when not given, else a whole number ≥ `min`, or a UsageError naming the flag. */
export function wholeNumber(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`--${flag} must be ${min === 1 ? 'a positive whole number' : `a whole number ≥ ${min}`}, got "${value}"`);
  return parsed;
}
