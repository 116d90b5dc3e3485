/* models/gpt_ckpt.c: HDF5 checkpoints (layout in models/FORMAT.md). */
#include "gpt.h"

#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT  "unlearnbench-gpt"
#define CKPT_VERSION 1

static ub_status write_tensors(hid_t g, const gpt_model *m, const float *buf, ub_err *e) {
    for (int i = 0; i < m->n_tensors; i++) {
        const gpt_tensor *t = &m->tensors[i];
        hsize_t dims[2] = {t->dims[0], t->dims[1]};
        ub_status st =
            ub_h5_write(g, t->name, H5T_NATIVE_FLOAT, buf + t->offset, t->rank, dims, 0, e);
        if (st) return st;
    }
    return UB_OK;
}

static ub_status write_group_tensors(hid_t loc, const char *name, const gpt_model *m,
                                     const float *buf, ub_err *e) {
    hid_t g = ub_h5_group(loc, name, e);
    if (g < 0) return UB_EIO;
    ub_status st = write_tensors(g, m, buf, e);
    H5Gclose(g);
    return st;
}

static ub_status write_train(hid_t f, const gpt_model *m, const gpt_train_cfg *c,
                             const gpt_train_state *s, ub_err *e) {
    ub_status st = UB_OK;
    float *zeros = NULL;
    const float *mm = m->m_mem, *vv = m->v_mem;
    if (!mm) { /* no step taken yet: the moments are zero */
        zeros = ub_calloc(m->n_params, sizeof(float), "zero moments", e);
        if (!zeros) return UB_ENOMEM;
        mm = vv = zeros;
    }
    hid_t g = ub_h5_group(f, "optim", e);
    if (g < 0) st = UB_EIO;
    if (!st) st = write_group_tensors(g, "m", m, mm, e);
    if (!st) st = write_group_tensors(g, "v", m, vv, e);
    if (!st) st = ub_h5_attr_i64(g, "step", m->adam_step, e);
    if (!st) st = ub_h5_attr_f64(g, "beta1", c->beta1, e);
    if (!st) st = ub_h5_attr_f64(g, "beta2", c->beta2, e);
    if (!st) st = ub_h5_attr_f64(g, "eps", c->eps, e);
    if (!st) st = ub_h5_attr_f64(g, "weight_decay", c->weight_decay, e);
    if (g >= 0) H5Gclose(g);
    free(zeros);
    if (st) return st;

    g = ub_h5_group(f, "train", e);
    if (g < 0) return UB_EIO;
    struct {
        const char *k;
        int64_t v;
    } ints[] = {{"seed", (int64_t)c->seed},
                {"step", s->step},
                {"steps", c->steps},
                {"warmup", c->warmup},
                {"batch", c->batch},
                {"accum", c->accum},
                {"ctx", c->ctx},
                {"ckpt_every", c->ckpt_every},
                {"epoch", s->epoch},
                {"pos", s->pos},
                {"n_tokens", (int64_t)s->n_tokens}};
    for (size_t i = 0; !st && i < sizeof ints / sizeof ints[0]; i++)
        st = ub_h5_attr_i64(g, ints[i].k, ints[i].v, e);
    struct {
        const char *k;
        double v;
    } dbls[] = {{"lr", c->lr}, {"min_lr", c->min_lr}, {"grad_clip", c->grad_clip}};
    for (size_t i = 0; !st && i < sizeof dbls / sizeof dbls[0]; i++)
        st = ub_h5_attr_f64(g, dbls[i].k, dbls[i].v, e);
    if (!st) st = ub_h5_attr_str(g, "tokens_sha256", s->tokens_sha256, e);
    hsize_t n = (hsize_t)s->step;
    if (!st) st = ub_h5_write(g, "loss", H5T_NATIVE_FLOAT, s->loss, 1, &n, 0, e);
    H5Gclose(g);
    return st;
}

ub_status gpt_save(const char *path, const gpt_model *m, const gpt_train_cfg *c,
                   const gpt_train_state *s, ub_err *e) {
    return gpt_save_notes(path, m, c, s, NULL, NULL, 0, e);
}

