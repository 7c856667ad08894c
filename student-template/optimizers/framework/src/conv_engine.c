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
 * Work is split over images; the weight gradient is summed per fixed group
 * of images and the group sums are added in group order. Every value is
 * thus computed by one thread in an order fixed by the shapes alone, and
 * the results are the same, bit for bit, whatever the number of threads.
 * (They do depend on the instruction set: with AVX2 the multiply-adds are
 * fused, explicitly, and a build without it rounds each product.)
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
#define VADD(a, b) _mm256_add_pd((a), (b))
#else
typedef __m256 vreal;
#define VLANES 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VBROADCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
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
#define VADD(a, b) ((a) + (b))
#endif

#define TILE_LANES (2 * VLANES) /* rows of a tile: filters or channels */
#define TILE_COLS 6             /* columns of a tile: pixels or taps */
#define TILE_SIZE (TILE_LANES * TILE_COLS)

/* Below this many multiply-adds per thread, starting threads costs more
 * than it saves. */
#define WORK_PER_THREAD 2e6

/* Cache blocking: a pass sums over at most STEP_CHUNK steps at a time, so
 * that the packed operand (STEP_CHUNK x TILE_LANES) and the planes those
 * steps read stay in L1 while COL_CHUNK columns' accumulators (on the
 * stack) are updated. */
#ifndef STEP_CHUNK
#define STEP_CHUNK 128
#endif
#ifndef COL_CHUNK
#define COL_CHUNK (16 * TILE_COLS)
#endif
/* The weight gradient sums over pixels in chunks of this many; its packed
 * operand (pixels x TILE_LANES of dout) is reused by every tap tile. */
#ifndef PIXEL_CHUNK
#define PIXEL_CHUNK 256
#endif

/*
 * tile[q][l] = start[q][l] + sum_{t < steps} a[t][l] * base[q][offsets[t]],
 * with tile (TILE_COLS, TILE_LANES) and a (steps, TILE_LANES) contiguous;
 * start is the tile itself, or when init is not NULL, init[l] (TILE_LANES
 * values) in every column, which spares a pass's first call a round trip
 * through memory.
 */
