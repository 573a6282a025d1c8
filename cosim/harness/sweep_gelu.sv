// Exhaustive-sweep wrapper of rtl/src/gelu.sv for cosim/harness/sweep_main.cpp (no cocotb).
//
// COPIES gelu units (GELU_LANES values per beat each) behind one handshake; every copy sees the
// same TVALID/TLAST and TREADY so they stay in lockstep, and `desync` flags any cycle in which
// they do not. Harness lane i (64 bits) carries value i of the wrapper's beat: its low ACT_W bits
// feed lane i % GELU_LANES of copy i / GELU_LANES, whose ACT_W-bit result comes back zero-extended.
module sweep_gelu
  import model_pkg::*;
#(
    parameter int COPIES = 1
) (
    input  logic                                ap_clk,
    input  logic                                ap_rst_n,
    input  logic [COPIES*GELU_LANES*64-1:0]     x_data,
    input  logic                                x_valid,
    output logic                                x_ready,
    input  logic                                x_last,
    output logic [COPIES*GELU_LANES*64-1:0]     y_data,
    output logic                                y_valid,
    input  logic                                y_ready,
    output logic                                y_last,
    output logic                                desync
);
  localparam int L = GELU_LANES;
  localparam int W = ACT_W;

  if (W > 64) begin : g_chk
    $error("sweep_gelu: ACT_W %0d does not fit a 64-bit harness lane", W);
  end

  logic [COPIES-1:0] rdy, vld, lst;

  for (genvar c = 0; c < COPIES; c++) begin : g_copy
    logic [L*W-1:0] x, y;
    for (genvar i = 0; i < L; i++) begin : g_lane
      assign x[i*W +: W] = x_data[(c*L + i)*64 +: W];
      assign y_data[(c*L + i)*64 +: 64] = 64'(y[i*W +: W]);
    end
    /* verilator lint_off PINCONNECTEMPTY */
    gelu #(.LANES(L)) u_gelu (
        .ap_clk  (ap_clk),
        .ap_rst_n(ap_rst_n),
        .x_TDATA (x),
        .x_TVALID(x_valid),
        .x_TREADY(rdy[c]),
        .x_TLAST (x_last),
        .x_TKEEP ('1),
        .x_TSTRB ('1),
        .y_TDATA (y),
        .y_TVALID(vld[c]),
        .y_TREADY(y_ready),
        .y_TLAST (lst[c]),
        .y_TKEEP (),
        .y_TSTRB ()
    );
    /* verilator lint_on PINCONNECTEMPTY */
  end

  sweep_lockstep #(.COPIES(COPIES)) u_lockstep (.rdy, .vld, .lst, .x_ready, .y_valid, .y_last, .desync);

  // Only the low ACT_W bits of each 64-bit harness lane feed the unit.
  wire unused_ok = &{1'b0, x_data};
endmodule
