/*
 * conv_engine.c - convolution by a register-tiled inner kernel, directly or
 * through Winograd's minimal filtering.
 *
 * dlgrade: reference only. This file is the reference's convolution: with
 * it, a student template would hold the answer to the convolution units,
 * and a submission could call it instead of computing anything. So dlgrade
 * release never ships it, the runner kit's libnnref.a is built without it
 * (and conv2d.c and conv_transpose2d.c without NN_REFERENCE_ONLY, which
 * is what makes them call it), and the grader refuses a unit that calls
 * it by name (the Makefile, grader/src/inspect.c).
 *
 * The three products of a convolution layer,
 *     out[f, p]  = sum_k W[f, k] X[k, p]          (forward)
 *     dW[f, k]  += sum_p dout[f, p] X[k, p]       (weight gradient)
 *     dx         = the adjoint of the forward map  (data gradient)
 * with k = (c, i, j) a kernel tap and p = (oh, ow) an output pixel, are what
 * im2col + GEMM computes, but X[k, p] = x[c, oh s - pad + i d, ow s - pad +
 * j d] is never written out: on a zero-padded copy of the image, X[k, p] is
 * the value at address koff[k] + poff[p], a sum of a per-tap and a per-pixel
 * offset. One inner kernel serves every product:
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
 * 3x3 convolutions with stride and dilation 1, the common layer of a CNN,
 * go through Winograd F(2x2, 3x3) instead (see that section): the forward
 * pass and the weight gradient when there are at least WINO_MIN_CHANNELS
 * input channels, the data gradient when there are that many filters and
 * the padding is at most 2. The same kernel then computes the sixteen
 * small matrix products of the transformed domain.
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
#define VSUB(a, b) _mm256_sub_pd((a), (b))
#define VZERO _mm256_setzero_pd()
#define VMUL(a, b) _mm256_mul_pd((a), (b))
#define VSET1(x) _mm256_set1_pd(x)
#else
typedef __m256 vreal;
#define VLANES 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VBROADCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VZERO _mm256_setzero_ps()
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VSET1(x) _mm256_set1_ps(x)
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
#define VSUB(a, b) ((a) - (b))
#define VZERO ((vreal){ 0 })
#define VMUL(a, b) ((a) * (b))
#define VSET1(x) ((vreal){ 0 } + (x))
#endif

#define TILE_LANES (2 * VLANES) /* rows of a tile: filters or channels */
#define TILE_COLS 6             /* columns of a tile: pixels or taps */
#define TILE_SIZE (TILE_LANES * TILE_COLS)

/* a tile kernel's start when a sum begins */
static const nn_real zero_lanes[TILE_LANES];

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

#if defined(__AVX2__) && defined(__FMA__)
/* dst[k dst_stride + i] = src[i src_stride + k] (+= with accumulate) for
 * i, k < VLANES: one register block. */
