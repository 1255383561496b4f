/**
 * SimClock — the machine's monotonic clock, in nanoseconds.
 *
 * Nothing in the simulator reads the host's time: printk timestamps, ratelimits
 * (`prev_jiffy + HZ`, `10*HZ`) and statistics all use this clock, so a run with the same
 * seed and inputs prints the same log. Time moves only when someone advances it (the
 * machine, a scenario, a trace replay). Nanoseconds are plain numbers: exact up to 2^53 ns,
 * about 104 days of simulated uptime.
 *
 * Linux: kernel/time/ (local_clock(), jiffies); HZ is 250 in the reference 6.18 config
 * (CONFIG_HZ=250).
 */

export const NSEC_PER_USEC = 1000;
export const NSEC_PER_MSEC = 1_000_000;
export const NSEC_PER_SEC = 1_000_000_000;
/** CONFIG_HZ of the reference 6.18 kernel: timer ticks per second. */
export const HZ = 250;
/** Nanoseconds per jiffy (include/linux/jiffies.h TICK_NSEC). */
export const TICK_NSEC = NSEC_PER_SEC / HZ;

function checkNs(ns: number, what: string): void {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) {
    throw new TypeError(`SimClock.${what}(${String(ns)}): expected a finite number of nanoseconds`);
  }
  if (ns < 0 || ns > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`SimClock.${what}(${ns}): expected 0..2^53 nanoseconds`);
  }
}

export class SimClock {
  private ns: number;

  constructor(startNs = 0) {
    checkNs(startNs, 'constructor');
    this.ns = startNs;
  }

  /** The current simulated time in nanoseconds since boot. */
  nowNs(): number {
    return this.ns;
  }

  /** Move time forward by `ns` nanoseconds (0 is allowed; time never goes back). */
  advance(ns: number): void {
    checkNs(ns, 'advance');
    const next = this.ns + ns;
    checkNs(next, 'advance');
    this.ns = next;
  }

  /** Jump to `ns` — to replay a trace's timestamps or to reset a machine. */
  set(ns: number): void {
    checkNs(ns, 'set');
    this.ns = ns;
  }

  /** Ticks since boot at HZ ticks per second (jiffies without the INITIAL_JIFFIES offset). */
  jiffies(): number {
    return Math.floor(this.ns / TICK_NSEC);
  }
}
