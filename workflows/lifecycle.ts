/** Lifecycle workflows (issue 4). */
export {};
