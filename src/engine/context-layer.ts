import type { WorkflowContext } from './context.ts';

/** What a layer knows of the activation whose context it extends. */
export interface LayerActivation {
  /** `live`: a worker runs the run; `replay`: every call is answered from a journal and nothing is written. */
  readonly mode: 'live' | 'replay';
  /** When the run started (epoch ms). */
  readonly startedAt: number;
}

/**
 * One layer of the workflow context: the members it adds to the context of the layers below it
 * (`Below`), for one activation of a run. A layer may also wrap a member of a layer below (it reads
 * the member from `ctx` and returns its own); it never writes to `ctx`: the composition puts what
 * it returns on the context, in the order of the list (see {@link ContextLayers}).
 *
 * @example
 * const clockLayer: ContextLayer<WorkflowContext, { today(): string }> = {
 *   name: 'clock',
 *   extend: (ctx) => ({ today: () => ctx.now().toISOString().slice(0, 10) }),
 * };
 */
export interface ContextLayer<Below extends object, Adds extends object> {
  /** The layer's name, as the composition lists it. */
  readonly name: string;
  /** The members this layer gives the context of one activation. Getters stay getters. */
  extend(ctx: Below, activation: LayerActivation): Adds;
}

/** The context of the layers below with what a layer adds (a member it returns replaces theirs). */
export type Layered<Below, Adds> = Omit<Below, keyof Adds> & Adds;

/** A layer of the list; `extend` is a method, so a layer typed for a wider context is one too. */
type ErasedLayer = ContextLayer<object, object>;

/**
 * An ordered list of context layers, composed in one place: each layer sees the context the layers
 * before it made, typed. The worker's executor and replay apply the same list to a run's context
 * (fork's runs go through the worker).
 *
 * @example
 * const layers = ContextLayers.engine().with(clockLayer);
 * const ctx = layers.apply(runContext, { mode: 'live', startedAt: Date.now() });
 * ctx.today();
 */
export class ContextLayers<Context extends object> {
  readonly #layers: readonly ErasedLayer[];

  private constructor(layers: readonly ErasedLayer[]) {
    this.#layers = layers;
  }

  /** The empty list: the engine's own context. */
  static engine(): ContextLayers<WorkflowContext> {
    return new ContextLayers<WorkflowContext>([]);
  }

  /** This list with `layer` on top. */
  with<Adds extends object>(layer: ContextLayer<Context, Adds>): ContextLayers<Layered<Context, Adds>> {
    return new ContextLayers<Layered<Context, Adds>>([...this.#layers, layer]);
  }

  /** The layers' names, bottom first. */
  get names(): readonly string[] {
    return this.#layers.map((layer) => layer.name);
  }

  /**
   * Gives the engine's context of one activation every layer's members, bottom first, and returns
   * it typed as the whole list made it. The same object is returned, so the engine's own members
   * (and anything keyed on the context) stay as they are.
   */
  apply(ctx: WorkflowContext, activation: LayerActivation): Context {
    for (const layer of this.#layers) {
      const adds = layer.extend(ctx, activation);
      Object.defineProperties(ctx, configurable(Object.getOwnPropertyDescriptors(adds)));
    }
    // Every layer `with` typed against the context the ones before it make has now given its members.
    return ctx as Context;
  }
}

function configurable(descriptors: PropertyDescriptorMap): PropertyDescriptorMap {
  for (const descriptor of Object.values(descriptors)) descriptor.configurable = true;
  return descriptors;
}
