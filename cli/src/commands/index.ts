import type { Command } from '../help.ts';
import { backfillCommand } from './backfill.ts';
import { config } from './config.ts';
import { dlq } from './dlq.ts';
import { run } from './run.ts';
import { scan } from './scan.ts';
import { seed } from './seed.ts';
import { standins } from './standins.ts';
import { status } from './status.ts';

export const COMMANDS: readonly Command[] = [run, scan, status, dlq, backfillCommand, config, seed, standins];
