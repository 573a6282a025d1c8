// Exhaustive-sweep wrapper of rtl/src/reciprocal.sv for cosim/harness/sweep_main.cpp (no cocotb).
//
// The reciprocal is bit-serial (one value per K + 3 cycles), so the sweep runs COPIES units in
// parallel behind one handshake: they all take a value in the same cycle, finish K + 1 steps
// later and are drained together, so one clock edge of the model advances COPIES divisions.
// `desync` is high in any cycle in which the copies disagree on TREADY, TVALID or TLAST.
// Harness lane i (64 bits): the low WI bits are copy i's divisor; its LANE_W-bit y_TDATA comes
// back zero-extended (bits above WO must be zero: the sweep compares all of them).
module sweep_reciprocal #(
    parameter int COPIES = 64,
    parameter int WI     = 32,
    parameter int K      = 56,
    parameter int WO     = 32,
    parameter int LANE_W = 32
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
  if (LANE_W > 64 || WI > LANE_W) begin : g_chk
    $error("sweep_reciprocal: WI %0d / LANE_W %0d do not fit a 64-bit harness lane", WI, LANE_W);
  end

  logic [COPIES-1:0] rdy, vld, lst;

  for (genvar c = 0; c < COPIES; c++) begin : g_copy
    logic [LANE_W-1:0] y;
    /* verilator lint_off PINCONNECTEMPTY */
    reciprocal #(.WI(WI), .K(K), .WO(WO), .LANE_W(LANE_W), .UW(1)) u_rec (
        .ap_clk  (ap_clk),
        .ap_rst_n(ap_rst_n),
        .x_TDATA (x_data[c*64 +: LANE_W]),
        .x_TVALID(x_valid),
        .x_TREADY(rdy[c]),
        .x_TLAST (x_last),
        .x_TUSER (1'b0),
        .x_TKEEP ('1),
        .x_TSTRB ('1),
        .y_TDATA (y),
        .y_TVALID(vld[c]),
        .y_TREADY(y_ready),
        .y_TLAST (lst[c]),
        .y_TUSER (),
        .y_TKEEP (),
        .y_TSTRB ()
    );
    /* verilator lint_on PINCONNECTEMPTY */
    assign y_data[c*64 +: 64] = 64'(y);
  end

  sweep_lockstep #(.COPIES(COPIES)) u_lockstep (.rdy, .vld, .lst, .x_ready, .y_valid, .y_last, .desync);

  wire unused_ok = &{1'b0, x_data};
endmodule
