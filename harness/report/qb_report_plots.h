/* The report's plots: each writes its data as a tab-separated file under
 * RUN/plots/, renders it with a gnuplot script of plots/ into .png and .svg next to it,
 * and returns the image's base name (without extension) for the Markdown. A plot
 * without data is skipped (returns 0, name ""), a gnuplot failure is an error.
 *
 *   pareto_latency_<model>  drop vs end-to-end latency, one series per backend
 *   pareto_bytes_<model>    drop vs packed weight bytes
 *   layer_sqnr_<model>      per-layer SQNR heatmap, qconfigs x layers
 *   sensitivity_<model>     drop with only one layer quantized, per layer
 *   backends_<model>        end-to-end speed-up of each backend over scalar
 *   roofline                gbench kernels on this machine's measured roofline
 *   kernels                 gbench kernel families: speed-up over scalar per shape */
#ifndef QB_REPORT_PLOTS_H
#define QB_REPORT_PLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_error.h"
#include "qb_run_data.h"
#include "qb_run_index.h"

typedef struct {
  const char* dir;  /* RUN/plots (created by the caller) */
  bool render;      /* false: data files only (no gnuplot) */
} qb_plot_ctx;

typedef struct {
  char name[128]; /* base name, "" when skipped */
} qb_plot_out;

int qb_plot_pareto(const qb_plot_ctx* ctx, const qb_run_index* idx, const qb_model_summary* m,
                   bool by_bytes, qb_plot_out* out, qb_error* err);
int qb_plot_layer_sqnr(const qb_plot_ctx* ctx, const qb_run_data* run, const char* model,
                       qb_plot_out* out, qb_error* err);
int qb_plot_sensitivity(const qb_plot_ctx* ctx, const qb_run_data* run, const char* model,
                        qb_plot_out* out, qb_error* err);
int qb_plot_backends(const qb_plot_ctx* ctx, const qb_run_index* idx, const qb_model_summary* m,
                     qb_plot_out* out, qb_error* err);
/* ceilings: roofline JSON text (RUN/roofline.json or the per-machine cache), or NULL. */
int qb_plot_roofline(const qb_plot_ctx* ctx, const qb_run_data* run, const char* roofline_json,
                     qb_plot_out* out, qb_error* err);

/* Kernel families from gbench.json (qb_kernel_table.h), one panel each. */
int qb_plot_kernels(const qb_plot_ctx* ctx, const qb_run_data* run, qb_plot_out* out, qb_error* err);

/* A name safe for file names: [A-Za-z0-9_.-], others become '_'. */
void qb_plot_safe_name(const char* in, char* out, size_t size);

#endif
