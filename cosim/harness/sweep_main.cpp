// Full-rate sweep driver for one Verilated unit wrapper (cosim/harness/sweep_<unit>.sv), without
// cocotb: cosim/exhaustive.py builds it with `verilator --cc --exe --build --prefix Vsweep_top`.
//
// The wrapper has LANES 64-bit input lanes and LANES 64-bit output lanes behind one AXI-Stream
// handshake (x_valid/x_ready/x_last, y_valid/y_ready/y_last). Every cycle the driver offers the
// next beat (x_valid stays high while values remain) and takes every output beat (y_ready is
// always high), so the unit runs at its full rate and the sweep rate is the model's speed.
//
// Inputs, one of:
//   --range START COUNT STEP   values START + k * STEP, k = 0 .. COUNT-1 (a counter: no input file)
//   --stdin                    little-endian int64 values read from stdin until EOF
// Values fill the lanes of consecutive beats in order; a last partial beat is padded with copies
// of its last value, and padded lanes produce no output.
//
// Output: the low 64 bits of every value's output lane, little-endian uint64, on stdout, in input
// order (nothing else is written to stdout). At the end one line "SWEEP_STATS {json}" on stderr:
// cycles, beats and values in and out, input stall cycles, TLAST and lane-lockstep errors, the
// cycles of the first input and output handshakes (the latency) and of the last input handshake.
// Exit codes: 0 done (numerical comparison is the caller's job), 2 usage, 3 hang (no handshake
// for --idle-limit cycles), 4 output pipe closed / I/O error.
//
// With --stdin the driver drains the pipeline and flushes stdout before every blocking read, so
// a caller that writes inputs and reads outputs from two threads can never deadlock with it.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vsweep_top.h"
#include "verilated.h"

namespace {

constexpr size_t IN_BYTES = sizeof(Vsweep_top::x_data);
constexpr size_t LANES = IN_BYTES / 8;
static_assert(IN_BYTES % 8 == 0 && LANES >= 1, "x_data must be a whole number of 64-bit lanes");
static_assert(sizeof(Vsweep_top::y_data) == IN_BYTES, "y_data must have as many 64-bit lanes as x_data");
// TLAST rides on every 7th beat (a pattern no lane count divides), checked on the output beats.
constexpr uint64_t LAST_PERIOD = 7;

[[noreturn]] void die(int code, const std::string& msg) {
    std::fprintf(stderr, "sweep_harness: %s\n", msg.c_str());
    std::exit(code);
}

bool write_all(int fd, const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Source of input values: a counter or stdin.
class Source {
   public:
    virtual ~Source() = default;
    // Append up to `max` values to `buf`; may block. Returns false at the end of the input.
    virtual bool fill(std::vector<int64_t>& buf, size_t max) = 0;
    virtual bool blocking() const = 0;
};

class RangeSource : public Source {
   public:
    RangeSource(int64_t start, uint64_t count, int64_t step) : next_(start), left_(count), step_(step) {}
    bool fill(std::vector<int64_t>& buf, size_t max) override {
        size_t n = left_ < max ? static_cast<size_t>(left_) : max;
        for (size_t i = 0; i < n; i++) {
            buf.push_back(next_);
            next_ += step_;
        }
        left_ -= n;
        return left_ > 0;
    }
    bool blocking() const override { return false; }

   private:
    int64_t next_;
    uint64_t left_;
    int64_t step_;
};

class StdinSource : public Source {
   public:
    bool fill(std::vector<int64_t>& buf, size_t max) override {
        if (eof_) return false;
        std::vector<char> raw(max * 8);
        size_t have = carry_.size();
        std::memcpy(raw.data(), carry_.data(), have);
        // one read: return what is there instead of waiting for `max` values
        for (;;) {
            ssize_t r = ::read(0, raw.data() + have, raw.size() - have);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) die(4, std::string("reading stdin: ") + std::strerror(errno));
            if (r == 0) eof_ = true;
            have += static_cast<size_t>(r);
            if (eof_ || have >= 8) break;
        }
        size_t whole = have / 8;
        size_t old = buf.size();
        buf.resize(old + whole);
        std::memcpy(buf.data() + old, raw.data(), whole * 8);
        carry_.assign(raw.data() + whole * 8, raw.data() + have);
        if (eof_ && !carry_.empty()) die(2, "stdin ended inside an int64 value");
        return !eof_;
    }
    bool blocking() const override { return true; }

   private:
    bool eof_ = false;
    std::vector<char> carry_;
};

class Output {
   public:
    void push(uint64_t v) {
        buf_.push_back(v);
        if (buf_.size() >= (1u << 16)) flush();
    }
    void flush() {
        if (!buf_.empty() && !write_all(1, buf_.data(), buf_.size() * 8))
            die(4, std::string("writing stdout: ") + std::strerror(errno));
        buf_.clear();
    }

