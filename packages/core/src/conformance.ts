/**
 * What the exported conformance suites share (@mmsim/page-alloc/conformance,
 * @mmsim/slab/conformance): framework-agnostic cases, the describe/it pair that registers
 * them with any test runner, and the assertions a case's harness fails with.
 */

/** One check of a suite: `run()` throws an Error on the first violation. */
export interface ConformanceCase {
  name: string;
  run(): void;
}

/** The describe/it pair of a test framework (vitest, jest, mocha, node:test). */
export interface TestRegistrar {
  describe: (name: string, fn: () => void) => unknown;
  it: (name: string, fn: () => void) => unknown;
}

/** Register `cases` under one `describe(title)`. */
export function registerConformance(
  title: string,
  cases: readonly ConformanceCase[],
  registrar: TestRegistrar,
): void {
  registrar.describe(title, () => {
    for (const c of cases) registrar.it(c.name, () => c.run());
  });
}

/** The assertions of a case: each failure is an Error labelled with the implementation. */
export class ConformanceChecks {
  constructor(readonly label: string) {}

  /** How a value is shown in a failure message. */
  protected format(v: unknown): string {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  }

  fail(message: string): never {
    throw new Error(`[${this.label}] ${message}`);
  }
  eq(actual: unknown, expected: unknown, what: string): void {
    if (actual !== expected) {
      this.fail(`${what}: expected ${this.format(expected)}, got ${this.format(actual)}`);
    }
  }
  ok(cond: boolean, what: string): void {
    if (!cond) this.fail(what);
  }

  /** fn must throw an instance of `type`; returns it. */
  throws<T extends Error>(fn: () => unknown, type: new (...args: never[]) => T, what: string): T {
    try {
      fn();
    } catch (e) {
      if (e instanceof type) return e;
      this.fail(
        `${what}: expected a ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : this.format(e)}`,
      );
    }
    return this.fail(`${what}: expected a ${type.name}, nothing was thrown`);
  }
}
