/*
 * conv_engine.c - direct convolution with a register-tiled inner kernel.
 *
 * The three products of a convolution layer,
 *     out[f, p]  = sum_k W[f, k] X[k, p]          (forward)
 *     dW[f, k]  += sum_p dout[f, p] X[k, p]       (weight gradient)
 *     dx         = the adjoint of the forward map  (data gradient)
 * with k = (c, i, j) a kernel tap and p = (oh, ow) an output pixel, are what
 * im2col + GEMM computes, but X[k, p] = x[c, oh s - pad + i d, ow s - pad +
 * j d] is never written out: on a zero-padded copy of the image, X[k, p] is
 * the value at address koff[k] + poff[p], a sum of a per-tap and a per-pixel
 * offset. One inner kernel serves all three products:
 *
 *     tile[q][l] += sum_t A[t][l] * base_q[offset[t]]
 *
 * for 2 vectors' worth of lanes l (16 floats, 8 doubles) and 6 columns q:
 * 12 accumulators held in registers, 2 vector loads and 6 broadcasts per
 * step t, and nothing copied into an unrolled matrix. Forward: lanes are
 * filters (A = weights repacked [k][f]), columns are 6 output pixels
 * (base_q = image + poff[p_q]), steps walk the taps (offset = koff). Weight
 * gradient: lanes are filters (A = dout transposed to [p][f]), columns are 6
 * taps (base_q = image + koff[k_q]), steps walk the pixels (offset = poff).
 *
 * Data gradient, dx[c, y, x] = sum_{f,i,j} W[f,c,i,j] dout[f, oh, ow] over
 * the (i, j) for which y = oh s - pad + i d has an integer solution oh (and
 * likewise x): the input pixels split into s_h x s_w phases by
 * (y + pad) mod s, and within a phase the contributing taps are fixed and oh
 * = (y + pad - r)/s - (i d - r)/s is again a per-pixel plus a per-tap
 * offset into a zero-padded dout. So dx is the same kernel with lanes =
 * input channels and columns = 6 input pixels of one phase, with no
 * multiplications by inserted zeros. For stride 1 there is one phase and it
 * is a convolution of the padded dout with the flipped kernel.
 *
 * Work is split over images (forward, data gradient) and over tiles of
 * dW (weight gradient), so that every value is computed by one thread in a
 * fixed order: results do not depend on the number of threads.
 */
#include "nn/conv_engine.h"

#include "nn/parallel.h"

#include <stdint.h>
#include <string.h>

/* ---- vectors: AVX2 + FMA intrinsics when the compiler targets them, else
 * GCC's generic vectors (correct everywhere, fused nowhere) ---------------- */

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#if NN_REAL_IS_DOUBLE
typedef __m256d vreal;
#define VLANES 4
#define VLOAD(p) _mm256_loadu_pd(p)
#define VSTORE(p, v) _mm256_storeu_pd((p), (v))
#define VBROADCAST(p) _mm256_broadcast_sd(p)
#define VFMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#else
typedef __m256 vreal;
#define VLANES 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VBROADCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#endif
#else
typedef nn_real vreal __attribute__((vector_size(32)));
typedef nn_real vreal_unaligned
    __attribute__((vector_size(32), aligned(sizeof(nn_real)), may_alias));
#define VLANES ((int)(32 / sizeof(nn_real)))
#define VLOAD(p) (*(const vreal_unaligned *)(p))
#define VSTORE(p, v) (*(vreal_unaligned *)(p) = (v))
#define VBROADCAST(p) ((vreal){ 0 } + *(p))
#define VFMA(a, b, c) ((a) * (b) + (c))
#endif

#define TILE_LANES (2 * VLANES) /* rows of a tile: filters or channels */
#define TILE_COLS 6             /* columns of a tile: pixels or taps */
#define TILE_SIZE (TILE_LANES * TILE_COLS)

/* Below this many multiply-adds per thread, starting threads costs more
 * than it saves. */
