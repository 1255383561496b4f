/** The tests' TLB lives in src/ since the conformance suite uses it too. */
export { SimpleTlb } from '../src/simple-tlb.js';
