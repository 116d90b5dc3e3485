/* bench/unlearn/methods/registry.c: the registered methods, in report order. */
#include "ul_private.h"

#include <string.h>

const ul_method *const ul_methods[] = {
    &ul_finetune, &ul_gradient_ascent, &ul_gradient_difference, &ul_kl,
    &ul_npo,      &ul_relabel,         &ul_task_vector,         &ul_newton,
    &ul_simnpo,   &ul_undial,          &ul_whp,                 &ul_idkdpo,
    &ul_rmu,
};
const int ul_n_methods = (int)(sizeof ul_methods / sizeof ul_methods[0]);

const ul_method *ul_find(const char *name) {
    for (int i = 0; i < ul_n_methods; i++)
        if (strcmp(ul_methods[i]->name, name) == 0) return ul_methods[i];
    return NULL;
}