   private:
    std::vector<uint64_t> buf_;
};

struct Stats {
    uint64_t cycles = 0, in_beats = 0, out_beats = 0, values = 0, out_values = 0;
    uint64_t in_stall_cycles = 0, tlast_errors = 0, desync_cycles = 0;
    uint64_t first_in_cycle = 0, first_out_cycle = 0, last_in_cycle = 0;
};

void usage() {
    die(2, "usage: sweep_harness (--range START COUNT STEP | --stdin) [--seed N] [--idle-limit CYCLES]");
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a closed output pipe becomes a write error (exit 4)
    std::unique_ptr<Source> src;
    uint64_t seed = 1, idle_limit = 100000;
    for (int a = 1; a < argc; a++) {
        std::string s = argv[a];
        if (s == "--range" && a + 3 < argc) {
            int64_t start = std::strtoll(argv[a + 1], nullptr, 0);
            uint64_t count = std::strtoull(argv[a + 2], nullptr, 0);
            int64_t step = std::strtoll(argv[a + 3], nullptr, 0);
            src.reset(new RangeSource(start, count, step));
            a += 3;
        } else if (s == "--stdin") {
            src.reset(new StdinSource());
        } else if (s == "--seed" && a + 1 < argc) {
            seed = std::strtoull(argv[++a], nullptr, 0);
        } else if (s == "--idle-limit" && a + 1 < argc) {
            idle_limit = std::strtoull(argv[++a], nullptr, 0);
        } else {
            usage();
        }
    }
    if (!src) usage();

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->randReset(2);  // registers without reset start random (as --x-initial unique asks)
    ctx->randSeed(static_cast<int>((seed & 0x7fffffff) ? (seed & 0x7fffffff) : 1));
    auto top = std::make_unique<Vsweep_top>(ctx.get());
    const auto t0 = std::chrono::steady_clock::now();

    // reset: 4 cycles with nothing offered
    top->x_valid = 0;
    top->x_last = 0;
    top->y_ready = 1;
    top->ap_rst_n = 0;
    for (int i = 0; i < 4; i++) {
        top->ap_clk = 0;
        top->eval();
        top->ap_clk = 1;
        top->eval();
    }
    top->ap_rst_n = 1;

    Stats st;
    Output out;
    std::vector<int64_t> in;      // buffered input values
    size_t pos = 0;               // next unused value in `in`
    bool more = true;             // the source may still deliver values
    const size_t read_block = 1u << 16;
    uint8_t beat[IN_BYTES];
    bool have_beat = false;
    size_t beat_values = 0;       // real (not padded) values in the current beat
    std::vector<uint32_t> pending;  // real values per accepted beat, oldest first (a small FIFO)
    size_t pending_head = 0;
    uint64_t idle = 0;

    // One clock cycle: offer the current beat (if any), settle, sample both handshakes (y_ready is
    // always high, so y_valid is an output handshake), clock edge. Returns whether anything moved.
    auto clock_cycle = [&]() -> bool {
        top->x_valid = have_beat;
        if (have_beat) {
            std::memcpy(&top->x_data, beat, IN_BYTES);
            top->x_last = (st.in_beats % LAST_PERIOD) == LAST_PERIOD - 1;
        }
        top->y_ready = 1;
        top->ap_clk = 0;
        top->eval();
        const bool in_fire = have_beat && top->x_ready;
        const bool out_fire = top->y_valid;
        if (have_beat && !top->x_ready) st.in_stall_cycles++;
        if (top->desync) st.desync_cycles++;
        if (out_fire) {
            if (pending_head == pending.size()) die(3, "output beat with no input beat outstanding");
            uint64_t y[LANES];
            std::memcpy(y, &top->y_data, IN_BYTES);
            const uint32_t n = pending[pending_head++];
            for (uint32_t i = 0; i < n; i++) out.push(y[i]);
            st.out_values += n;
            if (static_cast<bool>(top->y_last) != (st.out_beats % LAST_PERIOD == LAST_PERIOD - 1)) st.tlast_errors++;
            if (!st.out_beats) st.first_out_cycle = st.cycles;
            st.out_beats++;
        }
        top->ap_clk = 1;
        top->eval();
        if (in_fire) {
            pending.push_back(static_cast<uint32_t>(beat_values));
            if (!st.in_beats) st.first_in_cycle = st.cycles;
            st.in_beats++;
            st.values += beat_values;
            st.last_in_cycle = st.cycles;
            pos += beat_values;
            have_beat = false;
        }
        if (pending_head > 4096) {  // keep the FIFO of outstanding beats small
            pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pending_head));
            pending_head = 0;
        }
        st.cycles++;
        if (in_fire || out_fire) {
            idle = 0;
        } else if (++idle > idle_limit) {
            die(3, "hang: no handshake for " + std::to_string(idle_limit) + " cycles (" +
                       std::to_string(st.in_beats) + " beats in, " + std::to_string(st.out_beats) + " out)");
        }
        return in_fire || out_fire;
    };

    for (;;) {
        // ---- form the next beat (LANES values; a padded one only at the end of the input)
        if (!have_beat) {
            if (in.size() - pos < LANES && more) {
                if (src->blocking()) {
                    // drain and flush before a read that may block: the caller has every output
                    // of every value sent so far, whatever it waits for
                    while (st.out_beats < st.in_beats) clock_cycle();
                    out.flush();
                }
                in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(pos));
                pos = 0;
                while (in.size() < LANES && more) more = src->fill(in, read_block);
                if (!src->blocking() && more && in.size() < read_block) more = src->fill(in, read_block - in.size());
            }
            const size_t avail = in.size() - pos;
            if (avail) {
                beat_values = avail < LANES ? avail : LANES;
                for (size_t i = 0; i < LANES; i++) {
                    const int64_t v = in[pos + (i < beat_values ? i : beat_values - 1)];
                    std::memcpy(beat + 8 * i, &v, 8);
                }
                have_beat = true;
            }
        }
        if (!have_beat && st.out_beats == st.in_beats) break;
        clock_cycle();
    }
    out.flush();
    top->final();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    timespec cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    std::fprintf(stderr,
                 "SWEEP_STATS {\"lanes\": %zu, \"cycles\": %llu, \"in_beats\": %llu, \"out_beats\": %llu, "
                 "\"values\": %llu, \"out_values\": %llu, \"in_stall_cycles\": %llu, \"tlast_errors\": %llu, "
                 "\"desync_cycles\": %llu, \"first_in_cycle\": %llu, \"first_out_cycle\": %llu, \"last_in_cycle\": %llu, "
                 "\"seconds\": %.6f, "
                 "\"cpu_seconds\": %.6f}\n",
                 LANES, (unsigned long long)st.cycles, (unsigned long long)st.in_beats,
                 (unsigned long long)st.out_beats, (unsigned long long)st.values,
                 (unsigned long long)st.out_values, (unsigned long long)st.in_stall_cycles,
                 (unsigned long long)st.tlast_errors, (unsigned long long)st.desync_cycles,
                 (unsigned long long)st.first_in_cycle, (unsigned long long)st.first_out_cycle,
                 (unsigned long long)st.last_in_cycle, secs,
                 static_cast<double>(cpu.tv_sec) + 1e-9 * static_cast<double>(cpu.tv_nsec));
    return 0;
}
