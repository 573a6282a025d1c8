// AXI-Stream width-down converter: each input beat of N_IN lanes leaves as N_IN / N_OUT beats of N_OUT
// lanes, lane 0 first (the low lanes of the input beat in the first output beat). A beat per cycle
// leaves while m_ready is high; a new input beat is taken in the cycle its predecessor's last piece
// leaves, so a stream of input beats leaves without a bubble. m_data and m_valid are flip-flops;
// s_ready is a function of the piece count (a flip-flop) and m_ready.
// Used between the gate logits' buffer (a beat of E lanes a token) and moe_router's x_
// (SOFTMAX_LANES lanes a beat): rtl/src/moe_block.sv.
`default_nettype none

module axis_lane_split #(
    parameter int W     = 32,   // bits a lane
    parameter int N_IN  = 4,    // lanes an input beat
    parameter int N_OUT = 1     // lanes an output beat (divides N_IN)
) (
    input  logic                clk,
    input  logic                rst_n,   // synchronous, active low
    input  logic [N_IN*W-1:0]   s_data,
    input  logic                s_valid,
    output logic                s_ready,
    output logic [N_OUT*W-1:0]  m_data,
    output logic                m_valid,
    input  logic                m_ready
);
  if (N_OUT < 1 || N_IN % N_OUT != 0) begin : g_chk
    $error("axis_lane_split: N_OUT (%0d) must divide N_IN (%0d)", N_OUT, N_IN);
  end
  localparam int R  = N_IN / N_OUT;          // output beats an input beat
  localparam int CW = $clog2(R + 1);

  logic [N_IN*W-1:0] data_q;
  logic [CW-1:0]     left;                   // pieces of data_q still to leave
  logic              last_goes;

  assign m_valid   = left != '0;
  assign m_data    = data_q[N_OUT*W-1:0];
  assign last_goes = left == CW'(1) && m_ready;
  assign s_ready   = left == '0 || last_goes;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      left <= '0;
    end else if (s_valid && s_ready) begin
      left <= CW'(R);
    end else if (m_valid && m_ready) begin
      left <= left - CW'(1);
    end
  end

  always_ff @(posedge clk) begin
    if (s_valid && s_ready) begin
      data_q <= s_data;
    end else if (m_valid && m_ready) begin
      data_q <= data_q >> (N_OUT * W);
    end
  end
endmodule

`default_nettype wire