#define WORK_PER_THREAD 2e6

/*
 * tile[q][l] += sum_{t < steps} a[t][l] * base[q][offsets[t]], with tile
 * (TILE_COLS, TILE_LANES) and a (steps, TILE_LANES) both contiguous.
 */
static void tile_kernel(nn_real *restrict tile, const nn_real *restrict a,
                        const nn_real *const base[TILE_COLS], const ptrdiff_t *restrict offsets,
                        int steps)
{
    vreal c00 = VLOAD(tile + 0 * TILE_LANES), c01 = VLOAD(tile + 0 * TILE_LANES + VLANES);
    vreal c10 = VLOAD(tile + 1 * TILE_LANES), c11 = VLOAD(tile + 1 * TILE_LANES + VLANES);
    vreal c20 = VLOAD(tile + 2 * TILE_LANES), c21 = VLOAD(tile + 2 * TILE_LANES + VLANES);
    vreal c30 = VLOAD(tile + 3 * TILE_LANES), c31 = VLOAD(tile + 3 * TILE_LANES + VLANES);
    vreal c40 = VLOAD(tile + 4 * TILE_LANES), c41 = VLOAD(tile + 4 * TILE_LANES + VLANES);
    vreal c50 = VLOAD(tile + 5 * TILE_LANES), c51 = VLOAD(tile + 5 * TILE_LANES + VLANES);
    const nn_real *b0 = base[0], *b1 = base[1], *b2 = base[2];
    const nn_real *b3 = base[3], *b4 = base[4], *b5 = base[5];
    for (int t = 0; t < steps; t++) {
        const ptrdiff_t o = offsets[t];
        const vreal a0 = VLOAD(a), a1 = VLOAD(a + VLANES);
        vreal v;
        a += TILE_LANES;
        v = VBROADCAST(b0 + o);
        c00 = VFMA(a0, v, c00);
        c01 = VFMA(a1, v, c01);
        v = VBROADCAST(b1 + o);
        c10 = VFMA(a0, v, c10);
        c11 = VFMA(a1, v, c11);
        v = VBROADCAST(b2 + o);
        c20 = VFMA(a0, v, c20);
        c21 = VFMA(a1, v, c21);
        v = VBROADCAST(b3 + o);
        c30 = VFMA(a0, v, c30);
        c31 = VFMA(a1, v, c31);
        v = VBROADCAST(b4 + o);
        c40 = VFMA(a0, v, c40);
        c41 = VFMA(a1, v, c41);
        v = VBROADCAST(b5 + o);
        c50 = VFMA(a0, v, c50);
        c51 = VFMA(a1, v, c51);
    }
    VSTORE(tile + 0 * TILE_LANES, c00), VSTORE(tile + 0 * TILE_LANES + VLANES, c01);
    VSTORE(tile + 1 * TILE_LANES, c10), VSTORE(tile + 1 * TILE_LANES + VLANES, c11);
    VSTORE(tile + 2 * TILE_LANES, c20), VSTORE(tile + 2 * TILE_LANES + VLANES, c21);
    VSTORE(tile + 3 * TILE_LANES, c30), VSTORE(tile + 3 * TILE_LANES + VLANES, c31);
    VSTORE(tile + 4 * TILE_LANES, c40), VSTORE(tile + 4 * TILE_LANES + VLANES, c41);
    VSTORE(tile + 5 * TILE_LANES, c50), VSTORE(tile + 5 * TILE_LANES + VLANES, c51);
}

/* ---- the plan: sizes and where each buffer lives in the workspace -------- */

