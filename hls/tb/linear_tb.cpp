// C-simulation testbench of the unified compute unit (hls/tb/tb_io.h calling convention:
// linear_tb <vector_dir>). Vector folder: meta.txt (jobs), jobs.txt, expected.txt. The outputs are
// every job's output values, job after job (store: rows x out_dim; accumulate: the whole
// destination; patch: NUM_TOKENS x FEATURE_DIM), raw act_t.
//
// The testbench is the host: for each job it lays the operands out in memory as the accelerator's
// host does (weights and biases: the pack_matrix_axi / pack_vector_axi images of jobs.txt; activations,
// destination and position embedding: rows of act_t packed into AXI words, rows padded to whole
// words; the image: pixels packed into AXI words), calls linear_top once per job, in order, and reads
// the destination memory back. A chained job (src_prev = 1) passes the previous job's destination
// memory as its input, untouched. (On the device the calls are enqueued back to back: with
// ap_ctrl_chain the loader of job n+1 runs while job n computes; in C simulation the calls run one
// after the other, which gives the same memory contents.)
//
// jobs.txt (whitespace separated; written by cosim/linear_jobs.py: write_jobs):
//   linear_jobs <count>
//   then per job:
//   job <is_patch> <w_kind> <b_kind> <out_dim> <in_dim> <rows> <gelu> <mode> <use_gather> <use_scatter> <src_prev>
//   src <n> <n raw act_t>          linear job, src_prev = 0: the input matrix, row-major (n = src_rows * in_dim)
//                                  (src_prev = 1: the input is the previous job's output, no src section)
//   image <n> <n raw pixel_t>      patch job: pixel_t[C][H][W]
//   pos <n> <n raw act_t>          patch job: act_t[NUM_TOKENS][FEATURE_DIM]
//   gather <rows> <indices>        if use_gather
//   scatter <rows> <indices>       if use_scatter
//   scores <rows> <raw act_t>      if mode == 2
//   dst <n> <n raw act_t>          the destination before the job (accumulate modes; n = dst_rows * out_dim)
//   wwords <n> <n hex words>       weight memory image (AXI_WIDTH-bit words, hex, no prefix)
//   bwords <n> <n hex words>       bias memory image
// Any malformed or out-of-range input stops with exit code 2 and a message naming the problem.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "linear.h"
#include "tb_io.h"

static void fail(const std::string& msg) { tb_fail(msg); }

struct Reader {
    std::ifstream f;
    std::string path;
    long long integer(const char* what) {
        long long v;
        if (!(f >> v)) fail(path + ": expected an integer (" + what + ")");
        return v;
    }
    void keyword(const char* kw) {
        std::string s;
        if (!(f >> s) || s != kw) fail(path + ": expected section '" + kw + "', got '" + s + "'");
    }
    std::vector<long long> section(const char* kw, size_t expect) {
        keyword(kw);
        long long n = integer(kw);
        if (n < 0 || (size_t)n != expect)
            fail(path + ": section '" + kw + "' has " + std::to_string(n) + " values, expected " + std::to_string(expect));
        std::vector<long long> v(n);
        for (long long i = 0; i < n; i++) v[i] = integer(kw);
        return v;
    }
    std::vector<axi_word_t> words(const char* kw) {
        keyword(kw);
        long long n = integer(kw);
        if (n < 0) fail(path + ": negative word count in '" + kw + "'");
        std::vector<axi_word_t> v(n);
        for (long long i = 0; i < n; i++) {
            std::string s;
            if (!(f >> s)) fail(path + ": missing word in '" + kw + "'");
            if (s.size() * 4 > (size_t)AXI_WIDTH + 3) fail(path + ": word '" + s + "' wider than AXI_WIDTH");
            axi_word_t w = 0;
            for (char c : s) {
                if (!std::isxdigit((unsigned char)c)) fail(path + ": '" + s + "' is not a hex word");
                int d = std::isdigit((unsigned char)c) ? c - '0' : std::tolower(c) - 'a' + 10;
                w = (w << 4) | axi_word_t(d);
            }
            v[i] = w;
        }
        return v;
    }
};

