// Generated from edge_moe.yaml (config digest 778cf8013e54b9ee) by scripts/generate.py.
// Do not edit: change the YAML and run `make generate`.

#pragma once

#include <ap_fixed.h>
#include <ap_int.h>

// Configuration: edge_moe

// ---- shared constants (same names and values in model_pkg.sv)
constexpr int IMAGE_CHANNELS = 3;
constexpr int IMAGE_HEIGHT = 128;
constexpr int IMAGE_WIDTH = 256;
constexpr int PATCH_SIZE = 16;
constexpr int NUM_PATCHES = 128;
constexpr int NUM_TOKENS = 129;
constexpr int FEATURE_DIM = 192;
constexpr int NUM_HEADS = 3;
constexpr int HEAD_DIM = 64;
constexpr int NUM_LAYERS = 12;
constexpr int MLP_HIDDEN_DIM = 768;
constexpr int NUM_EXPERTS = 16;
constexpr int TOP_K = 2;
constexpr int EXPERT_HIDDEN_DIM = 384;
constexpr int NUM_TASKS = 2;
constexpr int PATCH_IN_DIM = 768;
constexpr int AXI_WIDTH = 256;
constexpr int LINEAR_IN = 32;
constexpr int LINEAR_OUT = 32;
constexpr int ATTN_PARALLEL = 4;
constexpr int ACT_W = 32;
constexpr int ACT_I = 10;
constexpr int ACT_SIGNED = 1;
constexpr int ACT_QUANT = 0;
constexpr int ACT_OVERFLOW = 0;
constexpr int WEIGHT_W = 16;
constexpr int WEIGHT_I = 2;
constexpr int WEIGHT_SIGNED = 1;
constexpr int WEIGHT_QUANT = 2;
constexpr int WEIGHT_OVERFLOW = 0;
constexpr int GATE_WEIGHT_W = 16;
constexpr int GATE_WEIGHT_I = 2;
constexpr int GATE_WEIGHT_SIGNED = 1;
constexpr int GATE_WEIGHT_QUANT = 2;
constexpr int GATE_WEIGHT_OVERFLOW = 0;
constexpr int ATTN_BIAS_W = 16;
constexpr int ATTN_BIAS_I = 7;
constexpr int ATTN_BIAS_SIGNED = 1;
constexpr int ATTN_BIAS_QUANT = 2;
constexpr int ATTN_BIAS_OVERFLOW = 0;
constexpr int BIAS_W = 16;
constexpr int BIAS_I = 5;
constexpr int BIAS_SIGNED = 1;
constexpr int BIAS_QUANT = 2;
constexpr int BIAS_OVERFLOW = 0;
constexpr int NORM_PARAM_W = 16;
constexpr int NORM_PARAM_I = 5;
constexpr int NORM_PARAM_SIGNED = 1;
constexpr int NORM_PARAM_QUANT = 2;
constexpr int NORM_PARAM_OVERFLOW = 0;
constexpr int PATCH_WEIGHT_W = 16;
constexpr int PATCH_WEIGHT_I = 0;
constexpr int PATCH_WEIGHT_SIGNED = 1;
constexpr int PATCH_WEIGHT_QUANT = 2;
constexpr int PATCH_WEIGHT_OVERFLOW = 0;
constexpr int PIXEL_W = 8;
constexpr int PIXEL_I = 0;
constexpr int PIXEL_SIGNED = 0;
constexpr int PIXEL_QUANT = 0;
constexpr int PIXEL_OVERFLOW = 0;
constexpr int OPERAND_W = 27;
constexpr int OPERAND_I = 9;
constexpr int OPERAND_SIGNED = 1;
constexpr int OPERAND_QUANT = 2;
constexpr int OPERAND_OVERFLOW = 3;
constexpr int SCORE_W = 32;
constexpr int SCORE_I = 10;
constexpr int SCORE_SIGNED = 1;
constexpr int SCORE_QUANT = 2;
constexpr int SCORE_OVERFLOW = 1;
constexpr int GELU_TABLE_W = 22;
constexpr int GELU_TABLE_I = 0;
constexpr int GELU_TABLE_SIGNED = 0;
constexpr int GELU_TABLE_QUANT = 0;
constexpr int GELU_TABLE_OVERFLOW = 0;
constexpr int GELU_METHOD = 0;
constexpr int GELU_LANES = 8;
constexpr int GELU_STEP_LOG2 = 5;
constexpr int GELU_ENTRIES = 177;
constexpr int GELU_RANGE_STEPS = 176;
constexpr int EXP_OUT_FRAC = 24;
constexpr int EXP_LOG2E_FRAC = 31;
constexpr long long EXP_LOG2E_RAW = 3098164009LL;
constexpr int EXP_T_FRAC = 24;
constexpr int EXP_TABLE_BITS = 7;
constexpr int EXP_TABLE_FRAC = 28;
constexpr int EXP_R_BITS = 17;
constexpr int EXP_POLY_FRAC = 28;
constexpr int EXP_C1_RAW = 186065279;
constexpr int EXP_C2_RAW = 64485312;
constexpr int EXP_INPUT_LIMIT_LOG2 = 5;
constexpr int EXP_N_ZERO = 26;
constexpr int EXP_MAX_FRAC_IN = 25;
constexpr int RECIP_SOFTMAX_WI = 32;
constexpr int RECIP_SOFTMAX_K = 56;
constexpr int RECIP_SOFTMAX_WO = 32;
constexpr int RECIP_MAX_K = 62;
constexpr int SOFTMAX_MAX_ROW = 255;
constexpr int SOFTMAX_ROW_BITS = 8;
constexpr int SOFTMAX_LANES = 4;
constexpr int SOFTMAX_RECIPROCALS = 10;
constexpr int SOFTMAX_RECIP_INTERVAL = 59;
constexpr int SOFTMAX_ROWS_IN_FLIGHT = 32;
constexpr int LAYERNORM_DIM = 192;
constexpr int LAYERNORM_LANES = 32;
constexpr long long LAYERNORM_EPS_V = 648518346341LL;
constexpr int LAYERNORM_V_BITS = 60;
constexpr int LAYERNORM_SIGMA_BITS = 30;
constexpr int LAYERNORM_RECIP_FRAC = 59;
constexpr int LAYERNORM_RECIP_WIDTH = 31;
constexpr int LAYERNORM_RECIP_K = 60;
constexpr int LAYERNORM_A_EXTRA = 4;
constexpr int LAYERNORM_Z_FRAC = 24;
constexpr int LAYERNORM_MAX_DIM = 256;
constexpr int LINEAR_W_W = 18;
constexpr int LINEAR_W_I = 2;
constexpr int LINEAR_MAX_IN = 768;
constexpr int LINEAR_MAX_OUT = 768;
constexpr int LINEAR_MAX_ROWS = 129;
constexpr int LINEAR_W_PER_WORD = 16;
constexpr int LINEAR_B_PER_WORD = 16;
constexpr int LINEAR_A_PER_WORD = 8;
constexpr int LINEAR_P_PER_WORD = 32;
constexpr int LINEAR_W_WORDS = 9216;
constexpr int LINEAR_B_WORDS = 48;
constexpr int LINEAR_X_WORDS = 12384;
constexpr int LINEAR_Y_WORDS = 12384;
constexpr int LINEAR_IMAGE_WORDS = 3072;
constexpr int LINEAR_POS_WORDS = 3096;
constexpr int LINEAR_W_BITS = 1024;
constexpr int LINEAR_W_ROWS = 2;
constexpr int LINEAR_WEIGHT_FIFO_DEPTH = 15360;
constexpr int ATTENTION_HEAD_SHIFT = 3;
constexpr int ATTENTION_MAX_TOKENS = 129;
constexpr int ATTENTION_KV_SPLIT = 0;
constexpr int ATTENTION_Q_W = 26;
constexpr int ATTENTION_Q_I = 8;
constexpr int ATTENTION_Q_QUANT = 2;
constexpr int ATTENTION_Q_OVERFLOW = 3;
constexpr int ATTENTION_KV_W = 18;
constexpr int ATTENTION_KV_I = 7;
constexpr int ATTENTION_KV_QUANT = 2;
constexpr int ATTENTION_KV_OVERFLOW = 3;
constexpr int MOE_TOKEN_CYCLES = 6;
constexpr int MOE_DESC_WORDS = 550;
constexpr int MOE_KIND_GATE = 1;
constexpr int MOE_KIND_LOAD = 2;
constexpr int MOE_KIND_CALL = 3;
constexpr int MOE_KIND_ROW = 4;
constexpr int MOE_MODE_STORE = 0;
constexpr int MOE_MODE_SCALED = 2;
constexpr int MOE_H_KIND_LSB = 60;
constexpr int MOE_H_KIND_W = 4;
constexpr int MOE_H_STEP_LSB = 52;
constexpr int MOE_H_STEP_W = 8;
constexpr int MOE_H_EXPERT_LSB = 44;
constexpr int MOE_H_EXPERT_W = 8;
constexpr int MOE_H_LAYER_LSB = 42;
constexpr int MOE_H_LAYER_W = 2;
constexpr int MOE_H_BUFFER_LSB = 41;
constexpr int MOE_H_BUFFER_W = 1;
constexpr int MOE_H_GELU_LSB = 40;
constexpr int MOE_H_GELU_W = 1;
constexpr int MOE_H_MODE_LSB = 38;
constexpr int MOE_H_MODE_W = 2;
constexpr int MOE_H_ROWS_LSB = 30;
constexpr int MOE_H_ROWS_W = 8;
constexpr int MOE_H_PF_VALID_LSB = 29;
constexpr int MOE_H_PF_VALID_W = 1;
constexpr int MOE_H_PF_EXPERT_LSB = 21;
constexpr int MOE_H_PF_EXPERT_W = 8;
constexpr int MOE_H_PF_LAYER_LSB = 19;
constexpr int MOE_H_PF_LAYER_W = 2;
constexpr int MOE_H_LAST_LSB = 18;
constexpr int MOE_H_LAST_W = 1;
constexpr int MOE_H_TASK_LSB = 0;
constexpr int MOE_H_TASK_W = 8;
constexpr int MOE_R_KIND_LSB = 60;
constexpr int MOE_R_KIND_W = 4;
constexpr int MOE_R_K_LSB = 44;
constexpr int MOE_R_K_W = 8;
constexpr int MOE_R_TOKEN_LSB = 36;
constexpr int MOE_R_TOKEN_W = 8;
constexpr int MOE_R_SCORE_LSB = 0;
constexpr int MOE_R_SCORE_W = 32;