typedef struct conv_plan {
    int batch, channels, height, width, filters;
    int kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
    int hp, wp;                /* zero-padded input, (H + 2 pad_h, W + 2 pad_w) */
    size_t in_plane;           /* hp * wp */
    int positions;             /* OH * OW output pixels */
    int taps;                  /* C * KH * KW */
    int filter_blocks;         /* ceil(F / TILE_LANES) */
    int channel_blocks;        /* ceil(C / TILE_LANES) */
    int tap_tiles;             /* ceil(taps / TILE_COLS) */
    /* data gradient: dout zero-padded to (ohq, owq), its pixel (0, 0) at
     * (top, left) */
    int top, left, ohq, owq;
    size_t out_plane;          /* ohq * owq */
    int phases;                /* sh * sw */
    int dx_steps;              /* F * KH * KW, over all phases */
    /* byte offsets of the buffers from the 64-byte aligned workspace start */
    size_t at_xpad, at_wpack, at_koff, at_poff;
    size_t at_doutb, at_dwacc, at_dbias, at_doutq, at_wpackt;
    size_t at_phase_pos, at_phase_step, at_dx_base, at_dx_out, at_dx_off;
    size_t bytes;
} conv_plan;

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

static size_t region(size_t *cursor, size_t bytes)
{
    size_t at = *cursor;
    *cursor = round_up(at + bytes, 64);
    return at;
}

static int ceil_div(int a, int b)
{
    return (a + b - 1) / b;
}

static void plan_init(conv_plan *p, int batch, int filters, const nn_conv_geometry *g)
{
    *p = (conv_plan){
        .batch = batch, .channels = g->channels, .height = g->height, .width = g->width,
        .filters = filters,
        .kh = g->kernel_height, .kw = g->kernel_width,
        .sh = g->stride_height, .sw = g->stride_width,
        .ph = g->padding_height, .pw = g->padding_width,
        .dh = g->dilation_height, .dw = g->dilation_width,
        .oh = g->output_height, .ow = g->output_width,
    };
    p->hp = p->height + 2 * p->ph;
    p->wp = p->width + 2 * p->pw;
    p->in_plane = (size_t)p->hp * (size_t)p->wp;
    p->positions = p->oh * p->ow;
    p->taps = p->channels * p->kh * p->kw;
    p->filter_blocks = ceil_div(filters, TILE_LANES);
    p->channel_blocks = ceil_div(p->channels, TILE_LANES);
    p->tap_tiles = ceil_div(p->taps, TILE_COLS);

    /* Rows of dout that a phase reads: (y + pad - r)/s - q with q in
     * [0, (KH-1) d / s], for y in [0, H): pad above by the largest q, below
     * by how far (H - 1 + pad)/s runs past the last output row. */
    p->top = (p->kh - 1) * p->dh / p->sh;
    p->left = (p->kw - 1) * p->dw / p->sw;
    int bottom = (p->height - 1 + p->ph) / p->sh - (p->oh - 1);
    int right = (p->width - 1 + p->pw) / p->sw - (p->ow - 1);
    p->ohq = p->top + p->oh + (bottom > 0 ? bottom : 0);
    p->owq = p->left + p->ow + (right > 0 ? right : 0);
    p->out_plane = (size_t)p->ohq * (size_t)p->owq;
    p->phases = p->sh * p->sw;
    p->dx_steps = filters * p->kh * p->kw;

    size_t n = (size_t)batch, real = sizeof(nn_real), offset = sizeof(ptrdiff_t);
    size_t cursor = 0;
    p->at_xpad = region(&cursor, n * (size_t)p->channels * p->in_plane * real);
    p->at_wpack = region(&cursor, (size_t)p->filter_blocks * (size_t)p->taps * TILE_LANES * real);
    p->at_koff = region(&cursor, (size_t)p->taps * offset);
    p->at_poff = region(&cursor, (size_t)p->positions * offset);
    p->at_doutb = region(&cursor, n * (size_t)p->filter_blocks * (size_t)p->positions
                                      * TILE_LANES * real);
    p->at_dwacc = region(&cursor, (size_t)p->filter_blocks * (size_t)p->tap_tiles
                                      * TILE_SIZE * real);
    p->at_dbias = region(&cursor, n * (size_t)filters * real);
    p->at_doutq = region(&cursor, n * (size_t)filters * p->out_plane * real);
    p->at_wpackt = region(&cursor, (size_t)p->channel_blocks * (size_t)p->dx_steps
                                       * TILE_LANES * real);
    p->at_phase_pos = region(&cursor, (size_t)(p->phases + 1) * offset);
    p->at_phase_step = region(&cursor, (size_t)(p->phases + 1) * offset);
    size_t pixels = (size_t)p->height * (size_t)p->width;
    p->at_dx_base = region(&cursor, pixels * offset);
    p->at_dx_out = region(&cursor, pixels * offset);
    p->at_dx_off = region(&cursor, (size_t)p->dx_steps * offset);
    p->bytes = cursor;
}