template <class T>
static T from_raw(long long raw, const char* what) {
    const long long lo = !is_ufixed<T>::value ? -(1LL << (T::width - 1)) : 0;
    const long long hi = !is_ufixed<T>::value ? (1LL << (T::width - 1)) - 1 : (1LL << T::width) - 1;
    if (raw < lo || raw > hi) fail(std::string(what) + ": raw value " + std::to_string(raw) + " out of range");
    T v;
    v.range(T::width - 1, 0) = ap_int<64>(raw);
    return v;
}

static long long to_raw(const act_t& v) {
    ap_int<ACT_W> r = v.range(ACT_W - 1, 0);
    return r.to_int64();
}

// One engine call as the host issues it.
struct CallArgs {
    bool is_patch;
    unsigned out_dim, in_dim, rows;
    bool use_gather, use_scatter, use_gelu;
    linear_out_mode mode;
};

struct Job {
    CallArgs job;
    linear_weight_kind w_kind;
    linear_bias_kind b_kind;
    bool src_prev;
    std::vector<act_t> src, pos, dst, scores;
    std::vector<pixel_t> image;
    std::vector<unsigned> gather, scatter;
    std::vector<axi_word_t> w, b;
    size_t src_rows = 0, dst_rows = 0;
    std::vector<axi_word_t> dst_mem;  // the destination memory (the host's buffer), after the call
};

// The activation memory layout (linear.h): row r of an n-column matrix in words r*R .. r*R+R-1,
// R = ceil(n / LINEAR_A_PER_WORD), value c in lane c % LINEAR_A_PER_WORD of word r*R + c / LINEAR_A_PER_WORD.
constexpr size_t ACT_MEM_WORDS = LINEAR_X_WORDS > LINEAR_Y_WORDS ? LINEAR_X_WORDS : LINEAR_Y_WORDS;
static size_t row_words(size_t n) { return (n + LINEAR_A_PER_WORD - 1) / LINEAR_A_PER_WORD; }

static std::vector<axi_word_t> pack_act(const std::vector<act_t>& v, size_t cols, size_t words) {
    std::vector<axi_word_t> mem(words, axi_word_t(0));
    const size_t R = row_words(cols);
    for (size_t i = 0; i < v.size(); i++) {
        const size_t r = i / cols, c = i % cols, lane = c % LINEAR_A_PER_WORD;
        mem[r * R + c / LINEAR_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W) = v[i].range(ACT_W - 1, 0);
    }
    return mem;
}

static std::vector<act_t> unpack_act(const std::vector<axi_word_t>& mem, size_t rows, size_t cols) {
    std::vector<act_t> v(rows * cols);
    const size_t R = row_words(cols);
    for (size_t i = 0; i < v.size(); i++) {
        const size_t r = i / cols, c = i % cols, lane = c % LINEAR_A_PER_WORD;
        v[i].range(ACT_W - 1, 0) = mem[r * R + c / LINEAR_A_PER_WORD](lane * ACT_W + ACT_W - 1, lane * ACT_W);
    }
    return v;
}