// ---- fixed-point formats
typedef ap_fixed<32,10,AP_TRN,AP_WRAP> act_t;  // activations between kernels (and the accumulators of every linear layer)
typedef ap_fixed<16,2,AP_RND,AP_WRAP> weight_t;  // linear-layer weights (QKV, projection, MLP fc1/fc2, experts)
typedef ap_fixed<16,2,AP_RND,AP_WRAP> gate_weight_t;  // MoE gate weights (one matrix per task)
typedef ap_fixed<16,7,AP_RND,AP_WRAP> attn_bias_t;  // attention biases (QKV and projection)
typedef ap_fixed<16,5,AP_RND,AP_WRAP> bias_t;  // other biases (MLP, experts, patch embedding)
typedef ap_fixed<16,5,AP_RND,AP_WRAP> norm_param_t;  // LayerNorm gamma and beta
typedef ap_fixed<16,0,AP_RND,AP_WRAP> patch_weight_t;  // patch-embedding convolution weights
typedef ap_ufixed<8,0,AP_TRN,AP_WRAP> pixel_t;  // input pixels
typedef ap_fixed<27,9,AP_RND,AP_SAT_SYM> operand_t;  // activation operand of the MAC array (the 27-bit A port of a DSP48E2), converted from act once
typedef ap_fixed<32,10,AP_RND,AP_SAT> score_t;  // attention scores q.k / sqrt(head_dim), rounded once from the exact dot product

