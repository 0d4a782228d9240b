import type { LearnEntry } from './entry.js';

/** Generative and classic discriminative pretext tasks of the learning benchmark (issue 7). */
export const PRETEXT_TASK_ENTRIES: LearnEntry[] = [];
