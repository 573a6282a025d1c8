// Generated from edge_moe.yaml (config digest 97e1729778dd7d68) by scripts/generate.py.
// Do not edit: change the YAML and run `make generate`.

// Configuration: edge_moe
// Quantization codes: 0 TRN, 1 TRN_ZERO, 2 RND, 3 RND_ZERO, 4 RND_MIN_INF, 5 RND_INF, 6 RND_CONV
// Overflow codes: 0 WRAP, 1 SAT, 2 SAT_ZERO, 3 SAT_SYM
package model_pkg;
  localparam int IMAGE_CHANNELS = 3;
  localparam int IMAGE_HEIGHT = 128;
  localparam int IMAGE_WIDTH = 256;
  localparam int PATCH_SIZE = 16;
  localparam int NUM_PATCHES = 128;
  localparam int NUM_TOKENS = 129;
  localparam int FEATURE_DIM = 192;
  localparam int NUM_HEADS = 3;
  localparam int HEAD_DIM = 64;
  localparam int NUM_LAYERS = 12;
  localparam int MLP_HIDDEN_DIM = 768;
  localparam int NUM_EXPERTS = 16;
  localparam int TOP_K = 2;
  localparam int EXPERT_HIDDEN_DIM = 384;
  localparam int NUM_TASKS = 2;
  localparam int AXI_WIDTH = 256;
  localparam int LINEAR_IN = 16;
  localparam int LINEAR_OUT = 16;
  localparam int ATTN_PARALLEL = 4;
  localparam int GELU_METHOD = 0;
  localparam int GELU_LANES = 8;
  localparam int GELU_STEP_LOG2 = 5;
  localparam int GELU_ENTRIES = 177;
  localparam int GELU_RANGE_STEPS = 176;
  localparam longint LAYERNORM_EPS_V = 64'sd648518346341;
  localparam int ACT_W = 32;
  localparam int ACT_I = 10;
  localparam int ACT_SIGNED = 1;
  localparam int ACT_QUANT = 0;
  localparam int ACT_OVERFLOW = 0;
  localparam int WEIGHT_W = 16;
  localparam int WEIGHT_I = 2;
  localparam int WEIGHT_SIGNED = 1;
  localparam int WEIGHT_QUANT = 0;
  localparam int WEIGHT_OVERFLOW = 0;
  localparam int GATE_WEIGHT_W = 16;
  localparam int GATE_WEIGHT_I = 2;
  localparam int GATE_WEIGHT_SIGNED = 1;
  localparam int GATE_WEIGHT_QUANT = 0;
  localparam int GATE_WEIGHT_OVERFLOW = 0;
  localparam int ATTN_BIAS_W = 16;
  localparam int ATTN_BIAS_I = 7;
  localparam int ATTN_BIAS_SIGNED = 1;
  localparam int ATTN_BIAS_QUANT = 0;
  localparam int ATTN_BIAS_OVERFLOW = 0;
  localparam int BIAS_W = 16;
  localparam int BIAS_I = 5;
  localparam int BIAS_SIGNED = 1;
  localparam int BIAS_QUANT = 0;
  localparam int BIAS_OVERFLOW = 0;
  localparam int NORM_PARAM_W = 16;
  localparam int NORM_PARAM_I = 5;
  localparam int NORM_PARAM_SIGNED = 1;
  localparam int NORM_PARAM_QUANT = 0;
  localparam int NORM_PARAM_OVERFLOW = 0;
  localparam int PATCH_WEIGHT_W = 16;
  localparam int PATCH_WEIGHT_I = 0;
  localparam int PATCH_WEIGHT_SIGNED = 1;
  localparam int PATCH_WEIGHT_QUANT = 0;
  localparam int PATCH_WEIGHT_OVERFLOW = 0;
  localparam int PIXEL_W = 8;
  localparam int PIXEL_I = 0;
  localparam int PIXEL_SIGNED = 0;
  localparam int PIXEL_QUANT = 0;
  localparam int PIXEL_OVERFLOW = 0;
  localparam int OPERAND_W = 27;
  localparam int OPERAND_I = 9;
  localparam int OPERAND_SIGNED = 1;
  localparam int OPERAND_QUANT = 2;
  localparam int OPERAND_OVERFLOW = 3;
  localparam int SCORE_W = 32;
  localparam int SCORE_I = 10;
  localparam int SCORE_SIGNED = 1;
  localparam int SCORE_QUANT = 2;
  localparam int SCORE_OVERFLOW = 1;
  localparam int GELU_TABLE_W = 22;
  localparam int GELU_TABLE_I = 0;
  localparam int GELU_TABLE_SIGNED = 0;
  localparam int GELU_TABLE_QUANT = 0;
  localparam int GELU_TABLE_OVERFLOW = 0;
  // GELU delta table, method edge_moe (raw bits of ap_ufixed<22,0,AP_TRN,AP_WRAP>)
  localparam logic [21:0] GELU_DELTA_TABLE [177] = '{
    22'd0, 22'd63902, 22'd124540, 22'd181923, 22'd236067, 22'd286994, 22'd334732, 22'd379317,
    22'd420787, 22'd459189, 22'd494574, 22'd527000, 22'd556527, 22'd583222, 22'd607157, 22'd628407,
    22'd647050, 22'd663170, 22'd676853, 22'd688187, 22'd697265, 22'd704180, 22'd709027, 22'd711903,
    22'd712908, 22'd712140, 22'd709698, 22'd705682, 22'd700191, 22'd693325, 22'd685182, 22'd675858,
    22'd665448, 22'd654048, 22'd641748, 22'd628639, 22'd614807, 22'd600337, 22'd585312, 22'd569811,
    22'd553909, 22'd537680, 22'd521192, 22'd504513, 22'd487705, 22'd470827, 22'd453935, 22'd437081,
    22'd420315, 22'd403680, 22'd387220, 22'd370973, 22'd354973, 22'd339252, 22'd323839, 22'd308759,
    22'd294035, 22'd279687, 22'd265730, 22'd252180, 22'd239047, 22'd226341, 22'd214068, 22'd202235,
    22'd190842, 22'd179892, 22'd169382, 22'd159312, 22'd149677, 22'd140472, 22'd131690, 22'd123323,
    22'd115365, 22'd107804, 22'd100631, 22'd93836, 22'd87407, 22'd81332, 22'd75600, 22'd70197,
    22'd65113, 22'd60334, 22'd55847, 22'd51640, 22'd47700, 22'd44016, 22'd40574, 22'd37362,
    22'd34370, 22'd31584, 22'd28995, 22'd26590, 22'd24360, 22'd22294, 22'd20383, 22'd18616,
    22'd16986, 22'd15482, 22'd14097, 22'd12823, 22'd11653, 22'd10578, 22'd9593, 22'd8691,
    22'd7866, 22'd7112, 22'd6423, 22'd5796, 22'd5225, 22'd4705, 22'd4232, 22'd3804,
    22'd3415, 22'd3063, 22'd2744, 22'd2457, 22'd2197, 22'd1962, 22'd1751, 22'd1561,
    22'd1391, 22'd1237, 22'd1100, 22'd977, 22'd866, 22'd768, 22'd680, 22'd601,
    22'd531, 22'd469, 22'd414, 22'd364, 22'd321, 22'd282, 22'd248, 22'd217,
    22'd191, 22'd167, 22'd146, 22'd128, 22'd111, 22'd97, 22'd85, 22'd74,
    22'd64, 22'd56, 22'd48, 22'd42, 22'd36, 22'd31, 22'd27, 22'd23,
    22'd20, 22'd17, 22'd15, 22'd13, 22'd11, 22'd10, 22'd8, 22'd7,
    22'd6, 22'd5, 22'd4, 22'd4, 22'd3, 22'd3, 22'd2, 22'd2,
    22'd2, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1,
    22'd0
  };
endpackage