// ---- GELU(x) = ReLU(x) - delta(|x|), delta tabulated and interpolated (python_ref/kernels/gelu.py)
struct gelu_config {
    typedef ap_fixed<32,10,AP_TRN,AP_WRAP> data_t;  // activations
    typedef ap_ufixed<22,0,AP_TRN,AP_WRAP> table_t;  // delta table entries
    static const int method = GELU_METHOD;  // 0 edge_moe, 1 minimax
    static const int lanes = GELU_LANES;  // values per stream beat
    static const int step_log2 = GELU_STEP_LOG2;  // table step 2^-step_log2
    static const int entries = GELU_ENTRIES;  // table entries
    static const int range_steps = GELU_RANGE_STEPS;  // table_range / step: |x| beyond gives ReLU
};

// ---- exp unit for x <= 0 (python_ref/kernels/exp.py)
struct exp_config {
    typedef ap_ufixed<25,1,AP_TRN,AP_WRAP> out_t;  // exp(x) in [0, 1], 24 fraction bits
    typedef ap_fixed<33,11,AP_TRN,AP_WRAP> in_t;  // the exact difference of two activations
    static const int out_frac = EXP_OUT_FRAC;  // fraction bits of the result ap_ufixed<25,1>
    static const int log2e_frac = EXP_LOG2E_FRAC;  // fraction bits of LOG2E_RAW
    static const long long log2e_raw = EXP_LOG2E_RAW;  // round(log2(e) * 2^31)
    static const int t_frac = EXP_T_FRAC;  // fraction bits of t = u * log2(e)
    static const int table_bits = EXP_TABLE_BITS;  // 2^(-j/128): j has 7 bits
    static const int table_frac = EXP_TABLE_FRAC;  // fraction bits of the table entries
    static const int r_bits = EXP_R_BITS;  // bits of the remainder r below the table index
    static const int poly_frac = EXP_POLY_FRAC;  // fraction bits of the Horner polynomial
    static const int c1_raw = EXP_C1_RAW;  // round(ln2 * 2^28)
    static const int c2_raw = EXP_C2_RAW;  // round(ln2^2 / 2 * 2^28)
    static const int input_limit_log2 = EXP_INPUT_LIMIT_LOG2;  // x <= -2^5 gives 0
    static const int n_zero = EXP_N_ZERO;  // 2^-t with t >= 26 rounds to 0
    static const int max_frac_in = EXP_MAX_FRAC_IN;  // most input fraction bits (u * log2(e) fits 62 bits)
};

