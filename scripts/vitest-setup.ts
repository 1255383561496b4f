/**
 * Every package's tests load this first (vitest setupFiles).
 *
 * fast-check 4 generates arrays of at most ~10 elements unless told otherwise, even when a
 * test asks for `maxLength: 300`: the random operation sequences of the allocators' property
 * tests would be a handful of steps long. With this, an explicit maxLength is the length
 * fast-check aims for, as the tests mean it.
 */
import fc from 'fast-check';

fc.configureGlobal({ defaultSizeToMaxWhenMaxSpecified: true });