ub_status gpt_save_notes(const char *path, const gpt_model *m, const gpt_train_cfg *c,
                         const gpt_train_state *s, const char *const *names, const double *vals,
                         int n, ub_err *e) {
    ub_h5out o;
    ub_status st = ub_h5_create(&o, path, e);
    if (st) return st;
    hid_t f = o.file;
    const gpt_config *g = &m->cfg;
    if (!st) st = ub_h5_attr_str(f, "format", CKPT_FORMAT, e);
    if (!st) st = ub_h5_attr_i64(f, "format_version", CKPT_VERSION, e);
    if (!st) st = ub_h5_attr_str(f, "model_type", "gpt2", e);
    if (!st) st = ub_h5_attr_i64(f, "n_layer", g->n_layer, e);
    if (!st) st = ub_h5_attr_i64(f, "n_embd", g->n_embd, e);
    if (!st) st = ub_h5_attr_i64(f, "n_head", g->n_head, e);
    if (!st) st = ub_h5_attr_i64(f, "n_ctx", g->n_ctx, e);
    if (!st) st = ub_h5_attr_i64(f, "vocab_size", g->vocab_size, e);
    if (!st) st = ub_h5_attr_f64(f, "layer_norm_epsilon", KN_LN_EPS, e);
    if (!st) st = ub_h5_attr_str(f, "activation_function", "gelu_new", e);
    if (!st) st = ub_h5_attr_i64(f, "tie_word_embeddings", 1, e);
    if (!st) st = write_group_tensors(f, "params", m, m->params_mem, e);
    if (!st && c && s) st = write_train(f, m, c, s, e);
    for (int i = 0; !st && i < n; i++) st = ub_h5_attr_f64(f, names[i], vals[i], e);
    if (st) {
        ub_h5_abort(&o);
        return ub_fail(e, st, "%s: checkpoint not written", path);
    }
    return ub_h5_commit(&o, e);
}

static ub_status read_tensors(hid_t f, const char *group, const char *path, gpt_model *m,
                              float *buf, ub_err *e) {
    char name[160];
    for (int i = 0; i < m->n_tensors; i++) {
        const gpt_tensor *t = &m->tensors[i];
        hsize_t dims[2] = {t->dims[0], t->dims[1]};
        snprintf(name, sizeof name, "%s/%s", group, t->name);
        ub_status st =
            ub_h5_read(f, name, path, H5T_NATIVE_FLOAT, buf + t->offset, t->rank, dims, e);
        if (st) return st;
    }
    return UB_OK;
}

static ub_status read_i(hid_t obj, const char *k, const char *path, int64_t lo, int64_t hi,
                        int64_t *v, ub_err *e) {
    ub_status st = ub_h5_get_i64(obj, k, path, v, e);
    if (!st && (*v < lo || *v > hi))
        st = ub_fail(e, UB_EFORMAT, "%s: attribute %s = %lld out of range", path, k, (long long)*v);
    return st;
}

