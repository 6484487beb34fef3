// Hugging Face tensor names (transformers' LlamaForCausalLM / BitNetForCausalLM state dicts) and the
// canonical names of compiler/lm/model.ts they become. BitNet adds the two sub-norms
// (modular_bitnet.py: BitNetAttention.attn_sub_norm, BitNetMLP.ffn_sub_norm) and, for packed
// checkpoints, a `<projection>.weight_scale` beside each projection's `.weight`.
//
// MoTEForCausalLM (tritc's MoE layout, docs/formats.md "MoTE"; Qwen2-MoE's MLP names): the FFN is
// `mlp.shared_expert.{gate,up,down}_proj` (the shared expert), the router `mlp.gate`, routed expert e
// `mlp.experts.<e>.{gate,up,down}_proj`.

type HfRole = 'embedding' | 'norm' | 'linear' | 'head' | 'router' | 'expert';

export interface HfName {
  hf: string;
  canonical: string;
  role: HfRole;
  /**
   * For linear weights: the axis a Megatron model-parallel shard splits (TriLM, seed-methods 6.1).
   * Column-parallel projections (q, k, v, gate, up) split output rows, 'N'; row-parallel ones (o, down)
   * split input columns, 'K'. Only the order in which the TriLM reader tries the two axes.
   */
  shardAxis?: 'N' | 'K';
}

const LAYER: readonly [string, string, HfRole, ('N' | 'K')?][] = [
  ['input_layernorm.weight', 'attn_norm', 'norm'],
  ['self_attn.q_proj.weight', 'attn_q', 'linear', 'N'],
  ['self_attn.k_proj.weight', 'attn_k', 'linear', 'N'],
  ['self_attn.v_proj.weight', 'attn_v', 'linear', 'N'],
  ['self_attn.o_proj.weight', 'attn_output', 'linear', 'K'],
  ['post_attention_layernorm.weight', 'ffn_norm', 'norm'],
  ['mlp.gate_proj.weight', 'ffn_gate', 'linear', 'N'],
  ['mlp.up_proj.weight', 'ffn_up', 'linear', 'N'],
  ['mlp.down_proj.weight', 'ffn_down', 'linear', 'K'],
];

const SUB_NORMS: readonly [string, string][] = [
  ['self_attn.attn_sub_norm.weight', 'attn_sub_norm'],
  ['mlp.ffn_sub_norm.weight', 'ffn_sub_norm'],
];

/** Every tensor a model with `nLayers` layers may hold, in file-independent order. */
export function hfNames(nLayers: number, subNorms: boolean, experts = 0): HfName[] {
  const out: HfName[] = [{ hf: 'model.embed_tokens.weight', canonical: 'token_embd', role: 'embedding' }];
  for (let i = 0; i < nLayers; i++) {
    for (const [suffix, canonical, role, shardAxis] of LAYER) {
      const hf = experts > 0 ? suffix.replace(/^mlp\./, 'mlp.shared_expert.') : suffix;
      out.push({ hf: `model.layers.${i}.${hf}`, canonical: `blk.${i}.${canonical}`, role, ...(shardAxis ? { shardAxis } : {}) });
    }
    if (experts > 0) out.push({ hf: `model.layers.${i}.mlp.gate.weight`, canonical: `blk.${i}.ffn_gate_inp`, role: 'router' });
    for (let e = 0; e < experts; e++)
      for (const p of ['gate', 'up', 'down'])
        out.push({ hf: `model.layers.${i}.mlp.experts.${e}.${p}_proj.weight`, canonical: `blk.${i}.ffn_${p}_exps.${e}`, role: 'expert' });
    if (subNorms)
      for (const [suffix, canonical] of SUB_NORMS) out.push({ hf: `model.layers.${i}.${suffix}`, canonical: `blk.${i}.${canonical}`, role: 'norm' });
  }
  out.push({ hf: 'model.norm.weight', canonical: 'output_norm', role: 'norm' });
  out.push({ hf: 'lm_head.weight', canonical: 'output', role: 'head' });
  return out;
}

/** The packed BitNet scale that goes with a projection weight: `...q_proj.weight` -> `...q_proj.weight_scale`. */
export function weightScaleName(hfWeight: string): string {
  return `${hfWeight}_scale`;
}

/** Tensors transformers itself ignores on load (old Llama checkpoints saved RoPE's inverse frequencies). */
export function isIgnorable(hf: string): boolean {
  return /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(hf);
}