size_t nn_conv_engine_workspace_size(int batch, int filters, const nn_conv_geometry *g)
{
    conv_plan p;
    plan_init(&p, batch, filters, g);
    /* + 64 bytes: the caller's pointer is only nn_real-aligned */
    return (p.bytes + 64 + sizeof(nn_real) - 1) / sizeof(nn_real);
}

/* The buffers of a plan inside one workspace. The offset tables are
 * ptrdiff_t: the workspace is untyped scratch memory to the caller. */
typedef struct conv_buffers {
    nn_real *xpad;    /* (N, C, hp, wp) */
    nn_real *wpack;   /* (filter_blocks, taps, TILE_LANES) */
    ptrdiff_t *koff;  /* (taps): tap (c, i, j) -> c hp wp + i dh wp + j dw */
    ptrdiff_t *poff;  /* (positions): (oh, ow) -> oh sh wp + ow sw */
    nn_real *doutb;   /* (N, filter_blocks, positions, TILE_LANES) */
    nn_real *dwacc;   /* (filter_blocks, tap_tiles, TILE_COLS, TILE_LANES) */
    nn_real *dbias;   /* (N, F) per-image sums */
    nn_real *doutq;   /* (N, F, ohq, owq) */
    nn_real *wpackt;  /* (channel_blocks, dx_steps, TILE_LANES) */
    ptrdiff_t *phase_pos, *phase_step; /* (phases + 1) starts */
    ptrdiff_t *dx_base, *dx_out, *dx_off;
} conv_buffers;

static conv_buffers buffers_carve(const conv_plan *p, nn_real *workspace)
{
    unsigned char *start = (unsigned char *)workspace;
    start += (64 - (uintptr_t)start % 64) % 64;
#define AT(type, at) ((type *)(void *)(start + p->at))
    return (conv_buffers){
        .xpad = AT(nn_real, at_xpad), .wpack = AT(nn_real, at_wpack),
        .koff = AT(ptrdiff_t, at_koff), .poff = AT(ptrdiff_t, at_poff),
        .doutb = AT(nn_real, at_doutb), .dwacc = AT(nn_real, at_dwacc),
        .dbias = AT(nn_real, at_dbias), .doutq = AT(nn_real, at_doutq),
        .wpackt = AT(nn_real, at_wpackt),
        .phase_pos = AT(ptrdiff_t, at_phase_pos), .phase_step = AT(ptrdiff_t, at_phase_step),
        .dx_base = AT(ptrdiff_t, at_dx_base), .dx_out = AT(ptrdiff_t, at_dx_out),
        .dx_off = AT(ptrdiff_t, at_dx_off),
    };
#undef AT
}

static int thread_count(const conv_plan *p)
{
    double work = (double)p->batch * p->filters * p->taps * p->positions;
    int useful = (int)(work / WORK_PER_THREAD);
    int threads = nn_parallel_threads();
    return useful < 1 ? 1 : useful < threads ? useful : threads;
}

/* ---- shared preparation -------------------------------------------------- */