static inline void transpose_block(nn_real *restrict d0, size_t dst_stride,
                                   const nn_real *restrict s0, size_t src_stride, bool accumulate)
{
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
#endif

/*
 * dst[j dst_stride + i] = src[i src_stride + j] (+= with accumulate) for
 * i < rows, j < cols: the layout changes between the kernel's [column][lane]
 * tiles and NCHW planes, by VLANES x VLANES register blocks. Without
 * accumulation, a ragged edge is covered by one more block that overlaps
 * the last whole one (writing some values twice, harmlessly); with it, the
 * edge goes value by value.
 */
static void transpose(nn_real *restrict dst, size_t dst_stride, const nn_real *restrict src,
                      size_t src_stride, int rows, int cols, bool accumulate)
{
    int i_done = 0, j_done = 0; /* the blocks cover rows < i_done, cols < j_done */
#if defined(__AVX2__) && defined(__FMA__)
    if (rows >= VLANES && cols >= VLANES) {
        const bool overlap = !accumulate;
        for (int i0 = 0; i0 < rows; i0 += VLANES) {
            int i = i0 + VLANES <= rows ? i0 : overlap ? rows - VLANES : -1;
            if (i < 0)
                break;
            for (int j0 = 0; j0 < cols; j0 += VLANES) {
                int j = j0 + VLANES <= cols ? j0 : overlap ? cols - VLANES : -1;
                if (j < 0)
                    break;
                transpose_block(dst + (size_t)j * dst_stride + (size_t)i, dst_stride,
                                src + (size_t)i * src_stride + (size_t)j, src_stride, accumulate);
                j_done = j + VLANES;
            }
            i_done = i + VLANES;
        }
    }
#endif
    /* what the blocks left: the rows below i_done past column j_done, and
     * every column of the rows from i_done on */
    for (int i = 0; i < rows; i++)
        for (int j = i < i_done ? j_done : 0; j < cols; j++) {
            nn_real v = src[(size_t)i * src_stride + (size_t)j];
            nn_real *d = dst + (size_t)j * dst_stride + (size_t)i;
            *d = accumulate ? *d + v : v;
        }
}

/*
 * The same sum for a pass with at most VLANES lanes (a layer with few
 * channels): one vector of lanes and NARROW_COLS columns, so that fewer
 * lanes are computed for nothing. a keeps its TILE_LANES stride per step
 * and the tile its [column][TILE_LANES] layout; only the first VLANES lanes
 * of each are used.
 */
#define NARROW_COLS 8
_Static_assert(COL_CHUNK % NARROW_COLS == 0 && COL_CHUNK % TILE_COLS == 0,
               "a column chunk holds whole tiles of either kind");
static void tile_kernel_narrow(nn_real *restrict tile, const nn_real *restrict init,
                               const nn_real *restrict a, const nn_real *const base[NARROW_COLS],
                               const ptrdiff_t *restrict offsets, int steps)
{
    vreal c0, c1, c2, c3, c4, c5, c6, c7;
    if (init != NULL) {
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = VLOAD(init);
    } else {
        c0 = VLOAD(tile + 0 * TILE_LANES), c1 = VLOAD(tile + 1 * TILE_LANES);
        c2 = VLOAD(tile + 2 * TILE_LANES), c3 = VLOAD(tile + 3 * TILE_LANES);
        c4 = VLOAD(tile + 4 * TILE_LANES), c5 = VLOAD(tile + 5 * TILE_LANES);
        c6 = VLOAD(tile + 6 * TILE_LANES), c7 = VLOAD(tile + 7 * TILE_LANES);
    }
    const nn_real *b0 = base[0], *b1 = base[1], *b2 = base[2], *b3 = base[3];
    const nn_real *b4 = base[4], *b5 = base[5], *b6 = base[6], *b7 = base[7];
    for (int t = 0; t < steps; t++) {
        const ptrdiff_t o = offsets[t];
        const vreal a0 = VLOAD(a);
        a += TILE_LANES;
        c0 = VFMA(a0, VBROADCAST(b0 + o), c0);
        c1 = VFMA(a0, VBROADCAST(b1 + o), c1);
        c2 = VFMA(a0, VBROADCAST(b2 + o), c2);
        c3 = VFMA(a0, VBROADCAST(b3 + o), c3);
        c4 = VFMA(a0, VBROADCAST(b4 + o), c4);
        c5 = VFMA(a0, VBROADCAST(b5 + o), c5);
        c6 = VFMA(a0, VBROADCAST(b6 + o), c6);
        c7 = VFMA(a0, VBROADCAST(b7 + o), c7);
    }
    VSTORE(tile + 0 * TILE_LANES, c0), VSTORE(tile + 1 * TILE_LANES, c1);
    VSTORE(tile + 2 * TILE_LANES, c2), VSTORE(tile + 3 * TILE_LANES, c3);
    VSTORE(tile + 4 * TILE_LANES, c4), VSTORE(tile + 5 * TILE_LANES, c5);
    VSTORE(tile + 6 * TILE_LANES, c6), VSTORE(tile + 7 * TILE_LANES, c7);
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

static int ceil_div(int a, int b)
{
    return (a + b - 1) / b;
}

/* The shape of a Winograd pass (see the section below). */
#define WINO_POINTS 16
/* Below this many input channels the products are too short to pay for
 * the transforms. */
#define WINO_MIN_CHANNELS 8

typedef struct wino_shape {
    bool use;
    int channels;              /* source channels */
    int cblocks, cpad;         /* blocks of TILE_LANES channels, cblocks TILE_LANES */
    int lanes;                 /* destination channels */
    int src_h, src_w, pad_h, pad_w, out_h, out_w;
    int th, tw, tiles;         /* output tiles, (out_h / 2) x (out_w / 2) rounded up */
    int tiles_pad;             /* rounded up to TILE_COLS */
    int hq, wq;                /* the source zero-padded to (2 th + 2, 2 tw + 2) */
} wino_shape;

static void wino_shape_init(wino_shape *w, bool eligible, int channels, int lanes, int src_h,
                            int src_w, int pad_h, int pad_w, int out_h, int out_w)
{
    *w = (wino_shape){
        .use = eligible && channels >= WINO_MIN_CHANNELS && pad_h >= 0 && pad_w >= 0,
        .channels = channels, .cblocks = ceil_div(channels, TILE_LANES), .lanes = lanes,
        .src_h = src_h, .src_w = src_w, .pad_h = pad_h, .pad_w = pad_w,
        .out_h = out_h, .out_w = out_w,
        .th = ceil_div(out_h, 2), .tw = ceil_div(out_w, 2),
    };
    w->cpad = w->cblocks * TILE_LANES;
    w->tiles = w->th * w->tw;
    w->tiles_pad = ceil_div(w->tiles, TILE_COLS) * TILE_COLS;
    w->hq = 2 * w->th + 2;
    w->wq = 2 * w->tw + 2;
}

/* elements of the per-thread buffers */
static size_t wino_source_size(const wino_shape *w)
{
    return w->use ? (size_t)w->hq * (size_t)w->wq * (size_t)w->cpad : 0;
}

static size_t wino_v_size(const wino_shape *w)
{
    return w->use ? (size_t)WINO_POINTS * (size_t)w->tiles * (size_t)w->cpad : 0;
}

static size_t wino_m_size(const wino_shape *w)
{
    return w->use ? (size_t)WINO_POINTS * (size_t)w->tiles_pad * TILE_LANES : 0;
}

static size_t wino_stage_size(const wino_shape *w)
{
    return w->use ? 2 * (size_t)w->wq * TILE_LANES : 0;
}

static size_t wino_u_size(const wino_shape *w)
{
    return w->use ? (size_t)ceil_div(w->lanes, TILE_LANES) * WINO_POINTS * (size_t)w->channels
                        * TILE_LANES
                  : 0;
}


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
    /* Winograd forms of the forward pass and of the data gradient, used
     * when the convolution is 3x3 with stride and dilation 1 */
    wino_shape wf, wd;
    bool wino_weight;          /* the weight gradient through wf's transforms */
    size_t partial_size;       /* elements of one group's weight-gradient sums */
    /* byte offsets of the buffers from the 64-byte aligned workspace start;
     * the per-thread ones repeat every worker_bytes */
    size_t at_wpack, at_koff, at_poff, at_partial, at_dbias, at_wpackt;
    size_t at_phase_pos, at_phase_step, at_dx_base, at_dx_out, at_dx_off;
    size_t at_uf, at_ud, at_steps_f, at_steps_d, at_zsteps;
    size_t at_workers, worker_bytes, at_xpad, at_doutb, at_doutq;
    size_t at_source_f, at_v_f, at_source_d, at_v_d, at_wm, at_wstage, at_dy, at_z;
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
    const bool wino = p->kh == 3 && p->kw == 3 && p->sh == 1 && p->sw == 1 && p->dh == 1
                      && p->dw == 1;
    wino_shape_init(&p->wf, wino, p->channels, filters, p->height, p->width, p->ph, p->pw, p->oh,
                    p->ow);
    /* dx is the 3x3 convolution of dout padded by 2 - pad with the flipped
     * kernel, from F channels to C */
    wino_shape_init(&p->wd, wino, filters, p->channels, p->oh, p->ow, 2 - p->ph, 2 - p->pw,
                    p->height, p->width);
    p->wino_weight = p->wf.use;
    p->partial_size = p->wino_weight ? (size_t)WINO_POINTS * (size_t)p->wf.cblocks
                                           * (size_t)ceil_div(filters, TILE_COLS) * TILE_SIZE
                                     : (size_t)p->filter_blocks * (size_t)p->tap_tiles * TILE_SIZE;
    const size_t fz = (size_t)ceil_div(filters, VLANES) * VLANES;

    const size_t real = sizeof(nn_real), offset = sizeof(ptrdiff_t);
    const size_t pixels = (size_t)p->height * (size_t)p->width;
    /* the direct forward and weight-gradient buffers, and the direct
     * data-gradient ones, exist only when that path is taken */
    const size_t direct = p->wf.use ? 0 : 1, direct_dx = p->wd.use ? 0 : 1;
    size_t cursor = 0;
    p->at_wpack = region(&cursor, direct * (size_t)p->filter_blocks * (size_t)p->taps
                                      * TILE_LANES * real);
    p->at_koff = region(&cursor, direct * (size_t)p->taps * offset);
    p->at_poff = region(&cursor, direct * (size_t)p->positions * offset);
    p->at_partial = region(&cursor, (size_t)p->groups * p->partial_size * real);
    p->at_dbias = region(&cursor, (size_t)batch * (size_t)filters * real);
    p->at_wpackt = region(&cursor, direct_dx * (size_t)p->channel_blocks * (size_t)p->dx_steps
                                       * TILE_LANES * real);
    p->at_phase_pos = region(&cursor, direct_dx * (size_t)(p->phases + 1) * offset);
    p->at_phase_step = region(&cursor, direct_dx * (size_t)(p->phases + 1) * offset);
    p->at_dx_base = region(&cursor, direct_dx * pixels * offset);
    p->at_dx_out = region(&cursor, direct_dx * pixels * offset);
    p->at_dx_off = region(&cursor, direct_dx * (size_t)p->dx_steps * offset);
    p->at_uf = region(&cursor, wino_u_size(&p->wf) * real);
    p->at_ud = region(&cursor, wino_u_size(&p->wd) * real);
    p->at_steps_f = region(&cursor, (size_t)p->channels * offset);
    p->at_steps_d = region(&cursor, (size_t)filters * offset);
    p->at_zsteps = region(&cursor, (size_t)p->wf.tiles * offset);
    size_t worker = 0;
    p->at_xpad = region(&worker, direct * (size_t)p->channels * p->in_plane * real);
    p->at_doutb = region(&worker, direct * (size_t)p->positions * TILE_LANES * real);
    p->at_doutq = region(&worker, direct_dx * (size_t)filters * p->out_plane * real);
    p->at_source_f = region(&worker, wino_source_size(&p->wf) * real);
    p->at_v_f = region(&worker, wino_v_size(&p->wf) * real);
    p->at_source_d = region(&worker, wino_source_size(&p->wd) * real);
    p->at_v_d = region(&worker, wino_v_size(&p->wd) * real);
    p->at_wm = region(&worker, (wino_m_size(&p->wf) > wino_m_size(&p->wd) ? wino_m_size(&p->wf)
                                                                          : wino_m_size(&p->wd))
                                   * real);
    p->at_wstage = region(&worker, (wino_stage_size(&p->wf) > wino_stage_size(&p->wd)
                                        ? wino_stage_size(&p->wf)
                                        : wino_stage_size(&p->wd))
                                       * real);
    const size_t dy = p->wino_weight ? 4 * (size_t)p->wf.th * (size_t)p->wf.tw * fz : 0;
    p->at_dy = region(&worker, dy * real);
    p->at_z = region(&worker, (p->wino_weight ? 4 * (size_t)p->wf.tiles * fz : 0) * real);
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
    nn_real *partial;      /* (groups, partial_size): weight-gradient sums per group */
    nn_real *dbias;        /* (N, F) per-image sums */
    nn_real *wpackt;       /* (channel_blocks, dx_steps, TILE_LANES) */
    ptrdiff_t *phase_pos, *phase_step; /* (phases + 1) starts */
    ptrdiff_t *dx_base;    /* (H W): pixel of a phase -> its offset in a dout plane */
    ptrdiff_t *dx_out;     /* (H W): pixel of a phase -> y W + x */
    ptrdiff_t *dx_off;     /* (dx_steps): tap (f, i, j) of a phase -> offset in dout */
    nn_real *uf, *ud;      /* Winograd weights of the forward pass and of dx */
    ptrdiff_t *steps_f, *steps_d, *zsteps; /* their step tables */
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
        .uf = AT(nn_real, at_uf), .ud = AT(nn_real, at_ud),
        .steps_f = AT(ptrdiff_t, at_steps_f), .steps_d = AT(ptrdiff_t, at_steps_d),
        .zsteps = AT(ptrdiff_t, at_zsteps),
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

/* ---- prefetching ---------------------------------------------------------- */

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

/* ---- one image through the kernel: forward and data gradient ----------- */

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
        const ptrdiff_t *col_base = pass->col_base + c0;
        for (int lb = 0; lb < lane_blocks; lb++) {
            const int l0 = lb * TILE_LANES;
            const int lanes = pass->lanes - l0 < TILE_LANES ? pass->lanes - l0 : TILE_LANES;
            /* a block of at most one vector of lanes (a layer with few
             * channels, or the last block of many): more columns per call
             * instead of lanes computed for nothing */
            const bool narrow = lanes <= VLANES;
            const int tile_cols = narrow ? NARROW_COLS : TILE_COLS;
            const int calls = ceil_div(cols, tile_cols);
            nn_real init[TILE_LANES];
            for (int l = 0; l < TILE_LANES; l++)
                init[l] = pass->bias != NULL && l < lanes ? pass->bias[l0 + l] : 0;
            for (int s0 = 0; s0 < pass->steps; s0 += STEP_CHUNK) {
                const int steps = pass->steps - s0 < STEP_CHUNK ? pass->steps - s0 : STEP_CHUNK;
                const nn_real *a = pass->packed + (size_t)lb * pass->block_stride
                                   + (size_t)s0 * TILE_LANES;
                for (int t = 0; t < calls; t++) {
                    const nn_real *base[NARROW_COLS > TILE_COLS ? NARROW_COLS : TILE_COLS];
                    for (int q = 0; q < tile_cols; q++) {
                        int col = t * tile_cols + q;
                        base[q] = pass->source + col_base[col < cols ? col : cols - 1];
                    }
                    /* Fetch the destination rows while the sums run, a row
                     * a tile: they are written (and read, when
                     * accumulating) once the block is done, and are usually
                     * not in cache. */
                    if (s0 == 0 && t < lanes && pass->dest_col == NULL)
                        prefetch_row(pass->dest + (size_t)(l0 + t) * pass->plane + c0, cols);
                    prefetch_some(pass->ahead);
                    nn_real *tile = acc + (size_t)(t * tile_cols) * TILE_LANES;
                    if (narrow)
                        tile_kernel_narrow(tile, s0 == 0 ? init : NULL, a, base,
                                           pass->offsets + s0, steps);
                    else
                        tile_kernel(tile, s0 == 0 ? init : NULL, a, base, pass->offsets + s0,
                                    steps);
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

/* ---- Winograd F(2x2, 3x3): 3x3 stride-1 convolutions ---------------------
 *
 * Lavin and Gray (2016): an output tile of 2x2 pixels of a 3x3 convolution
 * is Y = A^T [ (G g G^T) . (B^T d B) ] A, with d the 4x4 input tile (tiles
 * overlap by 2), g the 3x3 kernel, "." the elementwise product and
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *     A^T = [1 1 1 0; 0 1 -1 -1].
 * Summed over input channels, each of the 16 elementwise positions xi is a
 * matrix product, M[xi] (lanes, tiles) = U[xi] (lanes, C) V[xi] (C, tiles),
 * which the tile kernel computes with steps over C. That is 16 products
 * per 4 outputs instead of 36 for the direct sum: 2.25 times fewer
 * multiply-adds, for the price of the transforms (additions only, and
 * halvings, exact in binary). The rounding differs slightly from the
 * direct sum's, well within the tolerance of the float build.
 *
 * Used for the forward pass and, through the flipped kernel, for the data
 * gradient of a stride-1 convolution: both are 3x3 stride-1 convolutions of
 * some source (x, or dout padded by 2 - pad) into some destination. The
 * weight gradient follows from the same formula by the chain rule: with
 * Z = A dY A^T the 4x4 transform of a 2x2 tile of dout,
 *     dL/dg = G^T [ sum over tiles and images of Z . (B^T d B) ] G,
 * sixteen products S[xi] (F, C) = sum_t Z[xi] (F, t) V[xi] (t, C) again.
 *
 * V is stored [xi][channel block][tile][TILE_LANES], so that it serves both
 * as the broadcast operand (forward: a column per tile, steps over
 * channels through an offset table) and as the streamed one (weight
 * gradient: lanes are channels, steps over tiles).
 */

/*
 * u[lb][xi][c][l] = (G g G^T)[xi] for destination lane lb TILE_LANES + l
 * and source channel c, where g[i][j] = weight[lane lane_stride + c
 * channel_stride + (i, j), or (2 - i, 2 - j) when flipped]; zero past the
 * last lane.
 */
static void wino_transform_weights(nn_real *u, const wino_shape *w, const nn_real *weight,
                                   size_t lane_stride, size_t channel_stride, bool flip)
{
    const int lane_blocks = ceil_div(w->lanes, TILE_LANES);
    for (int lb = 0; lb < lane_blocks; lb++)
        for (int c = 0; c < w->channels; c++) {
            /* the block's lanes side by side, then one row per xi: stores
             * 16 points apart would collide in the cache */
            nn_real out[WINO_POINTS][TILE_LANES] = { { 0 } };
            for (int l = 0; l < TILE_LANES; l++) {
                const int lane = lb * TILE_LANES + l;
                if (lane >= w->lanes)
                    break;
                const nn_real *k = weight + (size_t)lane * lane_stride + (size_t)c * channel_stride;
                nn_real g[3][3], t[4][3];
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        g[i][j] = flip ? k[(2 - i) * 3 + (2 - j)] : k[i * 3 + j];
                for (int j = 0; j < 3; j++) { /* t = G g */
                    t[0][j] = g[0][j];
                    t[1][j] = (g[0][j] + g[1][j] + g[2][j]) / 2;
                    t[2][j] = (g[0][j] - g[1][j] + g[2][j]) / 2;
                    t[3][j] = g[2][j];
                }
                for (int i = 0; i < 4; i++) { /* out = t G^T */
                    out[i * 4 + 0][l] = t[i][0];
                    out[i * 4 + 1][l] = (t[i][0] + t[i][1] + t[i][2]) / 2;
                    out[i * 4 + 2][l] = (t[i][0] - t[i][1] + t[i][2]) / 2;
                    out[i * 4 + 3][l] = t[i][2];
                }
            }
            for (int xi = 0; xi < WINO_POINTS; xi++)
                memcpy(u + (((size_t)lb * WINO_POINTS + (size_t)xi) * (size_t)w->channels
                            + (size_t)c) * TILE_LANES,
                       out[xi], sizeof out[xi]);
        }
}

/* steps[c]: where channel c of a tile sits in V[xi], from the tile's
 * column; the forward products walk the channels through this table. */
static void wino_channel_steps(ptrdiff_t *steps, const wino_shape *w)
{
    for (int c = 0; c < w->channels; c++)
        steps[c] = (ptrdiff_t)(c / TILE_LANES) * w->tiles * TILE_LANES + c % TILE_LANES;
}

/*
 * V[xi][cb][t][l] = (B^T d B)[xi] for channel cb TILE_LANES + l of the
 * source (channels, src_h, src_w), padded by (pad_h, pad_w), and its tile
 * t; padded is the (hq, wq, cpad) buffer the source is copied into,
 * channels last, its border and channel padding already zero.
 */
static void wino_input(const wino_shape *w, nn_real *v, nn_real *padded, const nn_real *source)
{
    const size_t cpad = (size_t)w->cpad, wq = (size_t)w->wq, tiles = (size_t)w->tiles;
    for (int y = 0; y < w->src_h; y++)
        transpose(padded + ((size_t)(y + w->pad_h) * wq + (size_t)w->pad_w) * cpad, cpad,
                  source + (size_t)y * (size_t)w->src_w, (size_t)w->src_h * (size_t)w->src_w,
                  w->channels, w->src_w, false);
    const size_t point = (size_t)w->cblocks * tiles * TILE_LANES; /* between xi */
    for (int ty = 0; ty < w->th; ty++)
        for (int tx = 0; tx < w->tw; tx++) {
            const size_t t = (size_t)ty * (size_t)w->tw + (size_t)tx;
            const nn_real *d0 = padded + ((size_t)(2 * ty) * wq + (size_t)(2 * tx)) * cpad;
            for (size_t c0 = 0; c0 < cpad; c0 += VLANES) {
                vreal d[4][4], e[4][4];
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        d[r][c] = VLOAD(d0 + ((size_t)r * wq + (size_t)c) * cpad + c0);
                for (int c = 0; c < 4; c++) { /* e = B^T d */
                    e[0][c] = VSUB(d[0][c], d[2][c]);
                    e[1][c] = VADD(d[1][c], d[2][c]);
                    e[2][c] = VSUB(d[2][c], d[1][c]);
                    e[3][c] = VSUB(d[1][c], d[3][c]);
                }
                nn_real *out = v + ((c0 / TILE_LANES) * tiles + t) * TILE_LANES + c0 % TILE_LANES;
                for (int r = 0; r < 4; r++) { /* V = e B */
                    nn_real *row = out + (size_t)(4 * r) * point;
                    VSTORE(row, VSUB(e[r][0], e[r][2]));
                    VSTORE(row + point, VADD(e[r][1], e[r][2]));
                    VSTORE(row + 2 * point, VSUB(e[r][2], e[r][1]));
                    VSTORE(row + 3 * point, VSUB(e[r][1], e[r][3]));
                }
            }
        }
}

/* Per-thread scratch of one Winograd product. */
typedef struct wino_scratch {
    nn_real *m;       /* (WINO_POINTS, tiles_pad, TILE_LANES) */
    nn_real *stage;   /* (2, wq, TILE_LANES): one row of output tiles */
} wino_scratch;

/*
 * dest (lanes, out_h, out_w) = bias + the convolution whose input
 * transform wino_input left in v, or += (and no bias) when accumulating.
 * u from wino_transform_weights, steps from wino_channel_steps.
 */
static void wino_products(const wino_shape *w, nn_real *dest, const nn_real *v, const nn_real *u,
                          const nn_real *bias, bool accumulate, const wino_scratch *scratch,
                          const ptrdiff_t *steps, prefetch_stream *ahead)
{
    const size_t wq = (size_t)w->wq, tiles = (size_t)w->tiles;
    const size_t plane = (size_t)w->out_h * (size_t)w->out_w;
    const int lane_blocks = ceil_div(w->lanes, TILE_LANES);
    for (int lb = 0; lb < lane_blocks; lb++) {
        const int l0 = lb * TILE_LANES;
        const int lanes = w->lanes - l0 < TILE_LANES ? w->lanes - l0 : TILE_LANES;
        /* the block's destination planes come into cache while the
         * products run; they are written once those are done */
        const nn_real *planes = dest + (size_t)l0 * plane;
        prefetch_stream dest_lines = {
            .next = (const char *)planes, .end = (const char *)(planes + (size_t)lanes * plane),
            .lines_per_call = 1 + (int)((size_t)lanes * plane * sizeof(nn_real) / 64
                                        / ((size_t)WINO_POINTS * (size_t)(w->tiles_pad / TILE_COLS))),
        };
        /* M[xi] = U[xi] V[xi], TILE_COLS tiles at a time */
        for (int xi = 0; xi < WINO_POINTS; xi++) {
            const nn_real *a = u + ((size_t)lb * WINO_POINTS + (size_t)xi) * (size_t)w->channels
                                       * TILE_LANES;
            const nn_real *vx = v + (size_t)xi * (size_t)w->cblocks * tiles * TILE_LANES;
            nn_real *m = scratch->m + (size_t)xi * (size_t)w->tiles_pad * TILE_LANES;
            for (int t0 = 0; t0 < w->tiles; t0 += TILE_COLS) {
                const nn_real *base[TILE_COLS];
                for (int q = 0; q < TILE_COLS; q++)
                    base[q] = vx + (size_t)(t0 + q < w->tiles ? t0 + q : w->tiles - 1) * TILE_LANES;
                tile_kernel(m + (size_t)t0 * TILE_LANES, zero_lanes, a, base, steps, w->channels);
                prefetch_some(&dest_lines);
                prefetch_some(ahead);
            }
        }
        /* Y = A^T M A per tile, a row of tiles at a time, then into the
         * destination's rows */
        nn_real init[TILE_LANES];
        for (int l = 0; l < TILE_LANES; l++)
            init[l] = bias != NULL && l < lanes ? bias[l0 + l] : 0;
        const size_t m_stride = (size_t)w->tiles_pad * TILE_LANES;
        for (int ty = 0; ty < w->th; ty++) {
            for (int tx = 0; tx < w->tw; tx++) {
                const nn_real *m = scratch->m + ((size_t)ty * (size_t)w->tw + (size_t)tx)
                                                    * TILE_LANES;
                for (int h = 0; h < TILE_LANES; h += VLANES) {
                    vreal k[4][4], sv[2][4];
                    for (int xi = 0; xi < WINO_POINTS; xi++)
                        k[xi / 4][xi % 4] = VLOAD(m + (size_t)xi * m_stride + (size_t)h);
                    for (int c = 0; c < 4; c++) { /* sv = A^T k */
                        sv[0][c] = VADD(VADD(k[0][c], k[1][c]), k[2][c]);
                        sv[1][c] = VSUB(VSUB(k[1][c], k[2][c]), k[3][c]);
                    }
                    const vreal b = VLOAD(init + h);
                    for (int r = 0; r < 2; r++) { /* Y = sv A, plus the bias */
                        nn_real *out = scratch->stage + ((size_t)r * wq + (size_t)(2 * tx))
                                                            * TILE_LANES + (size_t)h;
                        VSTORE(out, VADD(VADD(VADD(sv[r][0], sv[r][1]), sv[r][2]), b));
                        VSTORE(out + TILE_LANES, VADD(VSUB(VSUB(sv[r][1], sv[r][2]), sv[r][3]), b));
                    }
                }
            }
            for (int r = 0; r < 2 && 2 * ty + r < w->out_h; r++)
                transpose(dest + (size_t)l0 * plane + (size_t)(2 * ty + r) * (size_t)w->out_w,
                          plane, scratch->stage + (size_t)r * wq * TILE_LANES, TILE_LANES,
                          w->out_w, lanes, accumulate);
        }
    }
}

/*
 * The weight gradient's share of one image: s[xi][cb][ft][q][l] += sum_t
 * Z[xi][t][f] V[xi][cb][t][l] for filter f = ft TILE_COLS + q and channel
 * c = cb TILE_LANES + l, where v holds the image's input transform (the
 * forward's, shape w) and Z = A dY A^T that of its dout (filters, out_h,
 * out_w). dy (2 th, 2 tw, fz) has a zero border; z holds one row of Z,
 * (4, tiles, fz), so that the buffers stay in cache; zsteps[t] = t fz.
 * The first image of a sum sets s instead of adding to it.
 */
static void wino_weight_image(const wino_shape *w, nn_real *s, const nn_real *v,
                              const nn_real *dout, int filters, nn_real *dy, nn_real *z,
                              const ptrdiff_t *zsteps, bool first, prefetch_stream *ahead)
{
    const size_t fz = (size_t)ceil_div(filters, VLANES) * VLANES, tiles = (size_t)w->tiles;
    const size_t wy = 2 * (size_t)w->tw;
    for (int y = 0; y < w->out_h; y++)
        transpose(dy + (size_t)y * wy * fz, fz, dout + (size_t)y * (size_t)w->out_w,
                  (size_t)w->out_h * (size_t)w->out_w, filters, w->out_w, false);
    const size_t point = tiles * fz; /* between the xi of a row in z */
    const int filter_tiles = ceil_div(filters, TILE_COLS);
    static const nn_real a_top[4] = { 1, 1, 1, 0 }, a_bottom[4] = { 0, 1, -1, -1 };
    for (int r = 0; r < 4; r++) {
        /* Z[4 r + j] = row r of (A dY) A^T, A = [1 0; 1 1; 1 -1; 0 -1]
         * (products by 1, -1 and 0 are exact) */
        const vreal k0 = VSET1(a_top[r]), k1 = VSET1(a_bottom[r]);
        for (int ty = 0; ty < w->th; ty++)
            for (int tx = 0; tx < w->tw; tx++) {
                const size_t t = (size_t)ty * (size_t)w->tw + (size_t)tx;
                const nn_real *y0 = dy + ((size_t)(2 * ty) * wy + (size_t)(2 * tx)) * fz;
                for (size_t f0 = 0; f0 < fz; f0 += VLANES) {
                    vreal e[2];
                    for (int c = 0; c < 2; c++) {
                        const vreal g0 = VLOAD(y0 + (size_t)c * fz + f0);
                        const vreal g1 = VLOAD(y0 + (wy + (size_t)c) * fz + f0);
                        e[c] = VADD(VMUL(k0, g0), VMUL(k1, g1));
                    }
                    nn_real *out = z + t * fz + f0;
                    VSTORE(out, e[0]);
                    VSTORE(out + point, VADD(e[0], e[1]));
                    VSTORE(out + 2 * point, VSUB(e[0], e[1]));
                    VSTORE(out + 3 * point, VSUB(VZERO, e[1]));
                }
            }
        for (int j = 0; j < 4; j++) {
            const int xi = 4 * r + j;
            const nn_real *zx = z + (size_t)j * point;
            for (int cb = 0; cb < w->cblocks; cb++) {
                const nn_real *a = v + (((size_t)xi * (size_t)w->cblocks + (size_t)cb) * tiles)
                                           * TILE_LANES;
                for (int ft = 0; ft < filter_tiles; ft++) {
                    const nn_real *base[TILE_COLS];
                    for (int q = 0; q < TILE_COLS; q++) {
                        const int f = ft * TILE_COLS + q;
                        base[q] = zx + (f < filters ? f : filters - 1);
                    }
                    nn_real *tile = s + (((size_t)xi * (size_t)w->cblocks + (size_t)cb)
                                             * (size_t)filter_tiles + (size_t)ft) * TILE_SIZE;
                    tile_kernel(tile, first ? zero_lanes : NULL, a, base, zsteps, w->tiles);
                    prefetch_some(ahead);
                }
            }
        }
    }
}

/*
 * dweight (F, C, 3, 3) += G^T S G for every (f, c) with f in [f0, f1), from
 * the sums s laid out as wino_weight_image leaves them.
 */
static void wino_weight_finish(nn_real *dweight, const nn_real *s, const wino_shape *w,
                               int filters, int f0, int f1)
{
    const int filter_tiles = ceil_div(filters, TILE_COLS);
    const size_t point = (size_t)w->cblocks * (size_t)filter_tiles * TILE_SIZE;
    for (int f = f0; f < f1; f++)
        for (int c = 0; c < w->channels; c++) {
            const nn_real *e = s + (((size_t)(c / TILE_LANES) * (size_t)filter_tiles
                                     + (size_t)(f / TILE_COLS)) * TILE_COLS
                                    + (size_t)(f % TILE_COLS)) * TILE_LANES
                               + (size_t)(c % TILE_LANES);
            nn_real k[4][4], r[3][4];
            for (int xi = 0; xi < WINO_POINTS; xi++)
                k[xi / 4][xi % 4] = e[(size_t)xi * point];
            for (int j = 0; j < 4; j++) { /* r = G^T k */
                r[0][j] = k[0][j] + (k[1][j] + k[2][j]) / 2;
                r[1][j] = (k[1][j] - k[2][j]) / 2;
                r[2][j] = (k[1][j] + k[2][j]) / 2 + k[3][j];
            }
            nn_real *out = dweight + ((size_t)f * (size_t)w->channels + (size_t)c) * 9;
            for (int i = 0; i < 3; i++) { /* += r G */
                out[i * 3 + 0] += r[i][0] + (r[i][1] + r[i][2]) / 2;
                out[i * 3 + 1] += (r[i][1] - r[i][2]) / 2;
                out[i * 3 + 2] += (r[i][1] + r[i][2]) / 2 + r[i][3];
            }
        }
}

/* A worker's Winograd product buffers. */
static wino_scratch wino_buffers(const conv_plan *p, const conv_buffers *b, int worker)
{
    return (wino_scratch){
        .m = worker_buffer(p, b, worker, p->at_wm),
        .stage = worker_buffer(p, b, worker, p->at_wstage),
    };
}

/* ---- forward ------------------------------------------------------------- */

typedef struct forward_job {
    const conv_plan *plan;
    conv_buffers buf;
    nn_real *out;
    const nn_real *x, *bias;
    bool accumulate;
    bool xpad_ready[CONV_WORKERS], wino_ready[CONV_WORKERS];
} forward_job;

static void forward_image(forward_job *job, int n, int worker, prefetch_stream *ahead)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const nn_real *x = job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width;
    nn_real *out = job->out + (size_t)n * (size_t)p->filters * (size_t)p->positions;
    if (p->wf.use) {
        nn_real *source = worker_scratch(p, b, worker, p->at_source_f, wino_source_size(&p->wf),
                                         &job->wino_ready[worker]);
        nn_real *v = worker_buffer(p, b, worker, p->at_v_f);
        wino_scratch scratch = wino_buffers(p, b, worker);
        wino_input(&p->wf, v, source, x);
        wino_products(&p->wf, out, v, b->uf, job->bias, job->accumulate, &scratch, b->steps_f,
                      ahead);
        return;
    }
    nn_real *xpad = worker_scratch(p, b, worker, p->at_xpad,
                                   (size_t)p->channels * p->in_plane, &job->xpad_ready[worker]);
    pad_image(xpad, x, p);
    const size_t positions = (size_t)p->positions;
    lane_pass pass = {
        .packed = b->wpack, .block_stride = (size_t)p->taps * TILE_LANES,
        .lanes = p->filters, .steps = p->taps, .cols = p->positions,
        .offsets = b->koff, .source = xpad, .col_base = b->poff,
        .dest = out, .plane = positions,
        .bias = job->bias, .accumulate = job->accumulate, .ahead = ahead,
    };
    run_lane_pass(&pass);
}

/* One task per group of images, so that each image's input can be fetched
 * while the one before it is worked on. */
static void forward_task(void *context, int task, int worker)
{
    forward_job *job = context;
    const conv_plan *p = job->plan;
    const size_t image = (size_t)p->channels * (size_t)p->height * (size_t)p->width;
    const int n1 = (task + 1) * IMAGE_GROUP < p->batch ? (task + 1) * IMAGE_GROUP : p->batch;
    for (int n = task * IMAGE_GROUP; n < n1; n++) {
        prefetch_stream ahead = { 0 };
        if (n + 1 < n1) {
            const nn_real *next = job->x + (size_t)(n + 1) * image;
            ahead.next = (const char *)next;
            ahead.end = (const char *)(next + image);
            ahead.lines_per_call = 1;
        }
        forward_image(job, n, worker, &ahead);
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
    if (p.wf.use) {
        wino_transform_weights(job.buf.uf, &p.wf, weight, (size_t)p.taps, 9, false);
        wino_channel_steps(job.buf.steps_f, &p.wf);
    } else {
        /* wpack[fb][k][l] = W[fb TILE_LANES + l, k], zero past the last filter */
        for (int fb = 0; fb < p.filter_blocks; fb++) {
            const int f0 = fb * TILE_LANES;
            const int lanes = filters - f0 < TILE_LANES ? filters - f0 : TILE_LANES;
            nn_real *block = job.buf.wpack + (size_t)fb * (size_t)p.taps * TILE_LANES;
            if (lanes < TILE_LANES)
                memset(block, 0, (size_t)p.taps * TILE_LANES * sizeof *block);
            transpose(block, TILE_LANES, weight + (size_t)f0 * (size_t)p.taps, (size_t)p.taps,
                      lanes, p.taps, false);
        }
        build_offsets(&p, job.buf.koff, job.buf.poff);
    }
    nn_parallel_for(p.groups, forward_task, &job, thread_count(&p));
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
    bool source_f_ready[CONV_WORKERS], source_d_ready[CONV_WORKERS], dy_ready[CONV_WORKERS];
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
    nn_real *partial = b->partial + (size_t)g * p->partial_size
                       + (size_t)fb * (size_t)p->tap_tiles * TILE_SIZE;
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
            /* the group's first image starts the sums */
            tile_kernel(partial + (size_t)t * TILE_SIZE,
                        n == g * IMAGE_GROUP && s0 == 0 ? zero_lanes : NULL,
                        block + (size_t)s0 * TILE_LANES, base, b->poff + s0, steps);
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
    if (p->wd.use) {
        nn_real *source = worker_scratch(p, b, worker, p->at_source_d, wino_source_size(&p->wd),
                                         &job->source_d_ready[worker]);
        nn_real *v = worker_buffer(p, b, worker, p->at_v_d);
        wino_scratch scratch = wino_buffers(p, b, worker);
        wino_input(&p->wd, v, source, dout);
        wino_products(&p->wd, job->dx + (size_t)n * (size_t)p->channels * pixels, v, b->ud, NULL,
                      true, &scratch, b->steps_d, ahead);
        return;
    }
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

/* Image n's share of group g's Winograd weight-gradient sums, and its bias
 * sums. */
static void wino_weight_gradient_image(backward_job *job, int g, int n, int worker,
                                       prefetch_stream *ahead)
{
    const conv_plan *p = job->plan;
    const conv_buffers *b = &job->buf;
    const size_t positions = (size_t)p->positions;
    const size_t fz = (size_t)ceil_div(p->filters, VLANES) * VLANES;
    const nn_real *dout = job->dout + (size_t)n * (size_t)p->filters * positions;
    nn_real *source = worker_scratch(p, b, worker, p->at_source_f, wino_source_size(&p->wf),
                                     &job->source_f_ready[worker]);
    nn_real *v = worker_buffer(p, b, worker, p->at_v_f);
    nn_real *dy = worker_scratch(p, b, worker, p->at_dy,
                                 4 * (size_t)p->wf.th * (size_t)p->wf.tw * fz,
                                 &job->dy_ready[worker]);
    wino_input(&p->wf, v, source,
               job->x + (size_t)n * (size_t)p->channels * (size_t)p->height * p->width);
    if (job->want_dbias)
        for (int f = 0; f < p->filters; f++)
            b->dbias[(size_t)n * (size_t)p->filters + (size_t)f]
                = sum_values(dout + (size_t)f * positions, positions);
    wino_weight_image(&p->wf, b->partial + (size_t)g * p->partial_size, v, dout, p->filters, dy,
                      worker_buffer(p, b, worker, p->at_z), b->zsteps, n == g * IMAGE_GROUP,
                      ahead);
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
                if (job->want_dweight && p->wino_weight)
                    calls += WINO_POINTS * p->wf.cblocks * ceil_div(p->filters, TILE_COLS);
                else if (job->want_dweight)
                    calls += p->filter_blocks * p->tap_tiles
                             * ceil_div(p->positions, PIXEL_CHUNK);
                if (job->want_dx && p->wd.use)
                    calls += p->channel_blocks * WINO_POINTS * (p->wd.tiles_pad / TILE_COLS);
                else if (job->want_dx)
                    calls += p->channel_blocks * ceil_div(p->dx_steps, STEP_CHUNK)
                             * ceil_div(p->height * p->width, TILE_COLS);
                size_t bytes = (grads + (job->want_dweight ? image : 0)) * sizeof(nn_real);
                ahead.lines_per_call = 1 + (int)(bytes / 64 / (size_t)calls);
            }
            if (job->want_dweight && p->wino_weight) {
                wino_weight_gradient_image(job, task, n, worker, &ahead);
            } else if (job->want_dweight) {
                const nn_real *xpad = padded_input(job, n, worker);
                for (int fb = 0; fb < p->filter_blocks; fb++)
                    weight_gradient_image(job, task, fb, n, xpad, block, &ahead);
            }
            data_gradient_image(job, n, worker, &ahead);
        }
    } else if (task < job->weight_tasks && p->wino_weight) {
        const int n1 = (task + 1) * IMAGE_GROUP < p->batch ? (task + 1) * IMAGE_GROUP : p->batch;
        for (int n = task * IMAGE_GROUP; n < n1; n++)
            wino_weight_gradient_image(job, task, n, worker, NULL);
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

/* The weight gradient's last step: the group sums added in group order, and
 * the result added to dweight. */
typedef struct weight_finish_job {
    const conv_plan *plan;
    nn_real *partial, *dweight;
} weight_finish_job;

/* partial[0][i] += partial[g][i] for g = 1, 2, ... in order, i in
 * [begin, begin + count) */
static void sum_groups(nn_real *partial, const conv_plan *p, size_t begin, size_t count)
{
    for (int g = 1; g < p->groups; g++) {
        const nn_real *part = partial + (size_t)g * p->partial_size + begin;
        nn_real *sum = partial + begin;
        for (size_t i = 0; i < count; i++)
            sum[i] += part[i];
    }
}

static void weight_finish_task(void *context, int unit, int worker)
{
    const weight_finish_job *job = context;
    const conv_plan *p = job->plan;
    (void)worker;
    if (p->wino_weight) {
        /* unit: filter tile ft, whose TILE_SIZE block repeats per (xi, cb) */
        const int filter_tiles = ceil_div(p->filters, TILE_COLS);
        for (int k = 0; k < WINO_POINTS * p->wf.cblocks; k++)
            sum_groups(job->partial, p, ((size_t)k * (size_t)filter_tiles + (size_t)unit) * TILE_SIZE,
                       TILE_SIZE);
        const int f0 = unit * TILE_COLS;
        wino_weight_finish(job->dweight, job->partial, &p->wf, p->filters, f0,
                           f0 + TILE_COLS < p->filters ? f0 + TILE_COLS : p->filters);
    } else {
        /* unit: filter block fb, whose tiles are contiguous */
        const size_t block = (size_t)p->tap_tiles * TILE_SIZE;
        sum_groups(job->partial, p, (size_t)unit * block, block);
        const int f0 = unit * TILE_LANES;
        const int lanes = p->filters - f0 < TILE_LANES ? p->filters - f0 : TILE_LANES;
        transpose(job->dweight + (size_t)f0 * (size_t)p->taps, (size_t)p->taps,
                  job->partial + (size_t)unit * block, TILE_LANES, p->taps, lanes, true);
    }
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
    const size_t partial_size = p.partial_size;
    if (job.want_dweight) {
        if (p.wino_weight) {
            wino_channel_steps(b->steps_f, &p.wf);
            for (int t = 0; t < p.wf.tiles; t++)
                b->zsteps[t] = (ptrdiff_t)t * ceil_div(filters, VLANES) * VLANES;
        } else {
            build_offsets(&p, b->koff, b->poff);
        }
    }
    if (job.want_dx && p.wd.use) {
        /* lane c, channel f: W[f, c], flipped */
        wino_transform_weights(b->ud, &p.wd, weight, 9, (size_t)p.taps, true);
        wino_channel_steps(b->steps_d, &p.wd);
    } else if (job.want_dx) {
        build_data_tables(&p, b, weight);
    }
    int tasks;
    job.by_group = threads == 1 || p.groups >= 2 * threads;
    if (job.by_group) {
        tasks = p.groups;
    } else {
        job.weight_tasks = !job.want_dweight ? 0
                           : p.wino_weight ? p.groups
                                           : p.groups * p.filter_blocks;
        /* images for dx, or for the bias sums when nothing else reads dout */
        tasks = job.weight_tasks + (job.want_dx || (job.want_dbias && !job.want_dweight) ? batch : 0);
    }
    nn_parallel_for(tasks, backward_task, &job, threads);

    if (job.want_dweight) {
        /* one task per filter tile (Winograd) or filter block (direct) */
        weight_finish_job finish = { .plan = &p, .partial = b->partial, .dweight = dweight };
        int units = p.wino_weight ? ceil_div(filters, TILE_COLS) : p.filter_blocks;
        double adds = (double)p.groups * (double)partial_size;
        nn_parallel_for(units, weight_finish_task, &finish, adds > 2e5 ? threads : 1);
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
