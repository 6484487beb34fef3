// Hugging Face tensor names (transformers' LlamaForCausalLM / BitNetForCausalLM state dicts) and the
// canonical names of compiler/lm/model.ts they become. BitNet adds the two sub-norms
// (modular_bitnet.py: BitNetAttention.attn_sub_norm, BitNetMLP.ffn_sub_norm) and, for packed
// checkpoints, a `<projection>.weight_scale` beside each projection's `.weight`.

type HfRole = 'embedding' | 'norm' | 'linear' | 'head';

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
export function hfNames(nLayers: number, subNorms: boolean): HfName[] {
  const out: HfName[] = [{ hf: 'model.embed_tokens.weight', canonical: 'token_embd', role: 'embedding' }];
  for (let i = 0; i < nLayers; i++) {
    for (const [suffix, canonical, role, shardAxis] of LAYER) {
      out.push({ hf: `model.layers.${i}.${suffix}`, canonical: `blk.${i}.${canonical}`, role, ...(shardAxis ? { shardAxis } : {}) });
    }
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
