// The kernel record and its presets now live in model/kernel.ts; this module keeps the old import
// path working (KernelConfig, X86_64, STRICT_ALIGN_64, ARCHES, DEFAULT_CONFIG, LoadHelperVersion).
export * from './kernel.js';
