import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commands } from './index.ts';

describe('the command list', () => {
  it('says what each command module says: its name, arguments and summary', async () => {
    for (const entry of commands) {
      const command = await entry.load();
      const args = (command.args ?? []).map((arg) => (arg.required ? `<${arg.name}>` : `[${arg.name}]`));
      expect({ name: entry.name, args: entry.args, summary: entry.summary }).toEqual({
        name: command.name,
        args: args.join(' '),
        summary: command.summary,
      });
    }
  });

  it('lists every module of src/cli/commands once', async () => {
    const files = readdirSync(fileURLToPath(new URL('.', import.meta.url))).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'index.ts',
    );
    const loaded = await Promise.all(commands.map((entry) => entry.load()));
    expect(new Set(loaded).size).toBe(commands.length);
    expect(new Set(commands.map((entry) => entry.name)).size).toBe(commands.length);
    expect(commands).toHaveLength(files.length);
  });
});
