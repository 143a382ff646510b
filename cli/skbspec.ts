// The skb fields of the command line: the JSON form lives in fuzz/skbjson.ts (shared with the corpus).
export { buildSkb, parseIntLiteral, parseSetting, SKB_FIELDS, SkbSpecError, skbToJson } from '../fuzz/skbjson.js';
