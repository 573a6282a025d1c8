// The one handshake of a sweep wrapper's COPIES identical units (cosim/harness/sweep_<unit>.sv): the
// wrapper takes a beat when every copy is ready and offers one when every copy is valid. The copies
// see the same TVALID/TLAST and TREADY, so they stay in lockstep; `desync` is high in any cycle in
// which they disagree on TREADY, TVALID or (on a valid beat) TLAST, and the harness fails the sweep
// if it ever is.
module sweep_lockstep #(
    parameter int COPIES = 1
) (
    input  logic [COPIES-1:0] rdy, vld, lst,  // each copy's x_TREADY, y_TVALID, y_TLAST
    output logic              x_ready, y_valid, y_last, desync
);
  assign x_ready = &rdy;
  assign y_valid = &vld;
  assign y_last  = lst[0];
  assign desync  = (|rdy != &rdy) || (|vld != &vld) || (vld[0] && (|lst != &lst));
endmodule
