// The public surface of 'baton/testing': deterministic stand-ins for what is outside a workflow.
export {
  scriptedModel,
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedReply,
  type ScriptedRequest,
  type ScriptedTurn,
} from './scripted-model.ts';
export {
  startOpenAICompatibleServer,
  type OpenAICompatibleServer,
  type ReceivedRequest,
  type SentResponse,
  type ServerReply,
  type ServerScript,
} from './openai-compatible-server.ts';
export { replayHistories, type GoldenHistoriesReport, type GoldenHistoryResult } from './replay-histories.ts';
export { storeConformance, type ConformanceTestApi } from './store-conformance.ts';
