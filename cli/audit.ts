/** `tollgate audit …` (issue 3). */
import type { Command } from 'commander';
import type { CliContext } from './context';

export function registerAuditCommands(_program: Command, _context: CliContext): void {}