static void tile_kernel(nn_real *restrict tile, const nn_real *restrict init,
                        const nn_real *restrict a, const nn_real *const base[TILE_COLS],
                        const ptrdiff_t *restrict offsets, int steps)
{
    vreal c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (init != NULL) {
        c00 = c10 = c20 = c30 = c40 = c50 = VLOAD(init);
        c01 = c11 = c21 = c31 = c41 = c51 = VLOAD(init + VLANES);
    } else {
        c00 = VLOAD(tile + 0 * TILE_LANES), c01 = VLOAD(tile + 0 * TILE_LANES + VLANES);
        c10 = VLOAD(tile + 1 * TILE_LANES), c11 = VLOAD(tile + 1 * TILE_LANES + VLANES);
        c20 = VLOAD(tile + 2 * TILE_LANES), c21 = VLOAD(tile + 2 * TILE_LANES + VLANES);
        c30 = VLOAD(tile + 3 * TILE_LANES), c31 = VLOAD(tile + 3 * TILE_LANES + VLANES);
        c40 = VLOAD(tile + 4 * TILE_LANES), c41 = VLOAD(tile + 4 * TILE_LANES + VLANES);
        c50 = VLOAD(tile + 5 * TILE_LANES), c51 = VLOAD(tile + 5 * TILE_LANES + VLANES);
    }
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

/*
 * dst[j dst_stride + i] = src[i src_stride + j] (+= with accumulate) for
 * i < rows, j < cols: the layout changes between the kernel's [column][lane]
 * tiles and NCHW planes, by VLANES x VLANES register blocks.
 */
static void transpose(nn_real *restrict dst, size_t dst_stride, const nn_real *restrict src,
                      size_t src_stride, int rows, int cols, bool accumulate)
{
    int i0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (; i0 + VLANES <= rows; i0 += VLANES) {
        int j0 = 0;
        for (; j0 + VLANES <= cols; j0 += VLANES) {
            const nn_real *s0 = src + (size_t)i0 * src_stride + (size_t)j0;
            nn_real *d0 = dst + (size_t)j0 * dst_stride + (size_t)i0;
            vreal r[VLANES];
#if NN_REAL_IS_DOUBLE
            for (int k = 0; k < 4; k++)
                r[k] = VLOAD(s0 + (size_t)k * src_stride);
            __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
            __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
            r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
            r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
            r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
            r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
#else
            for (int k = 0; k < 8; k++)
                r[k] = VLOAD(s0 + (size_t)k * src_stride);
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
            r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
            r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
            r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
            r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
            r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
            r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
            r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
#endif
            for (int k = 0; k < VLANES; k++) {
                nn_real *d = d0 + (size_t)k * dst_stride;
                VSTORE(d, accumulate ? VADD(VLOAD(d), r[k]) : r[k]);
            }
        }
        for (; j0 < cols; j0++)
            for (int i = i0; i < i0 + VLANES; i++) {
                nn_real v = src[(size_t)i * src_stride + (size_t)j0];
                nn_real *d = dst + (size_t)j0 * dst_stride + (size_t)i;
                *d = accumulate ? *d + v : v;
            }
    }
#endif
    for (int j = 0; j < cols; j++)
        for (int i = i0; i < rows; i++) {
            nn_real v = src[(size_t)i * src_stride + (size_t)j];
            nn_real *d = dst + (size_t)j * dst_stride + (size_t)i;
            *d = accumulate ? *d + v : v;
        }
}

/* sum of v[0..count), in an order fixed by count alone */
static nn_real sum_values(const nn_real *v, size_t count)
{
    nn_real lanes[4 * VLANES] = { 0 };
    size_t i = 0;
    for (; i + 4 * VLANES <= count; i += 4 * VLANES)
        for (int k = 0; k < 4 * VLANES; k++)
            lanes[k] += v[i + (size_t)k];
    nn_real sum = 0;
    for (int k = 0; k < 4 * VLANES; k++)
        sum += lanes[k];
    for (; i < count; i++)
        sum += v[i];
    return sum;
}

/* ---- the plan: sizes and where each buffer lives in the workspace -------- */

/* Per-thread scratch exists for this many threads; more are never used. */
#define CONV_WORKERS 8

/* The weight gradient is summed over groups of this many images, one
 * partial sum per group, then the partials in group order: a split of the
 * work that does not depend on the number of threads. */
#define IMAGE_GROUP 4

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
    int groups;                /* ceil(N / IMAGE_GROUP) */
    /* data gradient: dout zero-padded to (ohq, owq), its pixel (0, 0) at
     * (top, left) */
    int top, left, ohq, owq;
    size_t out_plane;          /* ohq * owq */
    int phases;                /* sh * sw */
    int dx_steps;              /* F * KH * KW, over all phases */
    /* byte offsets of the buffers from the 64-byte aligned workspace start;
     * the per-thread ones repeat every worker_bytes */
    size_t at_wpack, at_koff, at_poff, at_partial, at_dbias, at_wpackt;
    size_t at_phase_pos, at_phase_step, at_dx_base, at_dx_out, at_dx_off;
    size_t at_workers, worker_bytes, at_xpad, at_doutb, at_doutq;
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
    p->groups = ceil_div(batch, IMAGE_GROUP);

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

    const size_t real = sizeof(nn_real), offset = sizeof(ptrdiff_t);
    const size_t pixels = (size_t)p->height * (size_t)p->width;
    size_t cursor = 0;
    p->at_wpack = region(&cursor, (size_t)p->filter_blocks * (size_t)p->taps * TILE_LANES * real);
    p->at_koff = region(&cursor, (size_t)p->taps * offset);
    p->at_poff = region(&cursor, (size_t)p->positions * offset);
    p->at_partial = region(&cursor, (size_t)p->groups * (size_t)p->filter_blocks
                                        * (size_t)p->tap_tiles * TILE_SIZE * real);
    p->at_dbias = region(&cursor, (size_t)batch * (size_t)filters * real);
    p->at_wpackt = region(&cursor, (size_t)p->channel_blocks * (size_t)p->dx_steps
                                       * TILE_LANES * real);
    p->at_phase_pos = region(&cursor, (size_t)(p->phases + 1) * offset);
    p->at_phase_step = region(&cursor, (size_t)(p->phases + 1) * offset);
    p->at_dx_base = region(&cursor, pixels * offset);
    p->at_dx_out = region(&cursor, pixels * offset);
    p->at_dx_off = region(&cursor, (size_t)p->dx_steps * offset);
    size_t worker = 0;
    p->at_xpad = region(&worker, (size_t)p->channels * p->in_plane * real);
    p->at_doutb = region(&worker, (size_t)p->positions * TILE_LANES * real);
    p->at_doutq = region(&worker, (size_t)filters * p->out_plane * real);
    p->worker_bytes = worker;
    p->at_workers = region(&cursor, CONV_WORKERS * worker);
    p->bytes = cursor;
}