// ---- reciprocal unit, softmax instance 1/s (python_ref/kernels/reciprocal.py)
struct reciprocal_config {
    typedef ap_ufixed<32,8,AP_TRN,AP_WRAP> sum_t;  // softmax sum s in [1, 255]
    typedef ap_ufixed<32,1,AP_TRN,AP_WRAP> recip_t;  // 1/s in (1/256, 1]
    static const int softmax_wi = RECIP_SOFTMAX_WI;  // input bits (ap_ufixed<32,8> sum)
    static const int softmax_k = RECIP_SOFTMAX_K;  // divide 2^K
    static const int softmax_wo = RECIP_SOFTMAX_WO;  // output bits (ap_ufixed<32,1>)
    static const int max_k = RECIP_MAX_K;  // largest K (2^K fits int64)
};

// ---- two-pass softmax (python_ref/kernels/softmax.py)
struct softmax_config {
    typedef ap_fixed<32,10,AP_TRN,AP_WRAP> score_t;  // scores / logits
    typedef ap_ufixed<32,8,AP_TRN,AP_WRAP> sum_t;  // row sum s (exact sum of exp values)
    typedef ap_ufixed<32,1,AP_TRN,AP_WRAP> recip_t;  // 1/s
    typedef ap_ufixed<25,1,AP_TRN,AP_WRAP> exp_t;  // exp(x - m)
    typedef ap_ufixed<25,1,AP_TRN,AP_WRAP> prob_t;  // probabilities p = round(e * r)
    static const int max_row = SOFTMAX_MAX_ROW;  // longest row: the sum format holds s <= 255
    static const int row_bits = SOFTMAX_ROW_BITS;  // row-length argument bits: cannot exceed max_row
    static const int lanes = SOFTMAX_LANES;  // RTL lanes (scores per beat, exp units): keep pace with the gate call
    static const int reciprocals = SOFTMAX_RECIPROCALS;  // RTL bit-serial reciprocal units
    static const int recip_interval = SOFTMAX_RECIP_INTERVAL;  // cycles per division of one bit-serial reciprocal
    static const int rows_in_flight = SOFTMAX_ROWS_IN_FLIGHT;  // RTL rows in flight (row FIFO depth)
};

