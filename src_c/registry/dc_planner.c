/*
 * The planner (registry/dc_planner.h): the shape rules that send a problem to a kernel
 * family, calibrated on deconv_core/data/workloads.json (registry/dc_tuning.h).
 */
#include "dc_planner.h"
#include "dc_registry.h"
#include "dc_tuning.h"
#include "../problem/dc_shapes.h"
#include "../problem/dc_taps.h"

/* MACs and outputs of the call: what decides whether set-up and threads pay off */
static dc_idx dc_work(const dc_problem *p) {
    return p->N * p->groups * p->cout_g * (p->cin_g * p->taps->taps_total + p->pout);
}

static int dc_pick_tconv(const dc_problem *p) {
    const dc_idx cin_g = p->cin_g, cout_g = p->cout_g, s2 = p->s[2];
    const dc_idx itemsize = p->dtype == DC_F32 ? 4 : 8;
    if (cin_g == 0) return DC_K_tconv_direct;
    const int gemm = cin_g >= DC_TUNE_gemm_min_cin_per_group
                     && cin_g * cout_g >= DC_TUNE_gemm_min_channel_product;
    if (!dc_kernel_built(DC_K_tconv_blocked, dc_registry_isa()))
        return gemm ? DC_K_tconv_gemm : DC_K_tconv_direct;
    /* One input channel per group: no channel reduction for the blocked kernel's
     * registers to amortise its per-row set-up over. */
    if (cin_g == 1 && cout_g <= DC_TUNE_depthwise_max_cout_per_group)
        return DC_K_tconv_depthwise;
    /* The 1-D overlap-add shape (inverse STFT): a long kernel, few output channels.
     * With the stride dividing the kernel it folds into a channel-heavy stride-1
     * problem of C_out*stride virtual channels for the channels-last kernel, with the
     * same conditions as that kernel on the folded shape. */
    if (dc_ola_shape(p) && dc_foldable(p)
        && cout_g * s2 * itemsize >= DC_TUNE_chlast_min_cout_bytes
        && cin_g * (p->k[2] / s2) >= DC_TUNE_chlast_min_reduction)
        return DC_K_tconv_fold;
    if (gemm && dc_ola_shape(p)) return DC_K_tconv_gemm;
    /* Channel-heavy: output channels fill the channel-vectorised kernel's vectors and
     * each output has a reduction deep enough for its tiles. */
    if (cout_g * itemsize >= DC_TUNE_chlast_min_cout_bytes
        && cin_g * p->taps->taps_total >= DC_TUNE_chlast_min_reduction * p->pout)
        return DC_K_tconv_chlast;
    /* Few output channels, a deep channel reduction, strided width, rows of at least
     * two AVX-512 vectors: the virtual-channel kernel's aligned input vectors feed
     * every (output channel, width tap) at once, where the blocked kernel's shifted
     * loads feed only its few channels. */
    if (s2 >= 2 && p->n[2] * itemsize >= DC_TUNE_vchan_min_row_bytes
        && ((cout_g <= DC_TUNE_vchan_max_cout_per_group_shallow
             && cin_g >= DC_TUNE_vchan_min_cin_per_group)
            || (cout_g <= DC_TUNE_vchan_max_cout_per_group
                && cin_g >= 2 * DC_TUNE_vchan_min_cin_per_group)))
        return DC_K_tconv_vchan;
    /* The blocked kernel broadcasts one weight per output channel of a block: BLAS
     * wins when output channels are many and when rows are too short to fill vectors. */
    if (gemm && (cout_g >= DC_TUNE_blocked_max_cout_per_group
                 || (p->no[2] + s2 - 1) / s2 < DC_TUNE_blocked_min_phase_len))
        return DC_K_tconv_gemm;
    return DC_K_tconv_blocked;
}

