import type { Command } from '../help.ts';
import { run } from './run.ts';

export const COMMANDS: readonly Command[] = [run];
