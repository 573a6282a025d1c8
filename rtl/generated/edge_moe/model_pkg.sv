// Generated from edge_moe.yaml (config digest 778cf8013e54b9ee) by scripts/generate.py.
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
  localparam int PATCH_IN_DIM = 768;
  localparam int AXI_WIDTH = 256;
  localparam int LINEAR_IN = 32;
  localparam int LINEAR_OUT = 32;
  localparam int ATTN_PARALLEL = 4;
  localparam int ACT_W = 32;
  localparam int ACT_I = 10;
  localparam int ACT_SIGNED = 1;
  localparam int ACT_QUANT = 0;
  localparam int ACT_OVERFLOW = 0;
  localparam int WEIGHT_W = 16;
  localparam int WEIGHT_I = 2;
  localparam int WEIGHT_SIGNED = 1;
  localparam int WEIGHT_QUANT = 2;
  localparam int WEIGHT_OVERFLOW = 0;
  localparam int GATE_WEIGHT_W = 16;
  localparam int GATE_WEIGHT_I = 2;
  localparam int GATE_WEIGHT_SIGNED = 1;
  localparam int GATE_WEIGHT_QUANT = 2;
  localparam int GATE_WEIGHT_OVERFLOW = 0;
  localparam int ATTN_BIAS_W = 16;
  localparam int ATTN_BIAS_I = 7;
  localparam int ATTN_BIAS_SIGNED = 1;
  localparam int ATTN_BIAS_QUANT = 2;
  localparam int ATTN_BIAS_OVERFLOW = 0;
  localparam int BIAS_W = 16;
  localparam int BIAS_I = 5;
  localparam int BIAS_SIGNED = 1;
  localparam int BIAS_QUANT = 2;
  localparam int BIAS_OVERFLOW = 0;
  localparam int NORM_PARAM_W = 16;
  localparam int NORM_PARAM_I = 5;
  localparam int NORM_PARAM_SIGNED = 1;
  localparam int NORM_PARAM_QUANT = 2;
  localparam int NORM_PARAM_OVERFLOW = 0;
  localparam int PATCH_WEIGHT_W = 16;
  localparam int PATCH_WEIGHT_I = 0;
  localparam int PATCH_WEIGHT_SIGNED = 1;
  localparam int PATCH_WEIGHT_QUANT = 2;
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
  localparam int GELU_METHOD = 0;
  localparam int GELU_LANES = 8;
  localparam int GELU_STEP_LOG2 = 5;
  localparam int GELU_ENTRIES = 177;
  localparam int GELU_RANGE_STEPS = 176;
  localparam int EXP_OUT_FRAC = 24;
  localparam int EXP_LOG2E_FRAC = 31;
  localparam longint EXP_LOG2E_RAW = 64'sd3098164009;
  localparam int EXP_T_FRAC = 24;
  localparam int EXP_TABLE_BITS = 7;
  localparam int EXP_TABLE_FRAC = 28;
  localparam int EXP_R_BITS = 17;
  localparam int EXP_POLY_FRAC = 28;
  localparam int EXP_C1_RAW = 186065279;
  localparam int EXP_C2_RAW = 64485312;
  localparam int EXP_INPUT_LIMIT_LOG2 = 5;
  localparam int EXP_N_ZERO = 26;
  localparam int EXP_MAX_FRAC_IN = 25;
  localparam int RECIP_SOFTMAX_WI = 32;
  localparam int RECIP_SOFTMAX_K = 56;
  localparam int RECIP_SOFTMAX_WO = 32;
  localparam int RECIP_MAX_K = 62;
  localparam int SOFTMAX_MAX_ROW = 255;
  localparam int SOFTMAX_ROW_BITS = 8;
  localparam int SOFTMAX_LANES = 4;
  localparam int SOFTMAX_RECIPROCALS = 10;
  localparam int SOFTMAX_RECIP_INTERVAL = 59;
  localparam int SOFTMAX_ROWS_IN_FLIGHT = 32;
  localparam int LAYERNORM_DIM = 192;
  localparam int LAYERNORM_LANES = 32;
  localparam longint LAYERNORM_EPS_V = 64'sd648518346341;
  localparam int LAYERNORM_V_BITS = 60;
  localparam int LAYERNORM_SIGMA_BITS = 30;
  localparam int LAYERNORM_RECIP_FRAC = 59;
  localparam int LAYERNORM_RECIP_WIDTH = 31;
  localparam int LAYERNORM_RECIP_K = 60;
  localparam int LAYERNORM_A_EXTRA = 4;
  localparam int LAYERNORM_Z_FRAC = 24;
  localparam int LAYERNORM_MAX_DIM = 256;
  localparam int LINEAR_W_W = 18;
  localparam int LINEAR_W_I = 2;
  localparam int LINEAR_MAX_IN = 768;
  localparam int LINEAR_MAX_OUT = 768;
  localparam int LINEAR_MAX_ROWS = 129;
  localparam int LINEAR_W_PER_WORD = 16;
  localparam int LINEAR_B_PER_WORD = 16;
  localparam int LINEAR_A_PER_WORD = 8;
  localparam int LINEAR_P_PER_WORD = 32;
  localparam int LINEAR_W_WORDS = 9216;
  localparam int LINEAR_B_WORDS = 48;
  localparam int LINEAR_X_WORDS = 12384;
  localparam int LINEAR_Y_WORDS = 12384;
  localparam int LINEAR_IMAGE_WORDS = 3072;
  localparam int LINEAR_POS_WORDS = 3096;
  localparam int LINEAR_W_BITS = 1024;
  localparam int LINEAR_W_ROWS = 2;
  localparam int LINEAR_WEIGHT_FIFO_DEPTH = 15360;
  localparam int ATTENTION_HEAD_SHIFT = 3;
  localparam int ATTENTION_MAX_TOKENS = 129;
  localparam int ATTENTION_KV_SPLIT = 0;
  localparam int ATTENTION_Q_W = 26;
  localparam int ATTENTION_Q_I = 8;
  localparam int ATTENTION_Q_QUANT = 2;
  localparam int ATTENTION_Q_OVERFLOW = 3;
  localparam int ATTENTION_KV_W = 18;
  localparam int ATTENTION_KV_I = 7;
  localparam int ATTENTION_KV_QUANT = 2;
  localparam int ATTENTION_KV_OVERFLOW = 3;
  localparam int MOE_TOKEN_CYCLES = 6;
  localparam int MOE_DESC_WORDS = 550;
  localparam int MOE_KIND_GATE = 1;
  localparam int MOE_KIND_LOAD = 2;
  localparam int MOE_KIND_CALL = 3;
  localparam int MOE_KIND_ROW = 4;
  localparam int MOE_MODE_STORE = 0;
  localparam int MOE_MODE_SCALED = 2;
  localparam int MOE_H_KIND_LSB = 60;
  localparam int MOE_H_KIND_W = 4;
  localparam int MOE_H_STEP_LSB = 52;
  localparam int MOE_H_STEP_W = 8;
  localparam int MOE_H_EXPERT_LSB = 44;
  localparam int MOE_H_EXPERT_W = 8;
  localparam int MOE_H_LAYER_LSB = 42;
  localparam int MOE_H_LAYER_W = 2;
  localparam int MOE_H_BUFFER_LSB = 41;
  localparam int MOE_H_BUFFER_W = 1;
  localparam int MOE_H_GELU_LSB = 40;
  localparam int MOE_H_GELU_W = 1;
  localparam int MOE_H_MODE_LSB = 38;
  localparam int MOE_H_MODE_W = 2;
  localparam int MOE_H_ROWS_LSB = 30;
  localparam int MOE_H_ROWS_W = 8;
  localparam int MOE_H_PF_VALID_LSB = 29;
  localparam int MOE_H_PF_VALID_W = 1;
  localparam int MOE_H_PF_EXPERT_LSB = 21;
  localparam int MOE_H_PF_EXPERT_W = 8;
  localparam int MOE_H_PF_LAYER_LSB = 19;
  localparam int MOE_H_PF_LAYER_W = 2;
  localparam int MOE_H_LAST_LSB = 18;
  localparam int MOE_H_LAST_W = 1;
  localparam int MOE_H_TASK_LSB = 0;
  localparam int MOE_H_TASK_W = 8;
  localparam int MOE_R_KIND_LSB = 60;
  localparam int MOE_R_KIND_W = 4;
  localparam int MOE_R_K_LSB = 44;
  localparam int MOE_R_K_W = 8;
  localparam int MOE_R_TOKEN_LSB = 36;
  localparam int MOE_R_TOKEN_W = 8;
  localparam int MOE_R_SCORE_LSB = 0;
  localparam int MOE_R_SCORE_W = 32;
  // delta(k / 2^5), method edge_moe: raw table_t bits
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
  // T[j] = round(2^(-j/128) * 2^28)
  localparam logic [28:0] EXP_TABLE [128] = '{
    29'd268435456, 29'd266985750, 29'd265543873, 29'd264109783, 29'd262683438, 29'd261264796, 29'd259853815, 29'd258450455,
    29'd257054673, 29'd255666430, 29'd254285684, 29'd252912394, 29'd251546522, 29'd250188026, 29'd248836866, 29'd247493003,
    29'd246156398, 29'd244827012, 29'd243504805, 29'd242189739, 29'd240881774, 29'd239580874, 29'd238286999, 29'd237000112,
    29'd235720175, 29'd234447150, 29'd233181000, 29'd231921688, 29'd230669177, 29'd229423431, 29'd228184412, 29'd226952085,
    29'd225726413, 29'd224507360, 29'd223294891, 29'd222088970, 29'd220889561, 29'd219696630, 29'd218510142, 29'd217330061,
    29'd216156353, 29'd214988984, 29'd213827920, 29'd212673126, 29'd211524568, 29'd210382214, 29'd209246029, 29'd208115979,
    29'd206992033, 29'd205874157, 29'd204762318, 29'd203656483, 29'd202556621, 29'd201462698, 29'd200374683, 29'd199292545,
    29'd198216250, 29'd197145768, 29'd196081067, 29'd195022116, 29'd193968884, 29'd192921341, 29'd191879454, 29'd190843195,
    29'd189812531, 29'd188787434, 29'd187767873, 29'd186753818, 29'd185745240, 29'd184742109, 29'd183744395, 29'd182752069,
    29'd181765103, 29'd180783466, 29'd179807131, 29'd178836069, 29'd177870251, 29'd176909649, 29'd175954235, 29'd175003981,
    29'd174058859, 29'd173118840, 29'd172183899, 29'd171254007, 29'd170329136, 29'd169409261, 29'd168494353, 29'd167584386,
    29'd166679334, 29'd165779170, 29'd164883866, 29'd163993399, 29'd163107740, 29'd162226864, 29'd161350745, 29'd160479358,
    29'd159612677, 29'd158750677, 29'd157893331, 29'd157040616, 29'd156192507, 29'd155348977, 29'd154510003, 29'd153675560,
    29'd152845623, 29'd152020169, 29'd151199172, 29'd150382609, 29'd149570457, 29'd148762690, 29'd147959286, 29'd147160220,
    29'd146365470, 29'd145575012, 29'd144788823, 29'd144006880, 29'd143229160, 29'd142455640, 29'd141686297, 29'd140921110,
    29'd140160054, 29'd139403109, 29'd138650252, 29'd137901461, 29'd137156714, 29'd136415988, 29'd135679263, 29'd134946517
  };
endpackage
