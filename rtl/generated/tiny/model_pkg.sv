// Generated from tiny.yaml (config digest 2942158af9e70522) by scripts/generate.py.
// Do not edit: change the YAML and run `make generate`.

// Configuration: tiny
// Quantization codes: 0 TRN, 1 TRN_ZERO, 2 RND, 3 RND_ZERO, 4 RND_MIN_INF, 5 RND_INF, 6 RND_CONV
// Overflow codes: 0 WRAP, 1 SAT, 2 SAT_ZERO, 3 SAT_SYM
package model_pkg;
  localparam int IMAGE_CHANNELS = 3;
  localparam int IMAGE_HEIGHT = 16;
  localparam int IMAGE_WIDTH = 16;
  localparam int PATCH_SIZE = 4;
  localparam int NUM_PATCHES = 16;
  localparam int NUM_TOKENS = 17;
  localparam int FEATURE_DIM = 32;
  localparam int NUM_HEADS = 2;
  localparam int HEAD_DIM = 16;
  localparam int NUM_LAYERS = 2;
  localparam int MLP_HIDDEN_DIM = 128;
  localparam int NUM_EXPERTS = 4;
  localparam int TOP_K = 2;
  localparam int EXPERT_HIDDEN_DIM = 64;
  localparam int NUM_TASKS = 2;
  localparam int AXI_WIDTH = 128;
  localparam int LINEAR_IN = 4;
  localparam int LINEAR_OUT = 4;
  localparam int ATTN_PARALLEL = 2;
  localparam int GELU_METHOD = 1;
  localparam int GELU_LANES = 4;
  localparam int GELU_STEP_LOG2 = 5;
  localparam int GELU_ENTRIES = 177;
  localparam int GELU_RANGE_STEPS = 176;
  localparam longint LAYERNORM_EPS_V = 64'sd18014398509;
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
  // GELU delta table, method minimax (raw bits of ap_ufixed<22,0,AP_TRN,AP_WRAP>)
  localparam logic [21:0] GELU_DELTA_TABLE [177] = '{
    22'd204, 22'd64106, 22'd124743, 22'd182125, 22'd236268, 22'd287193, 22'd334930, 22'd379511,
    22'd420979, 22'd459378, 22'd494759, 22'd527181, 22'd556704, 22'd583395, 22'd607325, 22'd628570,
    22'd647208, 22'd663323, 22'd677000, 22'd688329, 22'd697400, 22'd704309, 22'd709150, 22'd712020,
    22'd713019, 22'd712244, 22'd709796, 22'd705774, 22'd700277, 22'd693405, 22'd685255, 22'd675925,
    22'd665510, 22'd654104, 22'd641799, 22'd628684, 22'd614847, 22'd600372, 22'd585342, 22'd569836,
    22'd553930, 22'd537696, 22'd521204, 22'd504521, 22'd487709, 22'd470828, 22'd453932, 22'd437076,
    22'd420306, 22'd403669, 22'd387207, 22'd370957, 22'd354955, 22'd339233, 22'd323818, 22'd308737,
    22'd294012, 22'd279662, 22'd265705, 22'd252154, 22'd239020, 22'd226314, 22'd214041, 22'd202207,
    22'd190814, 22'd179864, 22'd169355, 22'd159285, 22'd149650, 22'd140445, 22'd131664, 22'd123298,
    22'd115340, 22'd107780, 22'd100608, 22'd93813, 22'd87385, 22'd81311, 22'd75579, 22'd70178,
    22'd65094, 22'd60315, 22'd55829, 22'd51623, 22'd47685, 22'd44001, 22'd40559, 22'd37349,
    22'd34357, 22'd31572, 22'd28983, 22'd26579, 22'd24350, 22'd22285, 22'd20374, 22'd18608,
    22'd16978, 22'd15475, 22'd14090, 22'd12817, 22'd11647, 22'd10573, 22'd9588, 22'd8686,
    22'd7861, 22'd7108, 22'd6420, 22'd5792, 22'd5221, 22'd4702, 22'd4230, 22'd3801,
    22'd3413, 22'd3061, 22'd2743, 22'd2455, 22'd2195, 22'd1961, 22'd1750, 22'd1560,
    22'd1390, 22'd1236, 22'd1099, 22'd976, 22'd866, 22'd767, 22'd679, 22'd601,
    22'd531, 22'd469, 22'd413, 22'd364, 22'd320, 22'd282, 22'd247, 22'd217,
    22'd190, 22'd167, 22'd146, 22'd127, 22'd111, 22'd97, 22'd85, 22'd74,
    22'd64, 22'd56, 22'd48, 22'd42, 22'd36, 22'd31, 22'd27, 22'd23,
    22'd20, 22'd17, 22'd15, 22'd13, 22'd11, 22'd10, 22'd8, 22'd7,
    22'd6, 22'd5, 22'd4, 22'd4, 22'd3, 22'd3, 22'd2, 22'd2,
    22'd2, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1, 22'd1,
    22'd0
  };
endpackage
