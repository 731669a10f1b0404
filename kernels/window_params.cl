/*
 * window_params.cl: the defaults of the macros that describe a window
 * operator, shared by window_pool.cl, window_lanes.cl and
 * window_backward.cl. The library always passes every one of them as -D
 * options; the defaults only let a kernel file compile on its own (tools,
 * a quick check with an OpenCL compiler).
 *   POOL_OP                 1 max, 2 avg, 3 lp, 4 gem, 5 mixed, 6 softmax,
 *                           7 stochastic
 *   KD KH KW  SD SH SW  PD PH PW  DD DH DW   window, stride, padding,
 *                           dilation (depth, height, width)
 *   COUNT_PAD               avg/mixed: padding cells count in the divisor
 *   DIVISOR                 avg: fixed divisor, 0 for none
 *   TRAIN                   stochastic: 1 samples, 0 the weighted average
 *   HAS_INDICES, INDEX_T    indices (int or long)
 *   NHWC                    1 for channels-last tensors
 */
#ifndef POOL_OP
#define POOL_OP 1
#endif
#ifndef KD
#define KD 1
#endif
#ifndef KH
#define KH 2
#endif
#ifndef KW
#define KW 2
#endif
#ifndef SD
#define SD 1
#endif
#ifndef SH
#define SH 2
#endif
#ifndef SW
#define SW 2
#endif
#ifndef PD
#define PD 0
#endif
#ifndef PH
#define PH 0
#endif
#ifndef PW
#define PW 0
#endif
#ifndef DD
#define DD 1
#endif
#ifndef DH
#define DH 1
#endif
#ifndef DW
#define DW 1
#endif
#ifndef COUNT_PAD
#define COUNT_PAD 1
#endif
#ifndef DIVISOR
#define DIVISOR 0
#endif
#ifndef TRAIN
#define TRAIN 0
#endif
#ifndef HAS_INDICES
#define HAS_INDICES 0
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif
#ifndef NHWC
#define NHWC 0
#endif