int main(int argc, char** argv) {
    const TbArgs a = tb_args(argc, argv);
    Reader rd;
    rd.path = a.path("jobs.txt");
    rd.f.open(rd.path);
    if (!rd.f) fail("cannot open " + rd.path);
    rd.keyword("linear_jobs");
    const long long njobs = rd.integer("job count");
    if (njobs < 1) fail("need at least one job");
    std::vector<Job> jobs(njobs);
    for (long long n = 0; n < njobs; n++) {
        Job& J = jobs[n];
        const std::string tag = "job " + std::to_string(n);
        rd.keyword("job");
        J.job.is_patch = rd.integer("is_patch") != 0;
        J.w_kind = linear_weight_kind(rd.integer("w_kind"));
        J.b_kind = linear_bias_kind(rd.integer("b_kind"));
        long long out_dim = rd.integer("out_dim"), in_dim = rd.integer("in_dim"), rows = rd.integer("rows");
        J.job.use_gelu = rd.integer("gelu") != 0;
        long long mode = rd.integer("mode");
        J.job.use_gather = rd.integer("use_gather") != 0;
        J.job.use_scatter = rd.integer("use_scatter") != 0;
        J.src_prev = rd.integer("src_prev") != 0;
        if (out_dim < 1 || out_dim > LINEAR_MAX_OUT || in_dim < 1 || in_dim > LINEAR_MAX_IN)
            fail(tag + ": shape " + std::to_string(out_dim) + "x" + std::to_string(in_dim) + " outside the engine (max " +
                 std::to_string(LINEAR_MAX_OUT) + "x" + std::to_string(LINEAR_MAX_IN) + ")");
        if (linear_tiles(out_dim, in_dim) > LINEAR_MAX_TILES)
            fail(tag + ": " + std::to_string(linear_tiles(out_dim, in_dim)) + " tiles exceed the tile buffer (" +
                 std::to_string(LINEAR_MAX_TILES) + ")");
        if (rows < 1 || rows > LINEAR_MAX_ROWS) fail(tag + ": rows must be 1.." + std::to_string(LINEAR_MAX_ROWS));
        if (mode < 0 || mode > 2) fail(tag + ": mode must be 0 (store), 1 (accumulate) or 2 (scaled)");
        if (J.w_kind != LINEAR_W_WEIGHT && J.w_kind != LINEAR_W_PATCH) fail(tag + ": w_kind must be 0 or 1");
        if (J.b_kind != LINEAR_B_BIAS && J.b_kind != LINEAR_B_ATTN) fail(tag + ": b_kind must be 0 or 1");
        J.job.out_dim = out_dim;
        J.job.in_dim = in_dim;
        J.job.rows = rows;
        J.job.mode = linear_out_mode(mode);
        if (J.job.is_patch) {
            if (out_dim != FEATURE_DIM || in_dim != PATCH_IN_DIM || rows != NUM_PATCHES)
                fail(tag + ": a patch job is FEATURE_DIM x PATCH_IN_DIM over NUM_PATCHES rows");
            for (long long v : rd.section("image", IMAGE_CHANNELS * IMAGE_HEIGHT * IMAGE_WIDTH))
                J.image.push_back(from_raw<pixel_t>(v, "image"));
            for (long long v : rd.section("pos", NUM_TOKENS * FEATURE_DIM)) J.pos.push_back(from_raw<act_t>(v, "pos"));
            J.dst.resize(NUM_TOKENS * FEATURE_DIM);
            J.dst_rows = NUM_TOKENS;
        } else {
            if (J.src_prev) {
                if (n == 0) fail(tag + ": src_prev on the first job");
                const Job& P = jobs[n - 1];
                const size_t pcols = P.job.is_patch ? FEATURE_DIM : P.job.out_dim;
                if (pcols != (size_t)in_dim) fail(tag + ": in_dim differs from the previous job's output width");
                J.src_rows = P.dst_rows;
            } else {
                rd.keyword("src");
                long long cnt = rd.integer("src count");
                if (cnt < in_dim || cnt % in_dim) fail(tag + ": src count must be a positive multiple of in_dim");
                J.src_rows = cnt / in_dim;
                for (long long i = 0; i < cnt; i++) J.src.push_back(from_raw<act_t>(rd.integer("src"), "src"));
            }
            if (J.job.use_gather) {
                for (long long v : rd.section("gather", rows)) {
                    if (v < 0 || (size_t)v >= J.src_rows) fail(tag + ": gather index " + std::to_string(v) + " out of range");
                    J.gather.push_back(v);
                }
            } else if ((size_t)rows > J.src_rows) {
                fail(tag + ": rows exceed the source rows");
            }
            if (J.job.use_scatter) {
                for (long long v : rd.section("scatter", rows)) {
                    if (v < 0) fail(tag + ": negative scatter index");
                    J.scatter.push_back(v);
                }
            }
            if (mode == 2)
                for (long long v : rd.section("scores", rows)) J.scores.push_back(from_raw<act_t>(v, "scores"));
            rd.keyword("dst");
            long long cnt = rd.integer("dst count");
            if (cnt < 0 || cnt % out_dim) fail(tag + ": dst count must be a multiple of out_dim");
            J.dst_rows = cnt / out_dim;
            for (long long i = 0; i < cnt; i++) J.dst.push_back(from_raw<act_t>(rd.integer("dst"), "dst"));
            if (mode == LINEAR_STORE) {
                if ((long long)J.dst_rows != rows) fail(tag + ": store mode needs dst of rows x out_dim");
            } else {
                std::vector<bool> hit(J.dst_rows, false);
                for (size_t k = 0; k < (size_t)rows; k++) {
                    size_t t = J.job.use_scatter ? J.scatter[k] : k;
                    if (t >= J.dst_rows) fail(tag + ": scatter target " + std::to_string(t) + " outside dst");
                    // the engine's contract (python_ref/kernels/linear.py): distinct targets per call
                    if (hit[t]) fail(tag + ": scatter target " + std::to_string(t) + " repeats within one call");
                    hit[t] = true;
                }
            }
        }
        J.w = rd.words("wwords");
        J.b = rd.words("bwords");
        const size_t epw = AXI_WIDTH / WEIGHT_W, epb = AXI_WIDTH / BIAS_W;
        if (J.w.size() != (size_t)out_dim * ((in_dim + epw - 1) / epw)) fail(tag + ": wrong number of weight words");
        if (J.b.size() != (out_dim + epb - 1) / epb) fail(tag + ": wrong number of bias words");
        if (J.w.size() > (size_t)LINEAR_W_WORDS) fail(tag + ": weight image exceeds the weight memory (LINEAR_W_WORDS)");
        if (J.src_rows > (size_t)LINEAR_MAX_ROWS || J.dst_rows > (size_t)LINEAR_MAX_ROWS)
            fail(tag + ": source or destination has more than LINEAR_MAX_ROWS rows");
        J.gather.resize(LINEAR_MAX_ROWS, 0);
        J.scatter.resize(LINEAR_MAX_ROWS, 0);
        J.scores.resize(LINEAR_MAX_ROWS, act_t(0));
    }
    std::string extra;
    if (rd.f >> extra) fail(rd.path + ": unexpected trailing text '" + extra + "'");

    // The host: one linear_top call per job, in order, on memory laid out as on the device.
    for (long long n = 0; n < njobs; n++) {
        Job& J = jobs[n];
        std::vector<axi_word_t> w(LINEAR_W_WORDS, axi_word_t(0)), b(LINEAR_B_WORDS, axi_word_t(0));
        std::copy(J.w.begin(), J.w.end(), w.begin());
        std::copy(J.b.begin(), J.b.end(), b.begin());
        std::vector<axi_word_t> x(ACT_MEM_WORDS, axi_word_t(0)), image(LINEAR_IMAGE_WORDS, axi_word_t(0));
        std::vector<axi_word_t> pos(LINEAR_POS_WORDS, axi_word_t(0));
        const size_t out_cols = J.job.is_patch ? FEATURE_DIM : J.job.out_dim;
        if (J.job.is_patch) {
            for (size_t i = 0; i < J.image.size(); i++) {
                const size_t lane = i % LINEAR_P_PER_WORD;
                image[i / LINEAR_P_PER_WORD](lane * PIXEL_W + PIXEL_W - 1, lane * PIXEL_W) =
                    J.image[i].range(PIXEL_W - 1, 0);
            }
            pos = pack_act(J.pos, FEATURE_DIM, LINEAR_POS_WORDS);
            J.dst_mem.assign(ACT_MEM_WORDS, axi_word_t(0));
        } else {
            x = J.src_prev ? jobs[n - 1].dst_mem : pack_act(J.src, J.job.in_dim, ACT_MEM_WORDS);
            J.dst_mem = pack_act(J.dst, out_cols, ACT_MEM_WORDS);
        }
        linear_top(w.data(), b.data(), x.data(), image.data(), pos.data(), J.dst_mem.data(), J.gather.data(),
                   J.scatter.data(), J.scores.data(), J.job.out_dim, J.job.in_dim, J.job.rows, J.w_kind, J.b_kind,
                   J.job.mode, J.job.use_gelu, J.job.use_gather, J.job.use_scatter, J.job.is_patch);
        J.dst = unpack_act(J.dst_mem, J.dst_rows, out_cols);
    }

    std::vector<long long> out;
    std::vector<std::pair<long long, size_t>> where;  // (job, value) of every output
    for (long long n = 0; n < njobs; n++)
        for (size_t i = 0; i < jobs[n].dst.size(); i++) {
            out.push_back(to_raw(jobs[n].dst[i]));
            where.emplace_back(n, i);
        }
    return tb_finish("linear_tb", a, out, [&](size_t k) {
        return "job " + std::to_string(where[k].first) + " value " + std::to_string(where[k].second);
    });
}