/* Copies one (C, H, W) image into the interior of a zero (C, hp, wp) one. */
static void pad_image(nn_real *padded, const nn_real *image, const conv_plan *p)
{
    const size_t row = (size_t)p->width;
    for (int c = 0; c < p->channels; c++) {
        nn_real *plane = padded + (size_t)c * p->in_plane;
        const nn_real *src = image + (size_t)c * (size_t)p->height * row;
        memset(plane, 0, (size_t)p->ph * (size_t)p->wp * sizeof *plane);
        nn_real *dst = plane + (size_t)p->ph * (size_t)p->wp;
        for (int y = 0; y < p->height; y++, dst += p->wp, src += row) {
            memset(dst, 0, (size_t)p->pw * sizeof *dst);
            memcpy(dst + p->pw, src, row * sizeof *dst);
            memset(dst + p->pw + p->width, 0, (size_t)p->pw * sizeof *dst);
        }
        memset(dst, 0, (size_t)p->ph * (size_t)p->wp * sizeof *dst);
    }
}

static void build_offsets(const conv_plan *p, ptrdiff_t *koff, ptrdiff_t *poff)
{
    ptrdiff_t *k = koff;
    for (int c = 0; c < p->channels; c++)
        for (int i = 0; i < p->kh; i++)
            for (int j = 0; j < p->kw; j++)
                *k++ = (ptrdiff_t)((size_t)c * p->in_plane) + (ptrdiff_t)i * p->dh * p->wp
                       + (ptrdiff_t)j * p->dw;
    ptrdiff_t *q = poff;
    for (int y = 0; y < p->oh; y++)
        for (int x = 0; x < p->ow; x++)
            *q++ = (ptrdiff_t)y * p->sh * p->wp + (ptrdiff_t)x * p->sw;
}

/* ---- forward ------------------------------------------------------------- */

typedef struct forward_job {
    const conv_plan *plan;
    conv_buffers buf;
    nn_real *out;
    const nn_real *x, *bias;
    bool accumulate;
} forward_job;

static void forward_image(void *context, int n)
{
    const forward_job *job = context;
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    nn_real *xpad = b->xpad + (size_t)n * (size_t)p->channels * p->in_plane;
    pad_image(xpad, job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width, p);

    const size_t positions = (size_t)p->positions;
    nn_real *out = job->out + (size_t)n * (size_t)p->filters * positions;
    nn_real tile[TILE_SIZE];
    for (int fb = 0; fb < p->filter_blocks; fb++) {
        const int f0 = fb * TILE_LANES;
        const int lanes = p->filters - f0 < TILE_LANES ? p->filters - f0 : TILE_LANES;
        const nn_real *a = b->wpack + (size_t)fb * (size_t)p->taps * TILE_LANES;
        for (int q0 = 0; q0 < p->positions; q0 += TILE_COLS) {
            const int cols = p->positions - q0 < TILE_COLS ? p->positions - q0 : TILE_COLS;
            const nn_real *base[TILE_COLS];
            for (int q = 0; q < TILE_COLS; q++)
                base[q] = xpad + b->poff[q0 + (q < cols ? q : cols - 1)];
            for (int q = 0; q < TILE_COLS; q++)
                for (int l = 0; l < TILE_LANES; l++)
                    tile[q * TILE_LANES + l] = job->bias != NULL && l < lanes ? job->bias[f0 + l] : 0;
            tile_kernel(tile, a, base, b->koff, p->taps);
            for (int l = 0; l < lanes; l++) {
                nn_real *row = out + (size_t)(f0 + l) * positions + (size_t)q0;
                if (job->accumulate)
                    for (int q = 0; q < cols; q++)
                        row[q] += tile[q * TILE_LANES + l];
                else
                    for (int q = 0; q < cols; q++)
                        row[q] = tile[q * TILE_LANES + l];
            }
        }
    }
}