static int dc_pick_conv(const dc_problem *p) {
    const dc_idx itemsize = p->dtype == DC_F32 ? 4 : 8;
    /* a 1-D long kernel feeding many output channels: each output's reduction is one
     * contiguous run of the input, so columns cost one copy per MAC row and BLAS runs
     * the channels x taps product */
    if (dc_ola_shape(p) && p->cout_g >= DC_TUNE_gemm_min_cin_per_group) return DC_K_conv_gemm;
    const int channel_heavy = p->cin_g >= DC_TUNE_gemm_min_cin_per_group
                              && p->cin_g * p->cout_g >= DC_TUNE_gemm_min_channel_product;
    /* no SIMD tiles on this CPU (aarch64 today): BLAS for the channel-heavy layers, as
     * the transposed op does */
    if (!dc_kernel_built(DC_K_conv_chlast, dc_registry_isa()))
        return channel_heavy ? DC_K_conv_gemm : DC_K_conv_direct;
    /* one input channel per group, strided (a depthwise down-sampling layer, channel
     * multipliers): vectors along the output width of the phase-split input rows.  At
     * stride 1 the flipped weights on the transposed op's depthwise kernel win. */
    if (p->cin_g == 1 && p->cout_g <= DC_TUNE_depthwise_conv_max_cout_per_group
        && p->s[0] * p->s[1] * p->s[2] != 1)
        return DC_K_conv_depthwise;
    /* channel-heavy, output rows too short to fill the channels-last tiles' pixels (a
     * GAN's 4x4 maps): BLAS on the columns of several images at once */
    if (channel_heavy && p->cout_g >= DC_TUNE_gemm_min_cin_per_group && p->N >= 2
        && p->no[2] <= DC_TUNE_conv_gemm_max_row
        && 2 * p->pout * p->cin_g * p->K * itemsize <= DC_TUNE_frames_batch_bytes)
        return DC_K_conv_gemm;
    /* stride 1, few output channels: the transposed op's width-vectorised kernels, on
     * the flipped weights */
    if (p->s[0] * p->s[1] * p->s[2] == 1 && p->cout_g * itemsize < DC_TUNE_chlast_min_cout_bytes)
        return DC_K_conv_flip;
    /* the channels-last tiles when the output channels fill their vectors and each
     * output has a reduction deep enough for them */
    if (p->cout_g * itemsize >= DC_TUNE_chlast_min_cout_bytes
        && p->cin_g * p->taps->taps_total >= DC_TUNE_chlast_min_reduction * p->pout)
        return DC_K_conv_chlast;
    return DC_K_conv_direct;
}

/* cin_g: the channels per group of v (on the positions l), cout_g: those of u */
static int dc_pick_wgrad(const dc_problem *p) {
    const dc_idx itemsize = p->dtype == DC_F32 ? 4 : 8;
    const dc_idx wide = p->cin_g > p->cout_g ? p->cin_g : p->cout_g;
    const dc_idx narrow = p->cin_g > p->cout_g ? p->cout_g : p->cin_g;
    /* 1-D long kernels: per channel of v, its columns x u's channels by BLAS */
    if (dc_ola_shape(p) && p->cout_g >= DC_TUNE_gemm_min_cin_per_group) return DC_K_wgrad_gemm;
    /* depthwise, or few channels on both sides (no channel product to fill the outer
     * kernel's vectors): per channel pair, vectors along the positions */
    if (wide <= DC_TUNE_wgrad_depthwise_max_channels
        && dc_kernel_built(DC_K_wgrad_depthwise, dc_registry_isa()))
        return DC_K_wgrad_depthwise;
    if (dc_kernel_built(DC_K_wgrad_outer, dc_registry_isa())
        && wide * itemsize >= DC_TUNE_outer_min_lane_bytes
        && narrow >= DC_TUNE_outer_min_broadcast)
        return DC_K_wgrad_outer;
    return DC_K_wgrad_direct;
}

int dc_planner_pick(const dc_problem *p) {
    if (p->op == DC_OP_WGRAD) return dc_pick_wgrad(p);
    if (p->op == DC_OP_CONV)
        return dc_work(p) < DC_TUNE_blocked_min_work ? DC_K_conv_direct : dc_pick_conv(p);
    /* tiny calls: the SIMD kernels' per-call set-up (packing, chunk tables, buffers: a
     * few microseconds) outweighs their faster loops */
    if (dc_work(p) < DC_TUNE_blocked_min_work) return DC_K_tconv_direct;
    return dc_pick_tconv(p);
}

int dc_planner_threads(const dc_problem *p, int kid, int nt) {
    dc_idx rows = p->N * p->groups * p->cout_g * p->no[0] * p->no[1];
    if (kid == DC_K_tconv_fold) rows *= p->s[2];      /* the folded problem's channels */
    if (nt < 1) nt = 1;
    if (dc_work(p) <= DC_TUNE_serial_max_work) nt = 1;
    if (rows < nt) nt = (int)rows;
    return nt < 1 ? 1 : nt;
}

#define DC_TUNE_NAME(name) #name,
static const char *const dc_tune_names[] = {DC_TUNING(DC_TUNE_NAME)};
#undef DC_TUNE_NAME
#define DC_TUNE_VALUE(name) (long long)(DC_TUNE_##name),
static const long long dc_tune_values[] = {DC_TUNING(DC_TUNE_VALUE)};
#undef DC_TUNE_VALUE

int dc_tuning_count(void) { return (int)(sizeof(dc_tune_values) / sizeof(dc_tune_values[0])); }
const char *dc_tuning_name(int i) { return dc_tune_names[i]; }
long long dc_tuning_value(int i) { return dc_tune_values[i]; }
