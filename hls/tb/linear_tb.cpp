// C-simulation testbench of the unified compute unit (hls/tb/tb_io.h calling convention:
// linear_tb <vector_dir>). Vector folder: meta.txt (jobs), jobs.txt, expected.txt. The outputs are
// every job's output values, job after job (store: rows x out_dim; accumulate: the whole
// destination; patch: NUM_TOKENS x FEATURE_DIM), raw act_t.
//
// jobs.txt (whitespace separated; written by cosim/linear_jobs.py: write_jobs) runs a sequence of
// layers through linear_pingpong_step, i.e. with the ping-pong schedule: job n computes from one
// buffer pair while job n+1's weights load into the other.
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

struct Job {
    linear_job_t job;
    linear_weight_kind w_kind;
    linear_bias_kind b_kind;
    bool src_prev;
    std::vector<act_t> src, pos, dst, scores;
    std::vector<pixel_t> image;
    std::vector<unsigned> gather, scatter;
    std::vector<axi_word_t> w, b;
    size_t src_rows = 0, dst_rows = 0;
};

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
        J.gather.resize(LINEAR_MAX_ROWS, 0);
        J.scatter.resize(LINEAR_MAX_ROWS, 0);
        J.scores.resize(LINEAR_MAX_ROWS, act_t(0));
        J.image.resize(IMAGE_CHANNELS * IMAGE_HEIGHT * IMAGE_WIDTH);
        J.pos.resize(NUM_TOKENS * FEATURE_DIM);
    }
    std::string extra;
    if (rd.f >> extra) fail(rd.path + ": unexpected trailing text '" + extra + "'");

    // The ping-pong schedule: layer 0 into ping, then each step computes layer n and loads n+1.
    linear_load_first(jobs[0].job.out_dim, jobs[0].job.in_dim, jobs[0].w_kind, jobs[0].b_kind, jobs[0].w.data(),
                      jobs[0].b.data());
    for (long long n = 0; n < njobs; n++) {
        Job& J = jobs[n];
        linear_next_t next = {false, 1, 1, LINEAR_W_WEIGHT, LINEAR_B_BIAS};
        const axi_word_t* nw = J.w.data();
        const axi_word_t* nb = J.b.data();
        if (n + 1 < njobs) {
            const Job& N = jobs[n + 1];
            next = {true, N.job.out_dim, N.job.in_dim, N.w_kind, N.b_kind};
            nw = N.w.data();
            nb = N.b.data();
        }
        const act_t* src = J.src_prev ? jobs[n - 1].dst.data() : J.src.data();
        linear_pingpong_step(n % 2 == 0, J.job, J.dst.data(), src, J.image.data(), J.pos.data(), J.gather.data(),
                             J.scatter.data(), J.scores.data(), next, nw, nb);
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