size_t nn_conv_engine_workspace_size(int batch, int filters, const nn_conv_geometry *g)
{
    conv_plan p;
    plan_init(&p, batch, filters, g);
    /* + 64 bytes: the caller's pointer is only nn_real-aligned */
    return (p.bytes + 64 + sizeof(nn_real) - 1) / sizeof(nn_real);
}

/* The shared buffers of a plan inside one workspace. The offset tables are
 * ptrdiff_t: the workspace is untyped scratch memory to the caller. */
typedef struct conv_buffers {
    unsigned char *start;  /* 64-byte aligned */
    nn_real *wpack;        /* (filter_blocks, taps, TILE_LANES) */
    ptrdiff_t *koff;       /* (taps): tap (c, i, j) -> c hp wp + i dh wp + j dw */
    ptrdiff_t *poff;       /* (positions): (oh, ow) -> oh sh wp + ow sw */
    nn_real *partial;      /* (groups, filter_blocks, tap_tiles, TILE_COLS, TILE_LANES) */
    nn_real *dbias;        /* (N, F) per-image sums */
    nn_real *wpackt;       /* (channel_blocks, dx_steps, TILE_LANES) */
    ptrdiff_t *phase_pos, *phase_step; /* (phases + 1) starts */
    ptrdiff_t *dx_base;    /* (H W): pixel of a phase -> its offset in a dout plane */
    ptrdiff_t *dx_out;     /* (H W): pixel of a phase -> y W + x */
    ptrdiff_t *dx_off;     /* (dx_steps): tap (f, i, j) of a phase -> offset in dout */
} conv_buffers;

static conv_buffers buffers_carve(const conv_plan *p, nn_real *workspace)
{
    unsigned char *start = (unsigned char *)workspace;
    start += (64 - (uintptr_t)start % 64) % 64;
#define AT(type, at) ((type *)(void *)(start + p->at))
    return (conv_buffers){
        .start = start,
        .wpack = AT(nn_real, at_wpack), .koff = AT(ptrdiff_t, at_koff),
        .poff = AT(ptrdiff_t, at_poff), .partial = AT(nn_real, at_partial),
        .dbias = AT(nn_real, at_dbias), .wpackt = AT(nn_real, at_wpackt),
        .phase_pos = AT(ptrdiff_t, at_phase_pos), .phase_step = AT(ptrdiff_t, at_phase_step),
        .dx_base = AT(ptrdiff_t, at_dx_base), .dx_out = AT(ptrdiff_t, at_dx_out),
        .dx_off = AT(ptrdiff_t, at_dx_off),
    };
#undef AT
}

