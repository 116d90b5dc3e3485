/* bench/eval/eval_private.h: the metric functions the table's rows name (eval/metric_fns.c). */
#ifndef UB_EVAL_PRIVATE_H
#define UB_EVAL_PRIVATE_H

#include "eval.h"

ub_status ev_fn_loss(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_kl(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_post_mean(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_auc(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_tpr(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_auc_user(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_ks(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_secrets(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_know_top1(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_know_rank(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_gflop(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_memory(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_ppl_rel(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_privleak(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_privleak_muse(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_residual(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_above_ref(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_ulira(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_inference(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);
ub_status ev_fn_cost_rel(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e);

#endif
