export * from './api.js';
export {
  createEvent,
  createParseStats,
  forEachEvent,
  type ParseTraceOptions,
  parseLine,
  parseTrace,
  parseTraceBatches,
  parseTraceText,
  type TraceChunks,
} from './ftrace.js';
export { formatRep, parseRep } from './rep.js';
export { Replay, replay, replayTrace, samplesToCsv } from './replay.js';
export { type RepReplayOptions, replayRep } from './replay-rep.js';
export {
  detectCompression,
  type OpenTraceOptions,
  openTraceStream,
  readTraceText,
  type TraceCompression,
} from './stream.js';