/* A worker's scratch buffer at byte offset `at` within its slot. */
static nn_real *worker_buffer(const conv_plan *p, const conv_buffers *b, int worker, size_t at)
{
    return (nn_real *)(void *)(b->start + p->at_workers + (size_t)worker * p->worker_bytes + at);
}

static int thread_count(const conv_plan *p)
{
    double work = (double)p->batch * p->filters * p->taps * p->positions;
    int useful = (int)(work / WORK_PER_THREAD);
    int threads = nn_parallel_threads();
    if (threads > CONV_WORKERS)
        threads = CONV_WORKERS;
    return useful < 1 ? 1 : useful < threads ? useful : threads;
}

/* ---- shared preparation -------------------------------------------------- */

/* count values from src to dst. Rows here are short (a feature map's
 * width), where inline vector moves beat a call to memcpy, which is what
 * GCC turns a copy loop into unless told not to. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void copy_row(nn_real *restrict dst, const nn_real *restrict src, int count)
{
    int i = 0;
    for (; i + VLANES <= count; i += VLANES)
        VSTORE(dst + i, VLOAD(src + i));
    for (; i < count; i++)
        dst[i] = src[i];
}

/* Copies one (C, H, W) image into the interior of a (C, hp, wp) buffer
 * whose border is already zero. */
static void pad_image(nn_real *padded, const nn_real *image, const conv_plan *p)
{
    for (int c = 0; c < p->channels; c++) {
        nn_real *dst = padded + (size_t)c * p->in_plane + (size_t)p->ph * (size_t)p->wp
                       + (size_t)p->pw;
        const nn_real *src = image + (size_t)c * (size_t)p->height * (size_t)p->width;
        for (int y = 0; y < p->height; y++, dst += p->wp, src += p->width)
            copy_row(dst, src, p->width);
    }
}

/* Copies one image's dout (F, OH, OW) into the interior of an
 * (F, ohq, owq) buffer whose border is already zero. */
static void pad_gradient(nn_real *padded, const nn_real *dout, const conv_plan *p)
{
    for (int f = 0; f < p->filters; f++) {
        nn_real *dst = padded + (size_t)f * p->out_plane + (size_t)p->top * (size_t)p->owq
                       + (size_t)p->left;
        const nn_real *src = dout + (size_t)f * (size_t)p->positions;
        for (int y = 0; y < p->oh; y++, dst += p->owq, src += p->ow)
            copy_row(dst, src, p->ow);
    }
}

/*
 * A worker's scratch buffer, zeroed on its first use in a call (the
 * borders of a padded copy then stay zero for every later image; `ready`
 * is the worker's own flag, which no other thread touches).
 */