static ub_status read_train(hid_t f, const char *path, gpt_model *m, gpt_train_cfg *c,
                            gpt_train_state *s, ub_err *e) {
    hid_t g = H5Gopen2(f, "train", H5P_DEFAULT);
    if (g < 0) return ub_fail(e, UB_EFORMAT, "%s: /train cannot be opened", path);
    int64_t v[11];
    const char *keys[11] = {"seed", "step",       "steps", "warmup", "batch",   "accum",
                            "ctx",  "ckpt_every", "epoch", "pos",    "n_tokens"};
    ub_status st = UB_OK;
    for (int i = 0; !st && i < 11; i++)
        st = read_i(g, keys[i], path, i == 0 ? INT64_MIN : 0, INT64_MAX, &v[i], e);
    gpt_train_defaults(c);
    if (!st) {
        c->seed = (uint64_t)v[0];
        c->steps = v[2];
        c->warmup = v[3];
        c->batch = (int)v[4];
        c->accum = (int)v[5];
        c->ctx = (int)v[6];
        c->ckpt_every = v[7];
    }
    if (!st) st = ub_h5_get_f64(g, "lr", path, &c->lr, e);
    if (!st) st = ub_h5_get_f64(g, "min_lr", path, &c->min_lr, e);
    if (!st) st = ub_h5_get_f64(g, "grad_clip", path, &c->grad_clip, e);
    if (!st && v[1] > v[2])
        st = ub_fail(e, UB_EFORMAT, "%s: /train step %lld exceeds steps %lld", path,
                     (long long)v[1], (long long)v[2]);
    if (!st) st = gpt_train_check(c, &m->cfg, e);
    if (!st) st = gpt_train_state_init(s, c, NULL, e);
    if (!st) {
        s->step = v[1];
        s->epoch = v[8];
        s->pos = v[9];
        s->n_tokens = (size_t)v[10];
        st = ub_h5_get_str(g, "tokens_sha256", path, s->tokens_sha256, sizeof s->tokens_sha256, e);
    }
    hsize_t n = (hsize_t)s->step;
    if (!st) st = ub_h5_read(g, "loss", path, H5T_NATIVE_FLOAT, s->loss, 1, &n, e);
    H5Gclose(g);
    if (st) return st;

    g = H5Gopen2(f, "optim", H5P_DEFAULT);
    if (g < 0) return ub_fail(e, UB_EFORMAT, "%s: /optim is missing", path);
    int64_t step;
    st = read_i(g, "step", path, 0, INT64_MAX, &step, e);
    if (!st) st = ub_h5_get_f64(g, "beta1", path, &c->beta1, e);
    if (!st) st = ub_h5_get_f64(g, "beta2", path, &c->beta2, e);
    if (!st) st = ub_h5_get_f64(g, "eps", path, &c->eps, e);
    if (!st) st = ub_h5_get_f64(g, "weight_decay", path, &c->weight_decay, e);
    H5Gclose(g);
    if (!st) {
        m->adam_step = step;
        m->m_mem = ub_calloc(m->n_params, sizeof(float), "AdamW first moments", e);
        m->v_mem = ub_calloc(m->n_params, sizeof(float), "AdamW second moments", e);
        if (!m->m_mem || !m->v_mem) st = UB_ENOMEM;
    }
    if (!st) st = read_tensors(f, "optim/m", path, m, m->m_mem, e);
    if (!st) st = read_tensors(f, "optim/v", path, m, m->v_mem, e);
    if (!st) st = gpt_train_check(c, &m->cfg, e);
    return st;
}

static ub_status load(const char *path, gpt_model *m, const kn_tune *tune, gpt_train_cfg *c,
                     gpt_train_state *s, int *has_train, const char *const *names, double *vals,
                     int n, ub_err *e) {
    memset(m, 0, sizeof *m);
    if (s) memset(s, 0, sizeof *s);
    if (has_train) *has_train = 0;
    hid_t f;
    ub_status st = ub_h5_open(&f, path, e);
    if (st) return st;
    int64_t cf[5] = {0};
    const char *ck[5] = {"n_layer", "n_embd", "n_head", "n_ctx", "vocab_size"};
    st = ub_h5_check_format(f, path, CKPT_FORMAT, CKPT_VERSION, "checkpoint", e);
    for (int i = 0; !st && i < 5; i++)
        st = read_i(f, ck[i], path, 1, 1 << 24, &cf[i], e);
    gpt_config cfg = {(int)cf[0], (int)cf[1], (int)cf[2], (int)cf[3], (int)cf[4]};
    if (!st && gpt_config_check(&cfg, e)) st = ub_fail(e, UB_EFORMAT, "%s: bad model config", path);
    if (!st) st = gpt_build(m, &cfg, tune, e);
    if (!st) st = read_tensors(f, "params", path, m, m->params_mem, e);
    if (!st && c && s && ub_h5_exists(f, "train")) {
        st = read_train(f, path, m, c, s, e);
        if (!st && has_train) *has_train = 1;
    }
    for (int i = 0; !st && i < n; i++) st = ub_h5_get_f64(f, names[i], path, &vals[i], e);
    H5Fclose(f);
    if (st) {
        gpt_free(m);
        if (s) gpt_train_state_free(s);
    }
    return st;
}

ub_status gpt_load(const char *path, gpt_model *m, const kn_tune *tune, gpt_train_cfg *c,
                   gpt_train_state *s, int *has_train, ub_err *e) {
    return load(path, m, tune, c, s, has_train, NULL, NULL, 0, e);
}

ub_status gpt_load_notes(const char *path, gpt_model *m, const kn_tune *tune,
                         const char *const *names, double *vals, int n, ub_err *e) {
    return load(path, m, tune, NULL, NULL, NULL, names, vals, n, e);
}
