import { InvalidArgumentError, UnknownWorkflowError } from '../../errors.ts';
import { formatGraph } from '../../patterns/graph-format.ts';
import { graphOf } from '../../patterns/graph.ts';
import { defineCommand } from '../command.ts';

export const graph = defineCommand({
  name: 'graph',
  summary: "Print a graph workflow's DAG: its parallel levels and edges",
  args: [
    {
      name: 'workflow',
      required: true,
      description: 'A workflow made with graphWorkflow(graph), named in baton.config.ts',
    },
  ],
  details: [
    'Nodes on one level can run at once: each node sits one level below its deepest dependency. A node',
    'marked ? runs only when its condition holds; an edge drawn --> does not skip its dependent when the',
    'dependency is skipped. --json prints { name, nodes, edges, levels }.',
    '',
    'Example:',
    '  baton graph research --json',
  ].join('\n'),
  async run(context) {
    const { args, out, json } = context;
    const { config } = await context.loadConfig({ required: true });
    const workflows = config?.workflows ?? [];
    const name = args.workflow!;
    const definition = workflows.find((candidate) => candidate.name === name);
    if (!definition)
      throw new UnknownWorkflowError({ name, known: workflows.map((candidate) => candidate.name) });
    const found = graphOf(definition);
    if (!found) {
      const graphs = workflows.filter((candidate) => graphOf(candidate)).map((candidate) => candidate.name);
      throw new InvalidArgumentError(
        `Workflow '${name}' is not a graph workflow (made with graphWorkflow(graph)), so it has no DAG to print.` +
          (graphs.length > 0 ? ` Graph workflows: ${graphs.join(', ')}.` : ''),
      );
    }
    const description = found.describe();
    if (json) out.json(description);
    else out.line(formatGraph(description));
  },
});
