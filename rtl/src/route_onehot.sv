// A block top's `route` port decoded into one-hot flip-flops (rtl/src/mlp_block.sv, moe_block.sv,
// attention_block.sv): the route is the controller's register, and its decode in front of every
// mux and handshake of a top was a long path (3.85 ns in moe_block). The route changes only while
// the top's units are idle, so its taking effect a cycle later stalls nothing; each handshake sees
// the new flags on both sides at once. After reset route 0 (the host's).
`default_nettype none

module route_onehot #(
    parameter int N = 4,                         // routes
    localparam int W = N > 1 ? $clog2(N) : 1
) (
    input  logic         clk,
    input  logic         rst_n,                  // synchronous, active low
    input  logic [W-1:0] route,
    output logic [N-1:0] onehot                  // onehot[i]: route == i, a cycle later
);
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      onehot <= N'(1);
    end else begin
      for (int i = 0; i < N; i++) onehot[i] <= route == W'(i);
    end
  end
endmodule

`default_nettype wire
