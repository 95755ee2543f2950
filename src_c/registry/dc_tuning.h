/*
 * The calibrated constants of the planner and the kernels, in one place (calibrated on
 * deconv_core/data/workloads.json, 2 threads; build_info()["planner"] lists them).
 *
 * DC_TUNING(X) lists the names, as build_info reports them; DC_TUNE_<name> is each value.
 */
#ifndef DC_TUNING_H
#define DC_TUNING_H

#define DC_TUNING(X) \
    X(gemm_min_cin_per_group) \
    X(gemm_min_channel_product) \
    X(cols_max_bytes) \
    X(frames_max_bytes) \
    X(frames_batch_bytes) \
    X(conv_gemm_max_row) \
    X(serial_max_work) \
    X(blocked_min_work) \
    X(gather_parallel_min_work) \
    X(ola_min_kernel) \
    X(blocks_min_reduction) \
    X(blocked_max_cout_per_group) \
    X(blocked_min_phase_len) \
    X(depthwise_max_cout_per_group) \
    X(depthwise_conv_max_cout_per_group) \
    X(chlast_min_cout_bytes) \
    X(chlast_min_reduction) \
    X(chlast_planar_max_cin) \
    X(vchan_min_row_bytes) \
    X(vchan_min_cin_per_group) \
    X(vchan_max_cout_per_group_shallow) \
    X(vchan_max_cout_per_group) \
    X(outer_min_lane_bytes) \
    X(outer_min_broadcast) \
    X(wgrad_depthwise_max_channels)

/* GEMM path when the per-group channel reduction is wide enough for BLAS to win:
 * C_in per group, and C_in_g * C_out_g. */
#define DC_TUNE_gemm_min_cin_per_group 16
#define DC_TUNE_gemm_min_channel_product 64
/* bound of the GEMM column buffer (the driver cuts the batch into chunks under it) */
#define DC_TUNE_cols_max_bytes (64 << 20)
/* bound of the column slab of conv gemm and wgrad gemm (kernels/frames/): it stays in
 * L2 between its copy and the matmul, and a backward call's memory stays within 10% of
 * its operands' */
#define DC_TUNE_frames_max_bytes (256 << 10)
/* conv gemm: whole images' columns side by side in one matmul, up to this many bytes
 * (a matmul with few columns streams the whole weight for them: memory-bound); 256
 * columns of a 4096-deep reduction in float32.  The planner gives conv gemm the layers
 * whose output rows are too short for the channels-last tiles (conv_gemm_max_row) when
 * at least two images' columns fit here. */
#define DC_TUNE_frames_batch_bytes (4 << 20)
#define DC_TUNE_conv_gemm_max_row 7
/* below this many MACs+outputs: 1 thread */
#define DC_TUNE_serial_max_work (1 << 15)
/* ... and below this many, the direct kernel: the SIMD kernels' per-call set-up
 * (weight packing, chunk tables, buffers: a few microseconds) outweighs their faster
 * loops */
#define DC_TUNE_blocked_min_work (1 << 12)
/* The gather right after a multithreaded BLAS call competes with BLAS worker threads
 * that are still spinning (OpenBLAS yields for ~0.1 s): with as many OpenMP threads as
 * cores that costs a scheduler time slice (~5 ms) per call.  So the gather runs on one
 * thread unless a chunk has this many tap additions. */
#define DC_TUNE_gather_parallel_min_work (1 << 24)
/* 1-D, dilation 1, kernel at least this long: GEMM in the taps-last orientation and an
 * overlap-add with contiguous runs instead of the phase-major gather (inverse STFT). */
#define DC_TUNE_ola_min_kernel 16
/* The conv and wgrad GEMM kernels multiply stride-long input blocks in place
 * (problem/dc_shapes.h dc_blocks_shape) when a block, C_in per group x stride, is
 * this long. */
#define DC_TUNE_blocks_min_reduction 64
/* Blocked kernel instead of GEMM for channel-heavy problems unless C_out per group
 * reaches this, or the width phase (output width / stride) is shorter than this. */
#define DC_TUNE_blocked_max_cout_per_group 48
#define DC_TUNE_blocked_min_phase_len 16
/* Depthwise kernel for C_in/groups == 1 up to this C_out/groups; from 2 output
 * channels per group the blocked kernel's shared input loads win. */
#define DC_TUNE_depthwise_max_cout_per_group 1
/* The forward convolution's depthwise kernel for C_in/groups == 1 and a stride above 1
 * up to this C_out/groups (from 16, 3x3 and 4x4 kernels at stride 2, the channels-last
 * tiles catch up). */
#define DC_TUNE_depthwise_conv_max_cout_per_group 8
/* Channels-last kernel when the output channels of a group fill at least this many
 * bytes of vectors (one AVX-512 vector, two AVX2 ones: fewer leave its tiles thin) and
 * the reduction behind each output element (input channels per group x taps reaching
 * it, on average) is at least chlast_min_reduction long. */
#define DC_TUNE_chlast_min_cout_bytes 64
#define DC_TUNE_chlast_min_reduction 16
/* The channels-last kernel reads the input planes in place (no channels-last copy) up
 * to this many input channels per group. */
#define DC_TUNE_chlast_planar_max_cin 8
/* Virtual-channel kernel, width stride >= 2, input rows of at least this many bytes:
 * up to vchan_max_cout_per_group_shallow output channels per group from
 * vchan_min_cin_per_group input channels per group, up to vchan_max_cout_per_group
 * from twice that (measured against the blocked kernel on this machine's AVX-512 and
 * AVX2 paths, 2 threads: 0.3-0.9x its time there; shallower reductions or wider
 * output groups lost as often as they won). */
#define DC_TUNE_vchan_min_row_bytes 128
#define DC_TUNE_vchan_min_cin_per_group 16
#define DC_TUNE_vchan_max_cout_per_group_shallow 2
#define DC_TUNE_vchan_max_cout_per_group 8

/* Weight gradient: the outer-product tiles when the wider operand's channels per group
 * fill half an AVX-512 vector (they go in the lanes) and the other has at least this
 * many to broadcast. */
#define DC_TUNE_outer_min_lane_bytes 32
#define DC_TUNE_outer_min_broadcast 1
/* ... unless neither operand has more than this many channels per group: then the
 * depthwise kernel's vectors along the positions, per channel pair (a few-channel
 * layer's 7x7 taps: 8 x 8 channels in the outer tiles' lanes fill half a vector). */
#define DC_TUNE_wgrad_depthwise_max_channels 8

#endif /* DC_TUNING_H */
