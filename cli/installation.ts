/** `tollgate installation …` (issue 4). */
import type { Command } from 'commander';
import type { CliContext } from './context';

export function registerInstallationCommands(_program: Command, _context: CliContext): void {}