static nn_real *worker_scratch(const conv_plan *p, const conv_buffers *b, int worker, size_t at,
                               size_t count, bool *ready)
{
    nn_real *buffer = worker_buffer(p, b, worker, at);
    if (!*ready) {
        memset(buffer, 0, count * sizeof *buffer);
        *ready = true;
    }
    return buffer;
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

/* ---- one image through the kernel: forward and data gradient ----------- */

/* Cache lines to fetch ahead, a few at a time between kernel calls: the
 * next image's input while this one's sums run. */
typedef struct prefetch_stream {
    const char *next, *end;     /* the range being fetched */
    const char *then, *then_end; /* the range after it, or NULL */
    int lines_per_call;
} prefetch_stream;

static void prefetch_some(prefetch_stream *stream)
{
    if (stream == NULL)
        return;
    for (int i = 0; i < stream->lines_per_call; i++) {
        if (stream->next >= stream->end) {
            if (stream->then == NULL)
                return;
            stream->next = stream->then, stream->end = stream->then_end;
            stream->then = NULL;
        }
        __builtin_prefetch(stream->next, 0, 3);
        stream->next += 64;
    }
}

/* Asks for the cache lines of row[0..count) ahead of a write to them. */
static void prefetch_row(const nn_real *row, int count)
{
    const char *start = (const char *)row, *end = (const char *)(row + count);
    for (const char *line = start; line < end; line += 64)
        __builtin_prefetch(line, 1, 3);
    __builtin_prefetch(end - 1, 1, 3);
}

/*
 * dest[l][q] = bias[l] + sum_t packed[l][t] source[col_base[q] + offsets[t]]
 * (+= without the bias term when accumulating) for every lane l < lanes
 * and column q < cols, lanes in blocks of TILE_LANES.
 */
typedef struct lane_pass {
    const nn_real *packed;      /* lane block b, step t: packed + b block_stride + t TILE_LANES */
    size_t block_stride;
    int lanes, steps, cols;
    const ptrdiff_t *offsets;   /* (steps) */
    const nn_real *source;      /* a padded image */
    const ptrdiff_t *col_base;  /* (cols) */
    nn_real *dest;              /* lane l, column q: dest[l plane + q], or */
    size_t plane;
    const ptrdiff_t *dest_col;  /* dest[l plane + dest_col[q]] when not NULL */
    const nn_real *bias;        /* (lanes) or NULL */
    bool accumulate;
    prefetch_stream *ahead;     /* or NULL */
} lane_pass;

static void run_lane_pass(const lane_pass *pass)
{
    nn_real acc[COL_CHUNK * TILE_LANES];
    const int lane_blocks = ceil_div(pass->lanes, TILE_LANES);
    for (int c0 = 0; c0 < pass->cols; c0 += COL_CHUNK) {
        const int cols = pass->cols - c0 < COL_CHUNK ? pass->cols - c0 : COL_CHUNK;
        const int tiles = ceil_div(cols, TILE_COLS);
        const ptrdiff_t *col_base = pass->col_base + c0;
        for (int lb = 0; lb < lane_blocks; lb++) {
            const int l0 = lb * TILE_LANES;
            const int lanes = pass->lanes - l0 < TILE_LANES ? pass->lanes - l0 : TILE_LANES;
            nn_real init[TILE_LANES];
            for (int l = 0; l < TILE_LANES; l++)
                init[l] = pass->bias != NULL && l < lanes ? pass->bias[l0 + l] : 0;
            for (int s0 = 0; s0 < pass->steps; s0 += STEP_CHUNK) {
                const int steps = pass->steps - s0 < STEP_CHUNK ? pass->steps - s0 : STEP_CHUNK;
                const nn_real *a = pass->packed + (size_t)lb * pass->block_stride
                                   + (size_t)s0 * TILE_LANES;
                for (int t = 0; t < tiles; t++) {
                    const nn_real *base[TILE_COLS];
                    for (int q = 0; q < TILE_COLS; q++) {
                        int col = t * TILE_COLS + q;
                        base[q] = pass->source + col_base[col < cols ? col : cols - 1];
                    }
                    /* Fetch the destination rows while the sums run, a row
                     * a tile: they are written (and read, when
                     * accumulating) once the block is done, and are usually
                     * not in cache. */
                    if (s0 == 0 && t < lanes && pass->dest_col == NULL)
                        prefetch_row(pass->dest + (size_t)(l0 + t) * pass->plane + c0, cols);
                    prefetch_some(pass->ahead);
                    tile_kernel(acc + (size_t)t * TILE_SIZE, s0 == 0 ? init : NULL, a, base,
                                pass->offsets + s0, steps);
                }
            }
            nn_real *dest = pass->dest + (size_t)l0 * pass->plane;
            if (pass->dest_col == NULL) {
                transpose(dest + c0, pass->plane, acc, TILE_LANES, cols, lanes, pass->accumulate);
            } else {
                for (int l = 0; l < lanes; l++)
                    for (int q = 0; q < cols; q++) {
                        nn_real *d = dest + (size_t)l * pass->plane + pass->dest_col[c0 + q];
                        nn_real v = acc[q * TILE_LANES + l];
                        *d = pass->accumulate ? *d + v : v;
                    }
            }
        }
    }
}

/* ---- forward ------------------------------------------------------------- */

typedef struct forward_job {
    const conv_plan *plan;
    conv_buffers buf;
    nn_real *out;
    const nn_real *x, *bias;
    bool accumulate;
    bool xpad_ready[CONV_WORKERS];
} forward_job;

static void forward_image(void *context, int n, int worker)
{
    forward_job *job = context;
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    nn_real *xpad = worker_scratch(p, b, worker, p->at_xpad,
                                   (size_t)p->channels * p->in_plane, &job->xpad_ready[worker]);
    pad_image(xpad, job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width, p);
    const size_t positions = (size_t)p->positions;
    lane_pass pass = {
        .packed = b->wpack, .block_stride = (size_t)p->taps * TILE_LANES,
        .lanes = p->filters, .steps = p->taps, .cols = p->positions,
        .offsets = b->koff, .source = xpad, .col_base = b->poff,
        .dest = job->out + (size_t)n * (size_t)p->filters * positions, .plane = positions,
        .bias = job->bias, .accumulate = job->accumulate,
    };
    run_lane_pass(&pass);
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
    for (int fb = 0; fb < p.filter_blocks; fb++) {
        const int f0 = fb * TILE_LANES;
        const int lanes = filters - f0 < TILE_LANES ? filters - f0 : TILE_LANES;
        nn_real *block = job.buf.wpack + (size_t)fb * (size_t)p.taps * TILE_LANES;
        if (lanes < TILE_LANES)
            memset(block, 0, (size_t)p.taps * TILE_LANES * sizeof *block);
        transpose(block, TILE_LANES, weight + (size_t)f0 * (size_t)p.taps, (size_t)p.taps, lanes,
                  p.taps, false);
    }
    build_offsets(&p, job.buf.koff, job.buf.poff);
    nn_parallel_for(batch, forward_image, &job, thread_count(&p));
}

/* ---- backward ------------------------------------------------------------ */

/*
 * Two ways to share the work, with the same arithmetic (and so the same
 * bits) either way:
 *   by group: one task per group of images does, image by image, the
 *     weight gradient for every filter block and then the data gradient, so
 *     that x and dout are read from memory once, while they are in cache;
 *   split: tasks (group, filter block) for the weight gradient and one task
 *     per image for the data gradient, for batches too small to give every
 *     thread a few groups.
 */
typedef struct backward_job {
    const conv_plan *plan;
    conv_buffers buf;
    nn_real *dx;
    const nn_real *dout, *x;
    bool want_dx, want_dweight, want_dbias;
    bool by_group;
    int weight_tasks; /* split: groups x filter_blocks, numbered first */
    bool xpad_ready[CONV_WORKERS], doutq_ready[CONV_WORKERS];
} backward_job;

/* Image n's share of group g's partial dW for filter block fb: the block's
 * dout rows transposed to (positions, TILE_LANES), then every tap tile
 * summed over the pixels. xpad holds image n padded. */
static void weight_gradient_image(const backward_job *job, int g, int fb, int n,
                                  const nn_real *xpad, nn_real *block, prefetch_stream *ahead)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const int f0 = fb * TILE_LANES;
    const int lanes = p->filters - f0 < TILE_LANES ? p->filters - f0 : TILE_LANES;
    const size_t positions = (size_t)p->positions;
    const nn_real *dout = job->dout + ((size_t)n * (size_t)p->filters + (size_t)f0) * positions;
    nn_real *partial = b->partial + ((size_t)g * (size_t)p->filter_blocks + (size_t)fb)
                                       * (size_t)p->tap_tiles * TILE_SIZE;
    if (lanes < TILE_LANES)
        memset(block, 0, positions * TILE_LANES * sizeof *block);
    transpose(block, TILE_LANES, dout, positions, lanes, p->positions, false);
    if (job->want_dbias)
        for (int l = 0; l < lanes; l++)
            b->dbias[(size_t)n * (size_t)p->filters + (size_t)(f0 + l)]
                = sum_values(dout + (size_t)l * positions, positions);
    for (int s0 = 0; s0 < p->positions; s0 += PIXEL_CHUNK) {
        const int steps = p->positions - s0 < PIXEL_CHUNK ? p->positions - s0 : PIXEL_CHUNK;
        for (int t = 0; t < p->tap_tiles; t++) {
            const int k0 = t * TILE_COLS;
            const nn_real *base[TILE_COLS];
            for (int q = 0; q < TILE_COLS; q++)
                base[q] = xpad + b->koff[k0 + q < p->taps ? k0 + q : p->taps - 1];
            tile_kernel(partial + (size_t)t * TILE_SIZE, NULL, block + (size_t)s0 * TILE_LANES,
                        base, b->poff + s0, steps);
            prefetch_some(ahead);
        }
    }
}

