// One direction of rtl/src/act_buffer.sv: runs its commands one after another, a beat per cycle
// while `go`, and turns each beat into a memory address. The next command (pend_*) launches in the
// cycle of the running one's last beat (no bubble) once it is ready (its list loaded) and allowed
// (`allow`: the read direction's fence). A command's rows are base + k or, listed, the table's entries
// {half, k}, written by the buffer's list words (tab_*); its beats of a row first .. first + nb_m1.
//
// Order: row-major steps the beat every beat and the row at the end of a row; block-major steps the
// row every beat and the beat at the end of a column of rows. Counters k, b with down-counters and
// registered last flags (no compare behind `go`). Pipeline: S1 the row (the table's entry or base + k)
// and the beat; S2 the address row * NB + beat, NB's set bits as shifted adds (no multiplier).
`default_nettype none

module act_buffer_seq #(
    parameter int NB = 6,      // beats a row (the row stride)
    parameter int RW = 8,      // row number bits
    parameter int AW = 10,     // address bits
    localparam int KW = 11,    // the command's row count / index
    localparam int BW = 6      // a beat index
) (
    input  logic          clk,
    input  logic          rst_n,
    // the pending command
    input  logic          pend_v,
    input  logic          pend_rdy,
    input  logic          allow,
    input  logic          pend_blk,
    input  logic          pend_lst,
    input  logic [BW-1:0] pend_first,
    input  logic [BW-1:0] pend_nb_m1,
    input  logic [RW-1:0] pend_base,
    input  logic [KW-1:0] pend_n_m1,
    input  logic          pend_half,
    output logic          launch,
    // its list: table writes
    input  logic          tab_we,
    input  logic          tab_half,
    input  logic [RW-1:0] tab_k,
    input  logic [RW-1:0] tab_row,
    // the running command
    input  logic          go,        // a beat may issue (write: wr_TVALID; read: an output credit)
    output logic          run_v,
    output logic          issue,
    output logic          s1_v,
    output logic          s2_v,
    output logic          s2_last,   // the command's last beat
    output logic [AW-1:0] s2_addr
);
  function automatic logic [AW-1:0] times_nb(input logic [RW-1:0] row);
    logic [AW-1:0] s;
    s = '0;
    for (int i = 0; i <= BW; i++)
      if (((NB >> i) & 1) != 0) s = s + (AW'(row) << i);
    return s;
  endfunction

  (* ram_style = "distributed" *) logic [RW-1:0] tab [2 << RW];
  always_ff @(posedge clk)
    if (tab_we) tab[{tab_half, tab_k}] <= tab_row;

  logic          blk, lst, half;
  logic [BW-1:0] first, nb_m1;
  logic [RW-1:0] base;
  logic [KW-1:0] n_m1;
  logic [KW-1:0] k, k_left;
  logic [BW-1:0] b, b_left;
  logic          k_last, b_last;
  logic [RW-1:0] rid;              // base + k

  assign issue = run_v && go;
  wire   last_beat = issue && k_last && b_last;
  assign launch = pend_v && pend_rdy && allow && (!run_v || last_beat);
  wire   step_b = blk ? k_last : 1'b1;     // the beat index moves on this issue
  wire   step_k = blk ? 1'b1 : b_last;     // the row index moves on this issue

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_v <= 1'b0;
    end else if (launch) begin
      run_v <= 1'b1;
    end else if (last_beat) begin
      run_v <= 1'b0;
    end
    if (launch) begin
      {blk, lst, half, first, nb_m1, base, n_m1} <= {pend_blk, pend_lst, pend_half, pend_first, pend_nb_m1, pend_base,
                                                     pend_n_m1};
      k <= '0;
      b <= pend_first;
      k_left <= pend_n_m1;
      b_left <= pend_nb_m1;
      k_last <= pend_n_m1 == '0;
      b_last <= pend_nb_m1 == '0;
      rid <= pend_base;
    end else if (issue) begin
      if (step_b) begin
        b <= b_last ? first : b + 1'b1;
        b_left <= b_last ? nb_m1 : b_left - 1'b1;
        b_last <= b_last ? nb_m1 == '0 : b_left == BW'(1);
      end
      if (step_k) begin
        k <= k_last ? '0 : k + 1'b1;
        k_left <= k_last ? n_m1 : k_left - 1'b1;
        k_last <= k_last ? n_m1 == '0 : k_left == KW'(1);
        rid <= k_last ? base : rid + 1'b1;
      end
    end
  end

  // S1: the row and beat of the beat issued in the cycle before; S2: its address
  logic          s1_last, s1_lst;
  logic [BW-1:0] s1_b;
  logic [RW-1:0] s1_rid, s1_tab;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      s1_v <= 1'b0;
      s2_v <= 1'b0;
    end else begin
      s1_v <= issue;
      s2_v <= s1_v;
    end
    s1_last <= last_beat;
    s1_lst <= lst;
    s1_b <= b;
    s1_rid <= rid;
    s1_tab <= tab[{half, RW'(k)}];
    s2_last <= s1_last;
    s2_addr <= AW'(32'(times_nb(s1_lst ? s1_tab : s1_rid)) + 32'(s1_b));   // < DEPTH: fits AW bits
  end
endmodule

`default_nettype wire
