/** Change gate workflows (issue 3). */
export {};
