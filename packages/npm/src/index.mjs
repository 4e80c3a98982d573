// @yibao/engine for ES modules: the same functions as the CommonJS entry (index.cjs), which loads
// the WebAssembly module once for both.
import yibao from './index.cjs';

export const { estimate, estimateBatch, policies, params, check, Year, Engine, YibaoError } = yibao;
export default yibao;