void nn_conv_engine_forward(nn_real *out, nn_real *workspace, const nn_real *x,
                            const nn_real *weight, const nn_real *bias, int batch, int filters,
                            const nn_conv_geometry *g, bool accumulate)
{
    conv_plan p;
    plan_init(&p, batch, filters, g);
    forward_job job = { .plan = &p, .buf = buffers_carve(&p, workspace), .out = out, .x = x,
                        .bias = bias, .accumulate = accumulate };
    /* wpack[fb][k][l] = W[fb TILE_LANES + l, k], zero past the last filter */
    for (int fb = 0; fb < p.filter_blocks; fb++)
        for (int k = 0; k < p.taps; k++)
            for (int l = 0; l < TILE_LANES; l++) {
                int f = fb * TILE_LANES + l;
                job.buf.wpack[((size_t)fb * (size_t)p.taps + (size_t)k) * TILE_LANES + (size_t)l]
                    = f < filters ? weight[(size_t)f * (size_t)p.taps + (size_t)k] : 0;
            }
    build_offsets(&p, job.buf.koff, job.buf.poff);
    nn_parallel_for(batch, forward_image, &job, thread_count(&p));
}

/* ---- backward ------------------------------------------------------------ */

typedef struct backward_job {
    const conv_plan *plan;
    conv_buffers buf;
    nn_real *dx;
    const nn_real *dout, *x;
    bool want_dx, want_dweight, want_dbias;
    int tile_chunk, chunks_per_block, weight_tasks;
} backward_job;

/* Per image: what the products read, laid out for them. */
static void backward_prepare(void *context, int n)
{
    const backward_job *job = context;
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const size_t positions = (size_t)p->positions;
    const nn_real *dout = job->dout + (size_t)n * (size_t)p->filters * positions;
    if (job->want_dweight) {
        pad_image(b->xpad + (size_t)n * (size_t)p->channels * p->in_plane,
                  job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width, p);
        /* doutb[n][fb][p][l] = dout[n][fb TILE_LANES + l][p] */
        nn_real *blocked = b->doutb + (size_t)n * (size_t)p->filter_blocks * positions * TILE_LANES;
        for (int fb = 0; fb < p->filter_blocks; fb++) {
            nn_real *block = blocked + (size_t)fb * positions * TILE_LANES;
            for (int l = 0; l < TILE_LANES; l++) {
                int f = fb * TILE_LANES + l;
                if (f < p->filters) {
                    const nn_real *src = dout + (size_t)f * positions;
                    for (size_t q = 0; q < positions; q++)
                        block[q * TILE_LANES + (size_t)l] = src[q];
                } else {
                    for (size_t q = 0; q < positions; q++)
                        block[q * TILE_LANES + (size_t)l] = 0;
                }
            }
        }
    }
    if (job->want_dbias) {
        nn_real *sums = b->dbias + (size_t)n * (size_t)p->filters;
        for (int f = 0; f < p->filters; f++) {
            const nn_real *src = dout + (size_t)f * positions;
            nn_real sum = 0;
            for (size_t q = 0; q < positions; q++)
                sum += src[q];
            sums[f] = sum;
        }
    }
    if (job->want_dx) {
        nn_real *padded = b->doutq + (size_t)n * (size_t)p->filters * p->out_plane;
        memset(padded, 0, (size_t)p->filters * p->out_plane * sizeof *padded);
        for (int f = 0; f < p->filters; f++)
            for (int y = 0; y < p->oh; y++)
                memcpy(padded + (size_t)f * p->out_plane + (size_t)(p->top + y) * (size_t)p->owq
                           + (size_t)p->left,
                       dout + (size_t)f * positions + (size_t)y * (size_t)p->ow,
                       (size_t)p->ow * sizeof *padded);
    }
}

