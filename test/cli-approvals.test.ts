import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from './support/cli-project.ts';

const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(source)};

const payout = workflow('payout', async (ctx, input: { cents: number }) => {
  const decision = await ctx.approval({ action: 'payout', summary: 'Pay out ' + input.cents + ' cents', approvers: ['group:finance'] });
  return { paid: decision.approved, by: decision.by };
});

export default defineConfig({
  store: 'sqlite:./cli.db',
  workflows: [payout],
  guard: { approvals: { groups: { finance: ['user:fiona', 'user:frank'] } } },
});
`;

const { cli } = cliProject('baton-cli-approvals-', { 'baton.config.ts': CONFIG });

describe('baton approvals, approve, deny, pause, resume', () => {
  it('lists, decides and refuses bad decisions; pauses and resumes', async () => {
    const started = await cli([
      'start',
      'payout',
      '--input',
      '{"cents":10000}',
      '--as',
      'user:alice',
      '--json',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const { runId, status } = JSON.parse(started.stdout) as { runId: string; status: string };
    expect(status).toBe('waiting');

    const inbox = await cli(['approvals']);
    expect(inbox.stdout).toContain('approval-1');
    expect(inbox.stdout).toContain('group:finance');
    expect(inbox.stdout).toContain('Pay out 10000 cents');
    const mine = await cli(['approvals', '--mine', '--as', 'user:fiona', '--json']);
    expect(
      (JSON.parse(mine.stdout) as { approvals: { approvalId: string; members: string[] }[] }).approvals,
    ).toMatchObject([{ approvalId: 'approval-1', members: ['user:fiona', 'user:frank'] }]);
    expect((await cli(['approvals', '--mine', '--as', 'user:bob'])).stdout).toBe(
      'Nothing waits for user:bob.\n',
    );
    const noWho = await cli(['approvals', '--mine']);
    expect(noWho.code).toBe(1);
    expect(noWho.stderr).toContain("'mine' needs to know who you are");

    const anonymous = await cli(['approve', runId, 'approval-1']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('Say who decides');
    const outsider = await cli(['approve', runId, 'approval-1', '--as', 'user:bob']);
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toContain('only group:finance (user:fiona, user:frank) may decide it now');
    const badArgs = await cli(['approve', runId, 'approval-1', '--as', 'user:fiona', '--args', '{oops']);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toContain('--args is not valid JSON');

    const approved = await cli([
      'approve',
      runId.slice(0, 20),
      'approval-1',
      '--as',
      'user:fiona',
      '--comment',
      'budgeted',
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(
      `Approved approval-1 of run ${runId} as user:fiona; a worker resumes the run.\n`,
    );
    const again = await cli(['deny', runId, 'approval-1', '--as', 'user:frank']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already approved (the run has yet to take the decision) by user:fiona');
    expect((await cli(['approvals'])).stdout).toBe('No approvals are pending.\n');

    const paused = JSON.parse((await cli(['pause', runId, '--json'])).stdout) as {
      paused: boolean;
      status: string;
    };
    expect(paused).toEqual({ runId, status: 'pending', paused: true });
    const resumed = JSON.parse((await cli(['resume', runId, '--json'])).stdout) as { paused: boolean };
    expect(resumed).toEqual({ runId, status: 'pending', paused: false });
  });
});