/* dx for image n: its dout padded, then a lane pass per phase with lanes =
 * input channels; and the bias sums when the weight gradient does not
 * make them. */
static void data_gradient_image(backward_job *job, int n, int worker, prefetch_stream *ahead)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const size_t pixels = (size_t)p->height * (size_t)p->width;
    const size_t positions = (size_t)p->positions;
    const nn_real *dout = job->dout + (size_t)n * (size_t)p->filters * positions;
    if (job->want_dbias && !job->want_dweight)
        for (int f = 0; f < p->filters; f++)
            b->dbias[(size_t)n * (size_t)p->filters + (size_t)f]
                = sum_values(dout + (size_t)f * positions, positions);
    if (!job->want_dx)
        return;
    nn_real *doutq = worker_scratch(p, b, worker, p->at_doutq,
                                    (size_t)p->filters * p->out_plane, &job->doutq_ready[worker]);
    pad_gradient(doutq, dout, p);
    for (int phase = 0; phase < p->phases; phase++) {
        const ptrdiff_t s0 = b->phase_step[phase], s1 = b->phase_step[phase + 1];
        const ptrdiff_t q0 = b->phase_pos[phase], q1 = b->phase_pos[phase + 1];
        if (s1 == s0 || q1 == q0)
            continue; /* no tap reaches these pixels: their gradient is 0 */
        lane_pass pass = {
            .packed = b->wpackt + (size_t)s0 * TILE_LANES,
            .block_stride = (size_t)p->dx_steps * TILE_LANES,
            .lanes = p->channels, .steps = (int)(s1 - s0), .cols = (int)(q1 - q0),
            .offsets = b->dx_off + s0, .source = doutq, .col_base = b->dx_base + q0,
            .dest = job->dx + (size_t)n * (size_t)p->channels * pixels, .plane = pixels,
            /* with stride 1 the one phase is every pixel in order */
            .dest_col = p->phases == 1 ? NULL : b->dx_out + q0,
            .accumulate = true,
            .ahead = ahead,
        };
        run_lane_pass(&pass);
    }
}

