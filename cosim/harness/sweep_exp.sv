// Exhaustive-sweep wrapper of rtl/src/exp.sv for cosim/harness/sweep_main.cpp (no cocotb).
//
// COPIES exp units side by side behind one handshake, so one model evaluation per clock edge
// advances COPIES values (Verilator's per-edge overhead is shared). Every copy sees the same
// TVALID/TLAST and TREADY, so identical units stay in lockstep; `desync` is high in any cycle in
// which they do not (the harness counts such cycles and the sweep fails if there is one).
//
// The harness-facing lanes are 64 bits wide in both directions (one generic C++ harness for every
// unit): lane i of x_data feeds the low LANE_W bits of copy i's x_TDATA (exp reads the low
// ACT_W + 1 of them), and copy i's whole y_TDATA (LANE_W bits) comes back zero-extended, so stray
// high bits in the unit's output would show up as mismatches.
module sweep_exp
  import model_pkg::*;
#(
    parameter int COPIES = 4,
    parameter int LANE_W = 40   // exp's TDATA width: a multiple of 8 holding ACT_W + 1 bits
) (
    input  logic                  ap_clk,
    input  logic                  ap_rst_n,
    input  logic [COPIES*64-1:0]  x_data,
    input  logic                  x_valid,
    output logic                  x_ready,
    input  logic                  x_last,
    output logic [COPIES*64-1:0]  y_data,
    output logic                  y_valid,
    input  logic                  y_ready,
    output logic                  y_last,
    output logic                  desync
);
  if (LANE_W > 64) begin : g_chk
    $error("sweep_exp: LANE_W %0d does not fit a 64-bit harness lane", LANE_W);
  end

  logic [COPIES-1:0] rdy, vld, lst;

  for (genvar c = 0; c < COPIES; c++) begin : g_copy
    logic [LANE_W-1:0] y;
    /* verilator lint_off PINCONNECTEMPTY */
    exp #(.LANE_W(LANE_W)) u_exp (
        .ap_clk  (ap_clk),
        .ap_rst_n(ap_rst_n),
        .x_TDATA (x_data[c*64 +: LANE_W]),
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
    assign y_data[c*64 +: 64] = 64'(y);
  end

  sweep_lockstep #(.COPIES(COPIES)) u_lockstep (.rdy, .vld, .lst, .x_ready, .y_valid, .y_last, .desync);

  // Only the low LANE_W bits of each 64-bit harness lane feed the unit.
  wire unused_ok = &{1'b0, x_data};
endmodule
