// The attention unit's phase order (rtl/src/attention.sv): the array calls of one layer, so that the
// exp pass of every head overlaps the array work of another head:
//   QK0 QK1 AV0 QK2 AV1 QK3 AV2 ... QK(H-1) AV(H-2) AV(H-1)      (H = 3: QK0 QK1 AV0 QK2 AV1 AV2)
// i.e. after QK0 comes QK1 (AV0 when H = 1), after QK(h >= 1) comes AV(h-1), after AV(k) comes
// QK(k+2) while there is one, else AV(k+1), else the layer is done. The tile loader and the step
// issuer each walk this order with their own copy. start (re)starts at QK0; adv moves on (at most
// every other cycle: the successor is registered one cycle after each change).
`default_nettype none

module attn_phase
  import model_pkg::*;
#(
    parameter int H  = NUM_HEADS,
    parameter int HW = H > 1 ? $clog2(H) : 1
) (
    input  logic          clk,
    input  logic          rst_n,   // synchronous, active low
    input  logic          start,
    input  logic          adv,
    output logic          is_av,   // the current phase is AV (else QK)
    output logic [HW-1:0] head,
    output logic          done     // every phase has been left
);
  localparam logic [HW-1:0] LAST = HW'(H - 1);

  // The successor of the current phase, registered (a phase lasts >= 2 cycles): adv only selects it.
  logic          n_av, n_done;
  logic [HW-1:0] n_head;
  always_ff @(posedge clk) begin
    n_av   <= is_av;
    n_head <= head;
    n_done <= 1'b0;
    if (!is_av) begin
      if (head == '0 && H > 1) begin
        n_head <= HW'(1);                       // QK0 -> QK1
      end else begin
        n_av   <= 1'b1;                         // QK(h) -> AV(h-1); QK0 -> AV0 when H = 1
        n_head <= head == '0 ? '0 : head - 1'b1;
      end
    end else if (H > 2 && head < LAST - HW'(1)) begin
      n_av   <= 1'b0;                           // AV(k) -> QK(k+2)
      n_head <= head + HW'(2);
    end else if (head != LAST) begin
      n_head <= head + 1'b1;                    // AV(k) -> AV(k+1)
    end else begin
      n_done <= 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      is_av <= 1'b0;
      head  <= '0;
      done  <= 1'b1;
    end else if (start) begin
      is_av <= 1'b0;
      head  <= '0;
      done  <= 1'b0;
    end else if (adv && !done) begin
      is_av <= n_av;
      head  <= n_head;
      done  <= n_done;
    end
  end
endmodule

`default_nettype wire