// ---- LayerNorm with exact integer statistics (python_ref/kernels/layernorm.py)
struct layernorm_config {
    typedef ap_fixed<32,10,AP_TRN,AP_WRAP> data_t;  // x and y
    typedef ap_fixed<16,5,AP_RND,AP_WRAP> param_t;  // gamma and beta
    static const int dim = LAYERNORM_DIM;  // features per row
    static const int lanes = LAYERNORM_LANES;  // features per stream beat (hardware.layernorm.lanes)
    static const long long eps_v = LAYERNORM_EPS_V;  // round(eps * D^2 * 2^(2F)), eps = 1e-06
    static const int v_bits = LAYERNORM_V_BITS;  // normalised v_n in [2^58, 2^60)
    static const int sigma_bits = LAYERNORM_SIGMA_BITS;  // isqrt(v_n) in [2^29, 2^30)
    static const int recip_frac = LAYERNORM_RECIP_FRAC;  // r = round(2^59 / sigma)
    static const int recip_width = LAYERNORM_RECIP_WIDTH;  // bits of r
    static const int recip_k = LAYERNORM_RECIP_K;  // the reciprocal unit's K (divides 2^60)
    static const int a_extra = LAYERNORM_A_EXTRA;  // log2 sqrt(max dim): a = c / 2^(k + 4)
    static const int z_frac = LAYERNORM_Z_FRAC;  // fraction bits of z = (x - mean) / sigma
    static const int max_dim = LAYERNORM_MAX_DIM;  // largest dim
};

