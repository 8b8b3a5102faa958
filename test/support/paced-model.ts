import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider';

/**
 * A model that streams `tokens` as text deltas, awaiting `pace(index)` before each: a test holds
 * an answer mid-stream (or forever) by what `pace` returns. Every call answers the same tokens.
 */
export function pacedModel(
  tokens: readonly string[],
  pace: (index: number) => Promise<void> = async () => {},
): LanguageModelV4 {
  return {
    specificationVersion: 'v4',
    provider: 'paced',
    modelId: 'paced-1',
    supportedUrls: {},
    async doGenerate() {
      throw new Error('the paced model only streams');
    },
    async doStream(options) {
      const signal = options.abortSignal;
      let index = 0;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        start(controller) {
          controller.enqueue({ type: 'stream-start', warnings: [] });
          controller.enqueue({ type: 'text-start', id: 't' });
        },
        async pull(controller) {
          if (signal?.aborted) return controller.error(signal.reason);
          if (index < tokens.length) {
            await pace(index);
            controller.enqueue({ type: 'text-delta', id: 't', delta: tokens[index++]! });
            return;
          }
          controller.enqueue({ type: 'text-end', id: 't' });
          controller.enqueue({
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: {
              inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
              outputTokens: { total: tokens.length, text: tokens.length, reasoning: undefined },
            },
          });
          controller.close();
        },
      });
      return { stream };
    },
  };
}