/* dW tiles (fb, a chunk of tap tiles), summed over every image in order. */
static void backward_weight_task(const backward_job *job, int task)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const int fb = task / job->chunks_per_block;
    const int t0 = task % job->chunks_per_block * job->tile_chunk;
    const int t1 = t0 + job->tile_chunk < p->tap_tiles ? t0 + job->tile_chunk : p->tap_tiles;
    const size_t positions = (size_t)p->positions;
    for (int n = 0; n < p->batch; n++) {
        const nn_real *xpad = b->xpad + (size_t)n * (size_t)p->channels * p->in_plane;
        const nn_real *a = b->doutb + ((size_t)n * (size_t)p->filter_blocks + (size_t)fb)
                                          * positions * TILE_LANES;
        for (int t = t0; t < t1; t++) {
            const int k0 = t * TILE_COLS;
            const nn_real *base[TILE_COLS];
            for (int q = 0; q < TILE_COLS; q++)
                base[q] = xpad + b->koff[k0 + q < p->taps ? k0 + q : p->taps - 1];
            nn_real *tile = b->dwacc + ((size_t)fb * (size_t)p->tap_tiles + (size_t)t) * TILE_SIZE;
            tile_kernel(tile, a, base, b->poff, p->positions);
        }
    }
}

/* dx for one image: every phase, every channel block, 6 input pixels at a
 * time. */
static void backward_data_task(const backward_job *job, int n)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const size_t pixels = (size_t)p->height * (size_t)p->width;
    const nn_real *doutq = b->doutq + (size_t)n * (size_t)p->filters * p->out_plane;
    nn_real *dx = job->dx + (size_t)n * (size_t)p->channels * pixels;
    nn_real tile[TILE_SIZE];
    for (int phase = 0; phase < p->phases; phase++) {
        const ptrdiff_t s0 = b->phase_step[phase], s1 = b->phase_step[phase + 1];
        const ptrdiff_t q_begin = b->phase_pos[phase], q_end = b->phase_pos[phase + 1];
        if (s1 == s0)
            continue; /* no tap reaches these pixels: their gradient is 0 */
        for (int cb = 0; cb < p->channel_blocks; cb++) {
            const int c0 = cb * TILE_LANES;
            const int lanes = p->channels - c0 < TILE_LANES ? p->channels - c0 : TILE_LANES;
            const nn_real *a = b->wpackt + ((size_t)cb * (size_t)p->dx_steps + (size_t)s0)
                                               * TILE_LANES;
            for (ptrdiff_t q0 = q_begin; q0 < q_end; q0 += TILE_COLS) {
                const int cols = q_end - q0 < TILE_COLS ? (int)(q_end - q0) : TILE_COLS;
                const nn_real *base[TILE_COLS];
                for (int q = 0; q < TILE_COLS; q++)
                    base[q] = doutq + b->dx_base[q0 + (q < cols ? q : cols - 1)];
                memset(tile, 0, sizeof tile);
                tile_kernel(tile, a, base, b->dx_off + s0, (int)(s1 - s0));
                for (int l = 0; l < lanes; l++) {
                    nn_real *plane = dx + (size_t)(c0 + l) * pixels;
                    for (int q = 0; q < cols; q++)
                        plane[b->dx_out[q0 + q]] += tile[q * TILE_LANES + l];
                }
            }
        }
    }
}

static void backward_task(void *context, int task)
{
    const backward_job *job = context;
    if (task < job->weight_tasks)
        backward_weight_task(job, task);
    else
        backward_data_task(job, task - job->weight_tasks);
}

/* Tables for the data gradient: per phase (r_h, r_w), the input pixels in
 * it and the taps (f, i, j) that reach them, with wpackt[cb][step][l] =
 * W[f, cb TILE_LANES + l, i, j]. */