// ---- the unified compute unit (python_ref/kernels/linear.py)
struct linear_config {
    typedef ap_fixed<18,2,AP_TRN,AP_WRAP> w_t;  // weight operand of the MAC array
    typedef ap_fixed<54,20,AP_TRN,AP_WRAP> acc_t;  // exact sum of one output (numerics.linear_sum: exact)
    static const int w_w = LINEAR_W_W;  // weight operand bits (weight and patch_weight exactly)
    static const int w_i = LINEAR_W_I;  // weight operand integer bits
    static const int max_in = LINEAR_MAX_IN;  // largest in_dim of any layer the engine runs
    static const int max_out = LINEAR_MAX_OUT;  // largest out_dim
    static const int max_rows = LINEAR_MAX_ROWS;  // largest row count (tokens)
    static const int w_per_word = LINEAR_W_PER_WORD;  // weights per AXI word
    static const int b_per_word = LINEAR_B_PER_WORD;  // biases per AXI word
    static const int a_per_word = LINEAR_A_PER_WORD;  // activations per AXI word
    static const int p_per_word = LINEAR_P_PER_WORD;  // pixels per AXI word
    static const int w_words = LINEAR_W_WORDS;  // weight memory depth: the largest layer image (pack_matrix_axi), AXI words
    static const int b_words = LINEAR_B_WORDS;  // bias memory depth, AXI words
    static const int x_words = LINEAR_X_WORDS;  // activation input depth: tokens x widest row, AXI words
    static const int y_words = LINEAR_Y_WORDS;  // destination depth: tokens x widest row, AXI words
    static const int image_words = LINEAR_IMAGE_WORDS;  // image depth, AXI words
    static const int pos_words = LINEAR_POS_WORDS;  // position embedding depth, AXI words
    static const int w_bits = LINEAR_W_BITS;  // the engine's w_ word, bits (hardware.weight_word.bits; default axi_width)
    static const int w_rows = LINEAR_W_ROWS;  // weight rows per w_ word: 1 row-major (pack_matrix_axi), 2 row pairs (pack_matrix_pairs; hardware.weight_word.rows)
    static const int weight_fifo_depth = LINEAR_WEIGHT_FIFO_DEPTH;  // weight prefetch FIFO in front of w_, words (hardware.weight_fifo.depth; 0: none)
};

// ---- multi-head attention on the MAC array (python_ref/kernels/attention.py)
struct attention_config {
    typedef ap_fixed<26,8,AP_RND,AP_SAT_SYM> q_t;  // q on the array's A port (numerics.attention_q, else formats.operand)
    typedef ap_fixed<18,7,AP_RND,AP_SAT_SYM> kv_t;  // K and V on the B port (numerics.attention_kv, else formats.operand)
    typedef ap_fixed<50,21,AP_TRN,AP_WRAP> s_acc_t;  // exact q.k (F_q + F_kv fraction bits)
    typedef ap_fixed<50,18,AP_TRN,AP_WRAP> s_scaled_t;  // the same raw bits read as S * 2^-g (F_q + F_kv + g fraction bits)
    typedef ap_fixed<51,16,AP_TRN,AP_WRAP> u_acc_t;  // exact e.v (F_exp + F_kv fraction bits)
    static const int head_shift = ATTENTION_HEAD_SHIFT;  // g: head_dim = 4^g, d^-1/2 = 2^-g (an exact shift)
    static const int max_tokens = ATTENTION_MAX_TOKENS;  // tokens per layer: the on-chip buffers' row count
    static const int kv_split = ATTENTION_KV_SPLIT;  // 1: K and V split hi / lo (two array passes); 0: one pass
    static const int q_w = ATTENTION_Q_W;  // q bits
    static const int q_i = ATTENTION_Q_I;  // q integer bits
    static const int q_quant = ATTENTION_Q_QUANT;  // q quantization code (RND)
    static const int q_overflow = ATTENTION_Q_OVERFLOW;  // q overflow code (SAT_SYM)
    static const int kv_w = ATTENTION_KV_W;  // kv bits
    static const int kv_i = ATTENTION_KV_I;  // kv integer bits
    static const int kv_quant = ATTENTION_KV_QUANT;  // kv quantization code (RND)
    static const int kv_overflow = ATTENTION_KV_OVERFLOW;  // kv overflow code (SAT_SYM)
};

