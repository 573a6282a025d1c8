// Generated from tiny.yaml (config digest 2942158af9e70522) by scripts/generate.py.
// Do not edit: change the YAML and run `make generate`.

#pragma once

#include <ap_fixed.h>
#include <ap_int.h>

// Configuration: tiny

// ---- shared constants (same names and values in model_pkg.sv)
constexpr int IMAGE_CHANNELS = 3;
constexpr int IMAGE_HEIGHT = 16;
constexpr int IMAGE_WIDTH = 16;
constexpr int PATCH_SIZE = 4;
constexpr int NUM_PATCHES = 16;
constexpr int NUM_TOKENS = 17;
constexpr int FEATURE_DIM = 32;
constexpr int NUM_HEADS = 2;
constexpr int HEAD_DIM = 16;
constexpr int NUM_LAYERS = 2;
constexpr int MLP_HIDDEN_DIM = 128;
constexpr int NUM_EXPERTS = 4;
constexpr int TOP_K = 2;
constexpr int EXPERT_HIDDEN_DIM = 64;
constexpr int NUM_TASKS = 2;
constexpr int AXI_WIDTH = 128;
constexpr int LINEAR_IN = 4;
constexpr int LINEAR_OUT = 4;
constexpr int ATTN_PARALLEL = 2;
constexpr int GELU_METHOD = 1;
constexpr int GELU_LANES = 4;
constexpr int GELU_STEP_LOG2 = 5;
constexpr int GELU_ENTRIES = 177;
constexpr int GELU_RANGE_STEPS = 176;
constexpr long long LAYERNORM_EPS_V = 18014398509LL;
constexpr int ACT_W = 32;
constexpr int ACT_I = 10;
constexpr int ACT_SIGNED = 1;
constexpr int ACT_QUANT = 0;
constexpr int ACT_OVERFLOW = 0;
constexpr int WEIGHT_W = 16;
constexpr int WEIGHT_I = 2;
constexpr int WEIGHT_SIGNED = 1;
constexpr int WEIGHT_QUANT = 0;
constexpr int WEIGHT_OVERFLOW = 0;
constexpr int GATE_WEIGHT_W = 16;
constexpr int GATE_WEIGHT_I = 2;
constexpr int GATE_WEIGHT_SIGNED = 1;
constexpr int GATE_WEIGHT_QUANT = 0;
constexpr int GATE_WEIGHT_OVERFLOW = 0;
constexpr int ATTN_BIAS_W = 16;
constexpr int ATTN_BIAS_I = 7;
constexpr int ATTN_BIAS_SIGNED = 1;
constexpr int ATTN_BIAS_QUANT = 0;
constexpr int ATTN_BIAS_OVERFLOW = 0;
constexpr int BIAS_W = 16;
constexpr int BIAS_I = 5;
constexpr int BIAS_SIGNED = 1;
constexpr int BIAS_QUANT = 0;
constexpr int BIAS_OVERFLOW = 0;
constexpr int NORM_PARAM_W = 16;
constexpr int NORM_PARAM_I = 5;
constexpr int NORM_PARAM_SIGNED = 1;
constexpr int NORM_PARAM_QUANT = 0;
constexpr int NORM_PARAM_OVERFLOW = 0;
constexpr int PATCH_WEIGHT_W = 16;
constexpr int PATCH_WEIGHT_I = 0;
constexpr int PATCH_WEIGHT_SIGNED = 1;
constexpr int PATCH_WEIGHT_QUANT = 0;
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

// ---- fixed-point formats
typedef ap_fixed<32,10,AP_TRN,AP_WRAP> act_t;  // activations between kernels (and the accumulators of every linear layer)
typedef ap_fixed<16,2,AP_TRN,AP_WRAP> weight_t;  // linear-layer weights (QKV, projection, MLP fc1/fc2, experts)
typedef ap_fixed<16,2,AP_TRN,AP_WRAP> gate_weight_t;  // MoE gate weights (one matrix per task)
typedef ap_fixed<16,7,AP_TRN,AP_WRAP> attn_bias_t;  // attention biases (QKV and projection)
typedef ap_fixed<16,5,AP_TRN,AP_WRAP> bias_t;  // other biases (MLP, experts, patch embedding)
typedef ap_fixed<16,5,AP_TRN,AP_WRAP> norm_param_t;  // LayerNorm gamma and beta
typedef ap_fixed<16,0,AP_TRN,AP_WRAP> patch_weight_t;  // patch-embedding convolution weights
typedef ap_ufixed<8,0,AP_TRN,AP_WRAP> pixel_t;  // input pixels
typedef ap_fixed<27,9,AP_RND,AP_SAT_SYM> operand_t;  // activation operand of the MAC array (the 27-bit A port of a DSP48E2), converted from act once
typedef ap_fixed<32,10,AP_RND,AP_SAT> score_t;  // attention scores q.k / sqrt(head_dim), rounded once from the exact dot product

// ---- GELU unit (hls/src/gelu.h): GELU(x) = ReLU(x) - delta(|x|), delta tabulated and interpolated
struct gelu_config {
    typedef act_t data_t;
    typedef ap_ufixed<22,0,AP_TRN,AP_WRAP> table_t;
    static const unsigned lanes = 4;
    static const unsigned step_log2 = 5;
    static const unsigned entries = 177;
    static const unsigned range_steps = 176;  // table_range / step
    static const int method = 1;  // 0 edge_moe, 1 minimax
};

// ---- LayerNorm unit (hls/src/layernorm.h): eps scaled to the unit's integer variance
struct layernorm_config {
    typedef act_t data_t;
    typedef norm_param_t param_t;
    static const unsigned dim = FEATURE_DIM;
    static const unsigned long long eps_v = LAYERNORM_EPS_V;  // round(eps * D^2 * 2^(2F)), eps = 1e-06
};