static nn_real *padded_input(backward_job *job, int n, int worker)
{
    const conv_plan *p = job->plan;
    nn_real *xpad = worker_scratch(p, &job->buf, worker, p->at_xpad,
                                   (size_t)p->channels * p->in_plane, &job->xpad_ready[worker]);
    pad_image(xpad, job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width, p);
    return xpad;
}

static void backward_task(void *context, int task, int worker)
{
    backward_job *job = context;
    const conv_plan *p = job->plan;
    nn_real *block = worker_buffer(p, &job->buf, worker, p->at_doutb);
    const size_t image = (size_t)p->channels * (size_t)p->height * (size_t)p->width;
    const size_t grads = (size_t)p->filters * (size_t)p->positions;
    if (job->by_group) {
        const int n1 = (task + 1) * IMAGE_GROUP < p->batch ? (task + 1) * IMAGE_GROUP : p->batch;
        for (int n = task * IMAGE_GROUP; n < n1; n++) {
            /* while image n is worked on, the next one's dout and x (when
             * it is in this group) come into cache */
            prefetch_stream ahead = { 0 };
            if (n + 1 < n1) {
                const nn_real *dout = job->dout + (size_t)(n + 1) * grads;
                ahead.next = (const char *)dout;
                ahead.end = (const char *)(dout + grads);
                if (job->want_dweight) {
                    const nn_real *x = job->x + (size_t)(n + 1) * image;
                    ahead.then = (const char *)x;
                    ahead.then_end = (const char *)(x + image);
                }
                /* kernel calls per image: dW tiles, dx tiles */
                int calls = 1;
                if (job->want_dweight)
                    calls += p->filter_blocks * p->tap_tiles
                             * ceil_div(p->positions, PIXEL_CHUNK);
                if (job->want_dx)
                    calls += p->channel_blocks * ceil_div(p->dx_steps, STEP_CHUNK)
                             * ceil_div(p->height * p->width, TILE_COLS);
                size_t bytes = (grads + (job->want_dweight ? image : 0)) * sizeof(nn_real);
                ahead.lines_per_call = 1 + (int)(bytes / 64 / (size_t)calls);
            }
            if (job->want_dweight) {
                const nn_real *xpad = padded_input(job, n, worker);
                for (int fb = 0; fb < p->filter_blocks; fb++)
                    weight_gradient_image(job, task, fb, n, xpad, block, &ahead);
            }
            data_gradient_image(job, n, worker, &ahead);
        }
    } else if (task < job->weight_tasks) {
        const int g = task / p->filter_blocks, fb = task % p->filter_blocks;
        const int n1 = (g + 1) * IMAGE_GROUP < p->batch ? (g + 1) * IMAGE_GROUP : p->batch;
        for (int n = g * IMAGE_GROUP; n < n1; n++)
            weight_gradient_image(job, g, fb, n, padded_input(job, n, worker), block, NULL);
    } else {
        data_gradient_image(job, task - job->weight_tasks, worker, NULL);
    }
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
    const size_t partial_size = (size_t)p.filter_blocks * (size_t)p.tap_tiles * TILE_SIZE;
    if (job.want_dweight) {
        build_offsets(&p, b->koff, b->poff);
        memset(b->partial, 0, (size_t)p.groups * partial_size * sizeof *b->partial);
    }
    if (job.want_dx)
        build_data_tables(&p, b, weight);
    int tasks;
    job.by_group = threads == 1 || p.groups >= 2 * threads;
    if (job.by_group) {
        tasks = p.groups;
    } else {
        job.weight_tasks = job.want_dweight ? p.groups * p.filter_blocks : 0;
        /* images for dx, or for the bias sums when nothing else reads dout */
        tasks = job.weight_tasks + (job.want_dx || (job.want_dbias && !job.want_dweight) ? batch : 0);
    }
    nn_parallel_for(tasks, backward_task, &job, threads);

    if (job.want_dweight) {
        /* the group partials summed in group order, then dW[f][k] += the
         * sum's (k, f) entry */
        nn_real *sum = b->partial;
        for (int gi = 1; gi < p.groups; gi++) {
            const nn_real *part = b->partial + (size_t)gi * partial_size;
            for (size_t i = 0; i < partial_size; i++)
                sum[i] += part[i];
        }
        for (int fb = 0; fb < p.filter_blocks; fb++) {
            const int f0 = fb * TILE_LANES;
            const int lanes = filters - f0 < TILE_LANES ? filters - f0 : TILE_LANES;
            transpose(dweight + (size_t)f0 * (size_t)p.taps, (size_t)p.taps,
                      sum + (size_t)fb * (size_t)p.tap_tiles * TILE_SIZE, TILE_LANES, p.taps,
                      lanes, true);
        }
    }
    if (job.want_dbias) {
        for (int f = 0; f < filters; f++) {
            nn_real total = 0;
            for (int n = 0; n < batch; n++)
                total += b->dbias[(size_t)n * (size_t)filters + (size_t)f];
            dbias[f] += total;
        }
    }
}