static void build_data_tables(const conv_plan *p, const conv_buffers *b, const nn_real *weight)
{
    ptrdiff_t pos = 0, step = 0;
    const size_t kernel = (size_t)p->kh * (size_t)p->kw;
    for (int rh = 0; rh < p->sh; rh++) {
        for (int rw = 0; rw < p->sw; rw++) {
            const int phase = rh * p->sw + rw;
            b->phase_pos[phase] = pos;
            b->phase_step[phase] = step;
            for (int y = 0; y < p->height; y++) {
                if ((y + p->ph) % p->sh != rh)
                    continue;
                for (int x = 0; x < p->width; x++) {
                    if ((x + p->pw) % p->sw != rw)
                        continue;
                    b->dx_base[pos] = (ptrdiff_t)((y + p->ph - rh) / p->sh + p->top) * p->owq
                                      + (x + p->pw - rw) / p->sw + p->left;
                    b->dx_out[pos] = (ptrdiff_t)y * p->width + x;
                    pos++;
                }
            }
            for (int f = 0; f < p->filters; f++)
                for (int i = 0; i < p->kh; i++) {
                    if (i * p->dh % p->sh != rh)
                        continue;
                    for (int j = 0; j < p->kw; j++) {
                        if (j * p->dw % p->sw != rw)
                            continue;
                        b->dx_off[step] = (ptrdiff_t)((size_t)f * p->out_plane)
                                          - (ptrdiff_t)((i * p->dh - rh) / p->sh) * p->owq
                                          - (j * p->dw - rw) / p->sw;
                        for (int cb = 0; cb < p->channel_blocks; cb++)
                            for (int l = 0; l < TILE_LANES; l++) {
                                int c = cb * TILE_LANES + l;
                                b->wpackt[((size_t)cb * (size_t)p->dx_steps + (size_t)step)
                                              * TILE_LANES + (size_t)l]
                                    = c < p->channels
                                          ? weight[((size_t)f * (size_t)p->channels + (size_t)c)
                                                       * kernel + (size_t)i * (size_t)p->kw
                                                   + (size_t)j]
                                          : 0;
                            }
                        step++;
                    }
                }
        }
    }
    b->phase_pos[p->phases] = pos;
    b->phase_step[p->phases] = step;
}

void nn_conv_engine_backward(nn_real *dx, nn_real *dweight, nn_real *dbias, nn_real *workspace,
                             const nn_real *dout, const nn_real *x, const nn_real *weight,
                             int batch, int filters, const nn_conv_geometry *g)
{
    conv_plan p;
    plan_init(&p, batch, filters, g);
    backward_job job = { .plan = &p, .buf = buffers_carve(&p, workspace), .dx = dx,
                         .dout = dout, .x = x, .want_dx = dx != NULL,
                         .want_dweight = dweight != NULL, .want_dbias = dbias != NULL };
    const conv_buffers *b = &job.buf;
    const int threads = thread_count(&p);

    if (job.want_dweight) {
        build_offsets(&p, b->koff, b->poff);
        memset(b->dwacc, 0,
               (size_t)p.filter_blocks * (size_t)p.tap_tiles * TILE_SIZE * sizeof *b->dwacc);
        /* Enough tasks to keep every thread busy, each long enough to reuse
         * an image's data across several tiles. */
        int chunks = ceil_div(4 * threads, p.filter_blocks);
        if (chunks > p.tap_tiles)
            chunks = p.tap_tiles;
        job.tile_chunk = ceil_div(p.tap_tiles, chunks);
        job.chunks_per_block = ceil_div(p.tap_tiles, job.tile_chunk);
        job.weight_tasks = p.filter_blocks * job.chunks_per_block;
    }
    if (job.want_dx)
        build_data_tables(&p, b, weight);

    nn_parallel_for(batch, backward_prepare, &job, threads);
    nn_parallel_for(job.weight_tasks + (job.want_dx ? batch : 0), backward_task, &job, threads);

    if (job.want_dweight) {
        for (int f = 0; f < filters; f++) {
            const int fb = f / TILE_LANES, l = f % TILE_LANES;
            nn_real *row = dweight + (size_t)f * (size_t)p.taps;
            for (int k = 0; k < p.taps; k++)
                row[k] += b->dwacc[((size_t)fb * (size_t)p.tap_tiles + (size_t)(k / TILE_COLS))
                                       * TILE_SIZE
                                   + (size_t)(k % TILE_COLS) * TILE_LANES + (size_t)l];
        }
    }
    if (job.want_dbias) {
        for (int n = 0; n < batch; n++)
            for (int f = 0; f < filters; f++)
                dbias[f] += b->dbias[(size_t)n * (size_t)filters + (size_t)f];
    }
}
