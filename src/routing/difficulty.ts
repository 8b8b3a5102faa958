import { estimateTokens } from './request-text.ts';

const REASONING =
  /\b(why|prove|proof|derive|explain|analy[sz]e|compare|design|architect|optimi[sz]e|debug|trade-?offs?|plan|step[- ]by[- ]step|evaluate|critique|refactor|diagnose|estimate)\b/gi;
const CODE = /```|\b(function|class|def|SELECT|return|const|import)\b|[{};]\s*$/m;
const MATH = /\d\s*[-+*/^=<>]\s*\d|\b(integral|derivative|equation|probability|theorem|matrix)\b/i;

/**
 * A heuristic difficulty estimate in [0, 1] from the text of a request — its length, words that
 * ask for reasoning (why, prove, compare, design, debug…), code, mathematics, and how many
 * questions or list items it holds. It is a cheap guess, not a measure of what a model finds hard:
 * tune the tiers against your own traffic, or pass your own estimate (a classifier, a small model).
 *
 * @example estimateDifficulty('What is the capital of France?') // ≈ 0.02
 */
export function estimateDifficulty(text: string): number {
  const tokens = estimateTokens(text);
  const length = Math.min(1, Math.log10(1 + tokens) / Math.log10(2001)) * 0.35;
  const reasoning = Math.min(3, (text.match(REASONING) ?? []).length) * 0.1;
  const code = CODE.test(text) ? 0.15 : 0;
  const math = MATH.test(text) ? 0.1 : 0;
  const parts = (text.match(/\?/g) ?? []).length + (text.match(/^\s*(\d+[.)]|[-*•])\s+/gm) ?? []).length;
  const breadth = Math.min(0.1, Math.max(0, parts - 1) * 0.025);
  return Math.round(Math.min(1, length + reasoning + code + math + breadth) * 1000) / 1000;
}
