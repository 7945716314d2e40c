/** `tollgate change …` (issue 3). */
import type { Command } from 'commander';
import type { CliContext } from './context';

export function registerChangeCommands(_program: Command, _context: CliContext): void {}