// ---- MoE router and call descriptors (python_ref/kernels/moe.py)
struct moe_config {
    static const int token_cycles = MOE_TOKEN_CYCLES;  // RTL router: cycles per token (the gate call's row period)
    static const int desc_words = MOE_DESC_WORDS;  // longest call-descriptor stream (64-bit words)
    static const int kind_gate = MOE_KIND_GATE;  // descriptor kind: the gate call
    static const int kind_load = MOE_KIND_LOAD;  // descriptor kind: the first weight load
    static const int kind_call = MOE_KIND_CALL;  // descriptor kind: an expert call header
    static const int kind_row = MOE_KIND_ROW;  // descriptor kind: one row of a call
    static const int mode_store = MOE_MODE_STORE;  // engine output mode: store
    static const int mode_scaled = MOE_MODE_SCALED;  // engine output mode: scaled scatter-accumulate
    static const int h_kind_lsb = MOE_H_KIND_LSB;  // descriptor header field kind: lsb
    static const int h_kind_w = MOE_H_KIND_W;  // descriptor header field kind: bits
    static const int h_step_lsb = MOE_H_STEP_LSB;  // descriptor header field step: lsb
    static const int h_step_w = MOE_H_STEP_W;  // descriptor header field step: bits
    static const int h_expert_lsb = MOE_H_EXPERT_LSB;  // descriptor header field expert: lsb
    static const int h_expert_w = MOE_H_EXPERT_W;  // descriptor header field expert: bits
    static const int h_layer_lsb = MOE_H_LAYER_LSB;  // descriptor header field layer: lsb
    static const int h_layer_w = MOE_H_LAYER_W;  // descriptor header field layer: bits
    static const int h_buffer_lsb = MOE_H_BUFFER_LSB;  // descriptor header field buffer: lsb
    static const int h_buffer_w = MOE_H_BUFFER_W;  // descriptor header field buffer: bits
    static const int h_gelu_lsb = MOE_H_GELU_LSB;  // descriptor header field gelu: lsb
    static const int h_gelu_w = MOE_H_GELU_W;  // descriptor header field gelu: bits
    static const int h_mode_lsb = MOE_H_MODE_LSB;  // descriptor header field mode: lsb
    static const int h_mode_w = MOE_H_MODE_W;  // descriptor header field mode: bits
    static const int h_rows_lsb = MOE_H_ROWS_LSB;  // descriptor header field rows: lsb
    static const int h_rows_w = MOE_H_ROWS_W;  // descriptor header field rows: bits
    static const int h_pf_valid_lsb = MOE_H_PF_VALID_LSB;  // descriptor header field pf_valid: lsb
    static const int h_pf_valid_w = MOE_H_PF_VALID_W;  // descriptor header field pf_valid: bits
    static const int h_pf_expert_lsb = MOE_H_PF_EXPERT_LSB;  // descriptor header field pf_expert: lsb
    static const int h_pf_expert_w = MOE_H_PF_EXPERT_W;  // descriptor header field pf_expert: bits
    static const int h_pf_layer_lsb = MOE_H_PF_LAYER_LSB;  // descriptor header field pf_layer: lsb
    static const int h_pf_layer_w = MOE_H_PF_LAYER_W;  // descriptor header field pf_layer: bits
    static const int h_last_lsb = MOE_H_LAST_LSB;  // descriptor header field last: lsb
    static const int h_last_w = MOE_H_LAST_W;  // descriptor header field last: bits
    static const int h_task_lsb = MOE_H_TASK_LSB;  // descriptor header field task: lsb
    static const int h_task_w = MOE_H_TASK_W;  // descriptor header field task: bits
    static const int r_kind_lsb = MOE_R_KIND_LSB;  // descriptor row field kind: lsb
    static const int r_kind_w = MOE_R_KIND_W;  // descriptor row field kind: bits
    static const int r_k_lsb = MOE_R_K_LSB;  // descriptor row field k: lsb
    static const int r_k_w = MOE_R_K_W;  // descriptor row field k: bits
    static const int r_token_lsb = MOE_R_TOKEN_LSB;  // descriptor row field token: lsb
    static const int r_token_w = MOE_R_TOKEN_W;  // descriptor row field token: bits
    static const int r_score_lsb = MOE_R_SCORE_LSB;  // descriptor row field score: lsb
    static const int r_score_w = MOE_R_SCORE_W;  // descriptor row field score: bits
};
