// The public surface of 'baton/routing': capability routing (`ctx.route`), model selection, the
// semantic cache, long-term memory (`ctx.memory`), selective hydration, embedders and indexes.
export { routingLayer, type RoutingContext, type RoutingSetup } from './routing-context.ts';
export {
  capabilityOf,
  openRouting,
  type AgentCapabilityOptions,
  type RoutingOptions,
} from '../agents/agent-capabilities.ts';
export type { Embedder, CalibratedDefaults } from './embedder.ts';
export { EmbeddingDimensionError } from './embedder.ts';
export { embedderFromModel, type ModelEmbedderOptions } from './model-embedder.ts';
export { LexicalEmbedder, DocumentFrequencyTable, type LexicalEmbedderOptions } from './lexical-embedder.ts';
export { WordVectorEmbedder, type WordVectorEmbedderOptions } from './word-vector-embedder.ts';
export { WordVectorsError } from './word-vectors.ts';
export {
  CacheErrorBound,
  boundedThreshold,
  type CacheBound,
  type CacheVerdict,
  type CacheErrorBoundOptions,
} from './cache-error-bound.ts';
export type { VectorIndex, VectorHit, VectorSearchOptions } from './vector-index.ts';
export { HnswIndex, type HnswOptions } from './hnsw-index.ts';
export { ExactIndex } from './exact-index.ts';
export {
  CapabilityRegistry,
  type Capability,
  type CapabilityRegistryOptions,
  type RankOptions,
  type RankedCandidate,
  type Ranking,
} from './capability-registry.ts';
export type { CapabilityClassifierOptions } from './capability-classifier.ts';
export type { WordAligner, AlignedWords } from './word-alignment.ts';
export {
  routeByCapability,
  type CapabilityRouteOptions,
  type CapabilityRouteDecision,
  type RouteOptions,
  type RouteDecision,
} from './route-by-capability.ts';
export {
  callSelectedModel,
  selectModel,
  type ModelStrategy,
  type Verifier,
  type Verdict,
  type SelectedModelCallOptions,
  type SelectedModelCallResult,
  routeModel,
  type RoutedCallOptions,
  type RoutedCallResult,
} from './model-selection.ts';
export { judgeVerifier, type JudgeVerifierOptions } from './judge-verifier.ts';
export { estimateDifficulty } from './difficulty.ts';
export type { ModelChoice, ModelPrice } from './model-price.ts';

export {
  SemanticCache,
  cachedModelCall,
  type CacheScope,
  type CacheRequest,
  type CacheLookup,
  type SemanticCacheOptions,
  type CachedCallOptions,
  type CachedCallResult,
} from './semantic-cache.ts';
export {
  LongTermMemory,
  type LongTermMemoryOptions,
  type MemoryApi,
  type RememberOptions,
  type RecallOptions,
  type RecalledMemory,
} from './memory.ts';
export {
  buildContext,
  type BuildContextOptions,
  type BuiltContext,
  type HistoryMessage,
} from './context-builder.ts';
export { estimateTokens, requestText, type TokenCounter } from './request-text.ts';
export { EmptyRegistryError, VectorRecordsUnavailableError } from './routing-errors.ts';
