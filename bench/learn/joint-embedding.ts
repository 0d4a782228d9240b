import type { LearnEntry } from './entry.js';

/** Joint-embedding methods of the learning benchmark (issue 6). */
export const JOINT_EMBEDDING_ENTRIES: LearnEntry[] = [];
