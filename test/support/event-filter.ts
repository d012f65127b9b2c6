/**
 * The part of Lambda's event filtering (EventBridge pattern syntax) that a mapping's filter here
 * uses: nested objects, arrays of literal values, and `{ "exists": true | false }` on leaves. Any
 * other operator throws, so a filter this cannot evaluate is never silently passed.
 */

export type Pattern = { [key: string]: Pattern | unknown[] };

export function matchesPattern(pattern: Pattern, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const field = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      if (!rule.some((option) => matchesOption(option, field))) return false;
    } else if (field === undefined || field === null || typeof field !== 'object' || !matchesPattern(rule as Pattern, field)) {
      return false;
    }
  }
  return true;
}

function matchesOption(option: unknown, field: unknown): boolean {
  if (option !== null && typeof option === 'object') {
    const operators = Object.keys(option);
    if (operators.length === 1 && operators[0] === 'exists') {
      const present = field !== undefined && (field === null || typeof field !== 'object');
      return (option as { exists: boolean }).exists === present;
    }
    throw new Error(`This test's filter evaluator does not know the operator ${JSON.stringify(option)}; extend test/support/event-filter.ts.`);
  }
  return Array.isArray(field) ? field.includes(option) : field === option;
}
